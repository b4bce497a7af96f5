"""The SMTP sender: claims due deliveries, sends them, retries what can be retried."""

import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

import aiosmtplib
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from common.clock import Clock
from common.logging import get_logger
from common.messaging.kafka import backoff_seconds
from common.settings import SmtpSettings
from common.workers import PeriodicWorker, WakeChannel
from notifications.deliveries.email import build_message, wire_bytes
from notifications.deliveries.models import Channel, Delivery, DeliveryStatus

log = get_logger(__name__)

DELIVERY_OUTCOMES = Counter(
    "notification_deliveries_total",
    "Delivery attempts by notification kind and outcome (sent, retried, failed)",
    ["kind", "outcome"],
)
DELIVERIES_BY_STATUS = Gauge(
    "notification_deliveries_by_status", "Deliveries currently in each status", ["status"]
)
GAUGE_REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class SmtpOutcome:
    """How one send attempt ended."""

    sent: bool
    code: int | None
    reply: str
    # A server that answered this message (4xx) counts towards the attempt limit; an unreachable
    # or misconfigured one does not.
    answered: bool
    # The message itself was refused for good (a 5xx to its recipient or data), or cannot be
    # built at all: sending it again would only repeat the refusal.
    permanent: bool = False


# Replies to MAIL FROM about this message, not the session: it is larger than the server takes.
MESSAGE_TOO_LARGE = 552
# A reply to RCPT that means the session lacks authentication, not that the recipient is bad.
AUTHENTICATION_REQUIRED = 530


def outcome_of(exc: BaseException) -> SmtpOutcome:
    """Classify an error raised while a message was being handed over (MAIL, RCPT, DATA).

    Only the replies about this message decide its fate: a 5xx to its recipient or its data,
    or a 552 to its envelope (too large), fails it; a 4xx defers it. Any other refused
    envelope sender, an authentication demand, like a lost connection, says nothing about the
    message — every message would meet it — and is an outage.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused) and exc.code != AUTHENTICATION_REQUIRED:
        return _answered(exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return _answered(exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused) and exc.code == MESSAGE_TOO_LARGE:
        return _answered(exc.code, exc.message)
    return session_outcome(exc)


def session_outcome(exc: BaseException) -> SmtpOutcome:
    """An error of the SMTP session rather than of a message: connecting, the greeting, EHLO,
    STARTTLS, AUTH or the envelope sender. Every queued message waits for the server to come
    back (or be configured right), whatever the reply code; nothing fails for it."""
    if isinstance(exc, aiosmtplib.SMTPResponseException) and not isinstance(
        exc, aiosmtplib.SMTPServerDisconnected
    ):
        return SmtpOutcome(False, exc.code, exc.message[:1000], answered=False)
    return SmtpOutcome(False, None, f"{type(exc).__name__}: {exc}"[:1000], answered=False)


def envelope_address(address: str) -> str:
    """The address as the SMTP envelope carries it: a domain in Cyrillic (info@минцифры.рф)
    in its IDNA form (info@xn--...); raises ValueError when it cannot be written in ASCII."""
    mailbox, _, domain = address.rpartition("@")
    if not domain.isascii():
        address = f"{mailbox}@{domain.encode('idna').decode('ascii')}"
    address.encode("ascii")  # a mailbox name in Cyrillic needs SMTPUTF8, which is not asked for
    return address


def unsendable(what: str, exc: BaseException) -> SmtpOutcome:
    """A message no server will ever take (its headers or its address cannot be written)."""
    return SmtpOutcome(False, None, f"{what}: {exc}"[:1000], answered=True, permanent=True)


def _answered(code: int, message: str) -> SmtpOutcome:
    return SmtpOutcome(False, code, message, answered=True, permanent=500 <= code < 600)


def is_permanent(outcome: SmtpOutcome) -> bool:
    """The message was refused for good; retrying would only repeat the refusal."""
    return outcome.permanent


class DeliverySender(PeriodicWorker):
    """A worker sending pending immediate deliveries whose time has come.

    Woken by the NOTIFY that inserting a due delivery sends (`DUE_CHANNEL`), otherwise polling.
    One SMTP connection serves consecutive batches and is closed once idle for `smtp_idle`
    seconds, well inside the few minutes servers wait before dropping a quiet client.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        smtp: SmtpSettings,
        clock: Clock,
        *,
        batch_size: int,
        poll_interval: float,
        retry_base: float,
        retry_max: float,
        max_attempts: int,
        smtp_idle: float,
        wake_channel: WakeChannel | None = None,
    ) -> None:
        super().__init__(interval=poll_interval, wake_channel=wake_channel)
        self._sessions = sessions
        self._smtp = smtp
        self._clock = clock
        self._batch_size = batch_size
        self._retry_base = retry_base
        self._retry_max = retry_max
        self._max_attempts = max_attempts
        self._smtp_idle = smtp_idle
        self._client: aiosmtplib.SMTP | None = None
        self._client_used_at = 0.0
        self._gauges_at: float | None = None
        self._envelope_sender = parseaddr(smtp.sender)[1] or smtp.sender

    async def run(self) -> None:
        """Send until stopped, then say goodbye to the SMTP server."""
        try:
            await super().run()
        finally:
            await self._disconnect()

    async def tick(self) -> None:
        """Send batches until no due delivery is left (or stopping), then refresh the gauges."""
        while not self.stopping:
            if await self.send_due() < self._batch_size:
                break
        if self._client is not None and time.monotonic() - self._client_used_at > self._smtp_idle:
            await self._disconnect()
        await self._refresh_gauges()

    async def send_due(self) -> int:
        """Send one batch of due deliveries; the row locks keep other replicas off them."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            batch = (
                (
                    await session.exec(
                        select(Delivery)
                        .where(
                            Delivery.status == DeliveryStatus.pending.value,
                            Delivery.channel == Channel.immediate.value,
                            Delivery.due_at <= now,
                        )
                        .order_by(Delivery.due_at, Delivery.created_at)
                        .limit(self._batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            for index, delivery in enumerate(batch):
                outcome = await self._send(delivery)
                self._settle(delivery, outcome)
                session.add(delivery)
                if not outcome.sent and not outcome.answered:
                    # The server is away or refuses the session: the rest would meet the same,
                    # so they wait as long as this one, untried.
                    for waiting in batch[index + 1 :]:
                        waiting.due_at = delivery.due_at
                        session.add(waiting)
                    break
        return len(batch)

    async def _send(self, delivery: Delivery) -> SmtpOutcome:
        """One attempt, over the open connection or a new one.

        A connection kept from earlier batches may have been dropped by the server meanwhile
        (an idle timeout, a restart): a session error on it is tried once more on a fresh one.
        """
        try:
            wire = wire_bytes(self._message(delivery))
        except (ValueError, TypeError) as exc:
            # A header the email library refuses (such as a line break in it): no server will
            # ever take this message, and it must not hold up the others.
            return unsendable("the message cannot be built", exc)
        try:
            recipient = envelope_address(delivery.recipient)
        except ValueError as exc:
            # A non-ASCII mailbox name, a domain IDNA refuses: no server will ever take it.
            return unsendable("the address cannot be sent to", exc)
        reused = self._client is not None
        outcome = await self._hand_over(recipient, wire)
        if not outcome.answered and reused:
            outcome = await self._hand_over(recipient, wire)
        return outcome

    async def _hand_over(self, recipient: str, wire: bytes) -> SmtpOutcome:
        try:
            if self._client is None:
                self._client = await self._connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return session_outcome(exc)
        try:
            await self._client.sendmail(self._envelope_sender, [recipient], wire)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # After a refusal the session state is unclear; a fresh one is cheap.
            await self._disconnect()
            return outcome_of(exc)
        self._client_used_at = time.monotonic()
        return SmtpOutcome(True, 250, "OK", True)

    def _message(self, delivery: Delivery):
        return build_message(
            sender=self._smtp.sender,
            recipient=delivery.recipient,
            subject=delivery.subject,
            text=delivery.body_text,
            html=delivery.body_html,
            message_id=delivery.message_id,
            thread_message_id=delivery.thread_message_id,
            date_sent=self._clock.now(),
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self._smtp.host,
            port=self._smtp.port,
            use_tls=self._smtp.use_tls,
            start_tls=self._smtp.starttls,
            timeout=self._smtp.timeout_seconds,
        )
        await client.connect()
        if self._smtp.username:
            try:
                await client.login(self._smtp.username, self._smtp.password or "")
            except BaseException:
                client.close()  # refused credentials must not leave the socket open
                raise
        return client

    async def _disconnect(self) -> None:
        if self._client is None:
            return
        client, self._client = self._client, None
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

    def _settle(self, delivery: Delivery, outcome: SmtpOutcome) -> None:
        """Record an attempt: sent, failed for good, or due again after a backoff."""
        now = self._clock.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_smtp_code = outcome.code
        delivery.last_smtp_reply = outcome.reply[:1000]
        fields = {"delivery_id": str(delivery.id), "recipient": delivery.recipient}
        if outcome.sent:
            delivery.status = DeliveryStatus.sent.value
            delivery.sent_at = now
            DELIVERY_OUTCOMES.labels(delivery.kind, "sent").inc()
            log.info("email sent", message_id=delivery.message_id, **fields)
            return
        exhausted = outcome.answered and delivery.attempts >= self._max_attempts
        if is_permanent(outcome) or exhausted:
            delivery.status = DeliveryStatus.failed.value
            DELIVERY_OUTCOMES.labels(delivery.kind, "failed").inc()
            log.error("email failed", code=outcome.code, reply=outcome.reply, **fields)
            return
        delay = backoff_seconds(delivery.attempts, self._retry_max, base=self._retry_base)
        delivery.due_at = now + timedelta(seconds=delay)
        DELIVERY_OUTCOMES.labels(delivery.kind, "retried").inc()
        log.warning(
            "email deferred", code=outcome.code, reply=outcome.reply, retry_in=delay, **fields
        )

    async def _refresh_gauges(self) -> None:
        # Wall time, not the service clock: a test's frozen clock must not freeze the metrics.
        now = time.monotonic()
        if self._gauges_at is not None and now - self._gauges_at < GAUGE_REFRESH_SECONDS:
            return
        self._gauges_at = now
        async with self._sessions() as session:
            counts = dict(
                (
                    await session.exec(
                        select(Delivery.status, func.count()).group_by(Delivery.status)
                    )
                ).all()
            )
        for status in DeliveryStatus:
            DELIVERIES_BY_STATUS.labels(status.value).set(counts.get(status.value, 0))
