"""The SMTP sink of the local stack (deploy/local/mailsink) against Mailpit's API contract.

The shared sink started by `make up` is only read and has only its own messages deleted, since
other tests use it at the same time; chaos and delete-all run on a private sink.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiosmtplib
import httpx
import pytest

from tests.integration.local_infra_helpers import PrivateMailSink, eventually
from tests.support.infra import MAIL_API_URL, SMTP_HOST, SMTP_PORT

pytestmark = pytest.mark.integration


def letter(token: str, *, to: str = "Отдел цифры <digital@example.ru>") -> EmailMessage:
    """A multipart message that carries a unique token in its subject and bodies."""
    message = EmailMessage()
    message["From"] = "Мониторинг стратегий <monitoring@strategy.example.ru>"
    message["To"] = to
    message["Cc"] = "copy@example.ru"
    message["Subject"] = f"Проект просрочен {token}"
    message["X-Test-Token"] = token
    message.set_content(f"Срок вехи истёк. {token}")
    message.add_alternative(f"<p>Срок вехи <b>истёк</b>. {token}</p>", subtype="html")
    return message


async def find(client: httpx.AsyncClient, api: str, token: str) -> dict[str, Any] | None:
    """The list item of the message whose subject carries the token, if it has arrived."""
    listing = (await client.get(f"{api}/api/v1/messages", params={"limit": 500})).json()
    return next((m for m in listing["messages"] if token in m["Subject"]), None)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the sinks' APIs."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def private_sink(tmp_path: Path) -> AsyncIterator[PrivateMailSink]:
    """A sink of this test's own, stopped afterwards."""
    sink = PrivateMailSink(tmp_path / "messages")
    await sink.start()
    yield sink
    await sink.stop()


async def test_shared_sink_serves_a_received_message_like_mailpit(http: httpx.AsyncClient) -> None:
    token = uuid4().hex
    await aiosmtplib.send(
        letter(token),
        hostname=SMTP_HOST,
        port=SMTP_PORT,
        recipients=["digital@example.ru", "copy@example.ru", "hidden@example.ru"],
    )

    summary = await eventually(lambda: find(http, MAIL_API_URL, token), "the message in the list")
    listing = (await http.get(f"{MAIL_API_URL}/api/v1/messages")).json()
    assert {"total", "unread", "count", "messages_count", "start", "messages"} <= listing.keys()
    assert summary["From"] == {
        "Name": "Мониторинг стратегий",
        "Address": "monitoring@strategy.example.ru",
    }
    assert summary["To"] == [{"Name": "Отдел цифры", "Address": "digital@example.ru"}]
    assert summary["Cc"] == [{"Name": "", "Address": "copy@example.ru"}]
    assert summary["Bcc"] == [{"Name": "", "Address": "hidden@example.ru"}]
    assert summary["Subject"] == f"Проект просрочен {token}"
    assert summary["Snippet"] == f"Срок вехи истёк. {token}"
    assert summary["Size"] > 0 and summary["Created"] and summary["MessageID"]
    assert summary["Read"] is False

    detail = (await http.get(f"{MAIL_API_URL}/api/v1/message/{summary['ID']}")).json()
    assert detail["ID"] == summary["ID"]
    assert detail["MessageID"] == summary["MessageID"]
    assert detail["Text"].strip() == f"Срок вехи истёк. {token}"
    assert detail["HTML"].strip() == f"<p>Срок вехи <b>истёк</b>. {token}</p>"
    assert detail["ReturnPath"] == "monitoring@strategy.example.ru"
    assert detail["Attachments"] == [] and detail["Inline"] == []

    headers = (await http.get(f"{MAIL_API_URL}/api/v1/message/{summary['ID']}/headers")).json()
    assert headers["X-Test-Token"] == [token]
    assert headers["Message-Id"] == [f"<{summary['MessageID']}>"]
    assert list(headers) == sorted(headers)

    found = await http.get(f"{MAIL_API_URL}/api/v1/search", params={"query": f"bcc:hidden {token}"})
    assert [m["ID"] for m in found.json()["messages"]] == [summary["ID"]]

    deleted = await http.request(
        "DELETE", f"{MAIL_API_URL}/api/v1/messages", json={"IDs": [summary["ID"]]}
    )
    assert deleted.status_code == 200 and deleted.text == "ok"
    assert (await http.get(f"{MAIL_API_URL}/api/v1/message/{summary['ID']}")).status_code == 404
    assert await find(http, MAIL_API_URL, token) is None


async def test_shared_sink_accepts_smtplib_with_no_chaos_active(
    http: httpx.AsyncClient,
) -> None:
    token = uuid4().hex

    def send() -> None:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as client:
            client.send_message(letter(token, to="head@example.ru"))

    await asyncio.to_thread(send)
    summary = await eventually(lambda: find(http, MAIL_API_URL, token), "the message in the list")
    assert summary["To"] == [{"Name": "", "Address": "head@example.ru"}]
    await http.request("DELETE", f"{MAIL_API_URL}/api/v1/messages", json={"IDs": [summary["ID"]]})

    # Real Mailpit started without --enable-chaos answers 400; the sink has chaos always on.
    chaos = await http.get(f"{MAIL_API_URL}/api/v1/chaos")
    if chaos.status_code != 400:
        assert {trigger["Probability"] for trigger in chaos.json().values()} == {0}


async def test_chaos_answers_451_and_550_then_recovers(
    private_sink: PrivateMailSink, http: httpx.AsyncClient
) -> None:
    api, port = private_sink.api_url, private_sink.smtp_port

    async def set_chaos(triggers: dict[str, Any]) -> dict[str, Any]:
        response = await http.put(f"{api}/api/v1/chaos", json=triggers)
        assert response.status_code == 200, response.text
        return response.json()

    configured = await set_chaos({"Recipient": {"ErrorCode": 451, "Probability": 100}})
    assert configured["Recipient"] == {"ErrorCode": 451, "Probability": 100}
    assert configured["Sender"] == {"ErrorCode": 451, "Probability": 0}
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await aiosmtplib.send(letter("temporary"), hostname="127.0.0.1", port=port)
    assert {error.code for error in refused.value.recipients} == {451}

    await set_chaos({"Sender": {"ErrorCode": 550, "Probability": 100}})
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as sender_refused:
        await aiosmtplib.send(letter("permanent"), hostname="127.0.0.1", port=port)
    assert sender_refused.value.code == 550

    await set_chaos({"Authentication": {"ErrorCode": 535, "Probability": 100}})
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as auth_refused:
        await aiosmtplib.send(
            letter("auth"), hostname="127.0.0.1", port=port, username="u", password="p"
        )
    assert auth_refused.value.code == 535

    invalid = await http.put(f"{api}/api/v1/chaos", json={"Sender": {"ErrorCode": 200}})
    assert invalid.status_code == 400
    assert (await http.get(f"{api}/api/v1/chaos")).json()["Authentication"]["Probability"] == 100

    assert {t["Probability"] for t in (await set_chaos({})).values()} == {0}
    await aiosmtplib.send(
        letter("recovered"), hostname="127.0.0.1", port=port, username="u", password="p"
    )
    listing = (await http.get(f"{api}/api/v1/messages")).json()
    assert [m["Subject"] for m in listing["messages"]] == ["Проект просрочен recovered"]
    assert listing["messages"][0]["Username"] == "u"


async def test_pagination_delete_all_and_restart(
    private_sink: PrivateMailSink, http: httpx.AsyncClient
) -> None:
    api = private_sink.api_url
    for number in range(5):
        await aiosmtplib.send(
            letter(f"n{number}"), hostname="127.0.0.1", port=private_sink.smtp_port
        )

    page = (await http.get(f"{api}/api/v1/messages", params={"start": 1, "limit": 2})).json()
    assert (page["total"], page["messages_count"], page["count"], page["start"]) == (5, 5, 2, 1)
    assert [m["Subject"][-2:] for m in page["messages"]] == ["n3", "n2"]

    latest = (await http.get(f"{api}/api/v1/message/latest")).json()
    assert latest["Subject"].endswith("n4")
    assert (await http.get(f"{api}/api/v1/messages")).json()["unread"] == 4

    # A restart keeps every message, and what was read stays read.
    await private_sink.stop()
    await private_sink.start()
    after = (await http.get(f"{api}/api/v1/messages")).json()
    assert (after["total"], after["unread"]) == (5, 4)

    assert (await http.delete(f"{api}/api/v1/messages")).text == "ok"
    assert (await http.get(f"{api}/api/v1/messages")).json()["total"] == 0
    assert list(private_sink.data_dir.iterdir()) == []
