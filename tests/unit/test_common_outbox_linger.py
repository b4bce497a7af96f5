"""The outbox relay lingers for a stream of commits, never for the first after a quiet spell."""

from common.messaging.outbox import OutboxRelay


def relay(linger: float) -> OutboxRelay:
    # Nothing connects until run(): the engine and addresses are never used here.
    return OutboxRelay(None, dsn="", bootstrap_servers=[], client_id="test", linger=linger)


def test_a_relay_that_never_published_publishes_the_first_commit_at_once():
    assert not relay(0.02).lingers(now=1000.0)


def test_a_commit_soon_after_a_publish_waits_for_the_ones_behind_it():
    busy = relay(0.02)
    busy.published(now=1000.0)
    assert busy.lingers(now=1000.01)


def test_a_commit_after_a_quiet_spell_is_published_at_once():
    quiet = relay(0.02)
    quiet.published(now=1000.0)
    assert not quiet.lingers(now=1000.05)


def test_without_linger_no_commit_waits():
    eager = relay(0.0)
    eager.published(now=1000.0)
    assert not eager.lingers(now=1000.0)
