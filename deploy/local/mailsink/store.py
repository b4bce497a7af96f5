"""Message storage for the sink: raw messages kept on disk, rendered in Mailpit's JSON shapes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

log = logging.getLogger("mailsink.store")

# Mailpit's database IDs are 22-character "shortuuid"s over this base57 alphabet.
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_SNIPPET_LIMIT = 200
_FOLDED_LINE = re.compile(r"\r?\n[ \t]+")
_WHITESPACE = re.compile(r"\s+")
_ANGLE_LINKS = re.compile(r"<([^>]+)>")
_ADDRESS_FIELDS = {"from": "From", "to": "To", "cc": "Cc", "bcc": "Bcc", "reply-to": "Reply-To"}
_BLOCK_TAGS = {"br", "p", "div", "li", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6", "table"}
_HIDDEN_TAGS = {"script", "style", "head", "title"}


def new_id() -> str:
    """Return a random ID shaped like Mailpit's database IDs."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def rfc3339(moment: datetime) -> str:
    """Format a timestamp as Go's RFC3339Nano does: no trailing zeros, UTC written as Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    if fraction:
        text += "." + fraction
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def canonical_header_key(name: str) -> str:
    """Spell a header name as Go's textproto does (Message-Id, Content-Type), as Mailpit returns."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track hidden elements and keep block boundaries as spaces."""
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        """Leave a hidden element."""
        if tag in _HIDDEN_TAGS and self._hidden_depth:
            self._hidden_depth -= 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        """Keep text that a reader would see."""
        if not self._hidden_depth:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Return the visible text of an HTML body with whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return _WHITESPACE.sub(" ", "".join(parser.chunks)).strip()


def snippet(text: str, html: str) -> str:
    """Build Mailpit's snippet: up to 200 characters of the HTML's text, else of the plain text."""
    source = html_to_text(html) if html.strip() else _WHITESPACE.sub(" ", text).strip()
    if len(source) <= _SNIPPET_LIMIT:
        return source
    return source[:_SNIPPET_LIMIT] + "..."


def _part_text(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):
        # An unknown or lying charset must not make the message unreadable in the API.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _leaf_parts(message: EmailMessage) -> list[tuple[str, EmailMessage]]:
    """List the non-multipart parts with dotted part IDs (1, 2, 2.1, ...) as Mailpit numbers them."""
    if not message.is_multipart():
        return [("1", message)]
    leaves: list[tuple[str, EmailMessage]] = []

    def walk(node: EmailMessage, prefix: str) -> None:
        for index, child in enumerate(node.iter_parts(), start=1):
            part_id = f"{prefix}.{index}" if prefix else str(index)
            if child.is_multipart():
                walk(child, part_id)
            else:
                leaves.append((part_id, child))

    walk(message, "")
    return leaves


def _addresses_in(message: EmailMessage, header: str) -> list[JSON]:
    found: list[JSON] = []
    for value in message.get_all(header) or []:
        parsed = getattr(value, "addresses", None)
        if parsed is None:
            found += [{"Name": name, "Address": addr} for name, addr in getaddresses([str(value)])]
        else:
            found += [{"Name": a.display_name, "Address": a.addr_spec} for a in parsed]
    return [entry for entry in found if entry["Address"]]


def prepare_raw(raw: bytes, sender: str, recipients: list[str]) -> bytes:
    """Add the headers Mailpit adds on receipt: Return-Path, a missing Message-ID, hidden Bcc."""
    headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    added: list[str] = []
    if (headers.get("Return-Path") or "").strip().strip("<>") != sender:
        added.append(f"Return-Path: <{sender}>")
    if not (headers.get("Message-ID") or "").strip():
        added.append(f"Message-ID: <{new_id()}@mailsink>")
    visible = {
        entry["Address"].lower()
        for name in ("To", "Cc", "Bcc")
        for entry in _addresses_in(headers, name)
    }
    hidden = [rcpt for rcpt in recipients if rcpt.lower() not in visible]
    if hidden:
        # Mailpit records envelope-only recipients as Bcc so tests can see who really got it.
        existing = [entry["Address"] for entry in _addresses_in(headers, "Bcc")]
        added.append("Bcc: " + ", ".join(existing + hidden))
        raw = _drop_header(raw, "Bcc")
    if not added:
        return raw
    return "".join(line + "\r\n" for line in added).encode() + raw


def _drop_header(raw: bytes, name: str) -> bytes:
    """Remove every occurrence of a header from a raw message, continuation lines included."""
    prefix = name.lower().encode() + b":"
    lines = raw.splitlines(keepends=True)
    kept: list[bytes] = []
    dropping = False
    for index, line in enumerate(lines):
        if line in (b"\r\n", b"\n"):
            return b"".join(kept + lines[index:])
        if line[:1] not in (b" ", b"\t"):
            dropping = line.lower().startswith(prefix)
        if not dropping:
            kept.append(line)
    return b"".join(kept)


@dataclass
class StoredMessage:
    """One received message: the bytes as stored plus what the SMTP session said."""

    id: str
    created: datetime
    sender: str
    recipients: list[str]
    raw: bytes
    username: str = ""
    read: bool = False
    parsed: EmailMessage = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.parsed = BytesParser(policy=policy.default).parsebytes(self.raw)

    @property
    def message_id(self) -> str:
        """The Message-ID header without angle brackets."""
        return str(self.parsed.get("Message-ID") or "").strip().strip("<>")

    @property
    def subject(self) -> str:
        """The decoded Subject header."""
        return str(self.parsed.get("Subject") or "")

    def addresses(self, header: str) -> list[JSON]:
        """The Name/Address pairs of an address header."""
        return _addresses_in(self.parsed, header)

    @cached_property
    def bodies(self) -> tuple[str, str]:
        """The plain-text and HTML bodies; like Mailpit, text is derived from HTML when absent."""
        html_part = self.parsed.get_body(preferencelist=("html",))
        text_part = self.parsed.get_body(preferencelist=("plain",))
        # Bodies travel with CRLF line ends; readers and assertions expect plain newlines.
        html = _part_text(html_part).replace("\r\n", "\n") if html_part is not None else ""
        text = _part_text(text_part).replace("\r\n", "\n") if text_part is not None else ""
        return (text or html_to_text(html)), html

    @cached_property
    def files(self) -> tuple[list[JSON], list[JSON]]:
        """The inline parts and the attachments, described as Mailpit describes them."""
        body_parts = {
            id(part)
            for part in (
                self.parsed.get_body(preferencelist=("plain",)),
                self.parsed.get_body(preferencelist=("html",)),
            )
            if part is not None
        }
        inline: list[JSON] = []
        attachments: list[JSON] = []
        for part_id, part in _leaf_parts(self.parsed):
            if id(part) in body_parts:
                continue
            disposition = part.get_content_disposition()
            content_id = str(part.get("Content-ID") or "").strip().strip("<>")
            if disposition == "attachment" or (part.get_filename() and disposition != "inline"):
                attachments.append(_describe_part(part_id, part, content_id))
            elif disposition == "inline" or content_id:
                inline.append(_describe_part(part_id, part, content_id))
        return inline, attachments

    def part(self, part_id: str) -> EmailMessage | None:
        """The leaf part with this dotted ID, if any."""
        return dict(_leaf_parts(self.parsed)).get(part_id)

    def date(self) -> datetime:
        """The Date header when it parses, else the time of receipt."""
        try:
            value = self.parsed.get("Date")
            return parsedate_to_datetime(str(value)) if value else self.created
        except (TypeError, ValueError):
            return self.created

    def summary(self) -> JSON:
        """This message as an item of Mailpit's GET /api/v1/messages list."""
        text, html = self.bodies
        inline, attachments = self.files
        return {
            "ID": self.id,
            "MessageID": self.message_id,
            "Read": self.read,
            "From": next(iter(self.addresses("From")), None),
            "To": self.addresses("To"),
            "Cc": self.addresses("Cc"),
            "Bcc": self.addresses("Bcc"),
            "ReplyTo": self.addresses("Reply-To"),
            "Subject": self.subject,
            "Created": rfc3339(self.created),
            "Username": self.username,
            "Tags": [],
            "Size": len(self.raw),
            "Attachments": len(attachments) + len(inline),
            "Snippet": snippet(text, html),
        }

    def detail(self) -> JSON:
        """This message as Mailpit's GET /api/v1/message/{ID} returns it."""
        text, html = self.bodies
        inline, attachments = self.files
        unsubscribe = str(self.parsed.get("List-Unsubscribe") or "")
        return {
            "ID": self.id,
            "MessageID": self.message_id,
            "From": next(iter(self.addresses("From")), None),
            "To": self.addresses("To"),
            "Cc": self.addresses("Cc"),
            "Bcc": self.addresses("Bcc"),
            "ReplyTo": self.addresses("Reply-To"),
            "ReturnPath": self.sender,
            "Subject": self.subject,
            "ListUnsubscribe": {
                "Header": unsubscribe,
                "Links": _ANGLE_LINKS.findall(unsubscribe),
                "Errors": "",
                "HeaderPost": str(self.parsed.get("List-Unsubscribe-Post") or ""),
            },
            "Date": rfc3339(self.date()),
            "Tags": [],
            "Username": self.username,
            "Text": text,
            "HTML": html,
            "Size": len(self.raw),
            "Inline": inline,
            "Attachments": attachments,
        }

    def headers(self) -> dict[str, list[str]]:
        """The raw header values by canonical name, keys sorted, as Mailpit's headers endpoint."""
        parsed = BytesParser(policy=policy.compat32).parsebytes(self.raw, headersonly=True)
        found: dict[str, list[str]] = {}
        for name, value in parsed.items():
            found.setdefault(canonical_header_key(name), []).append(
                _FOLDED_LINE.sub(" ", str(value)).strip()
            )
        return dict(sorted(found.items()))

    def matches(self, query: str) -> bool:
        """Whether the message matches a search in a subset of Mailpit's search syntax."""
        try:
            words = shlex.split(query)
        except ValueError:
            words = query.split()
        for word in words:
            negated = len(word) > 1 and word[0] in "-!"
            if self._matches_word(word[1:] if negated else word) == negated:
                return False
        return True

    def _matches_word(self, word: str) -> bool:
        key, colon, value = word.partition(":")
        key = key.lower()
        needle = value.lower()
        if colon and key in _ADDRESS_FIELDS:
            haystack = " ".join(
                f"{entry['Name']} <{entry['Address']}>"
                for entry in self.addresses(_ADDRESS_FIELDS[key])
            )
        elif colon and key == "subject":
            haystack = self.subject
        elif colon and key == "message-id":
            haystack = self.message_id
        elif colon and key == "is" and needle in ("read", "unread"):
            return self.read == (needle == "read")
        else:
            needle = word.lower()
            text, html = self.bodies
            haystack = " ".join(
                [self.subject, self.message_id, text, html_to_text(html)]
                + [
                    f"{entry['Name']} {entry['Address']}"
                    for header in _ADDRESS_FIELDS.values()
                    for entry in self.addresses(header)
                ]
            )
        return needle in haystack.lower()


def _describe_part(part_id: str, part: EmailMessage, content_id: str) -> JSON:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return {
        "PartID": part_id,
        "FileName": part.get_filename() or "",
        "ContentType": part.get_content_type(),
        "ContentID": content_id,
        "Size": len(data),
        "Checksums": {
            "MD5": hashlib.md5(data).hexdigest(),
            "SHA1": hashlib.sha1(data).hexdigest(),
            "SHA256": hashlib.sha256(data).hexdigest(),
        },
    }


class MailStore:
    """Keeps messages in memory and, when given a folder, on disk so a restart loses nothing."""

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder
        # Insertion order is arrival order; the API lists newest first.
        self._messages: dict[str, StoredMessage] = {}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self._load(folder)

    def _load(self, folder: Path) -> None:
        loaded: list[StoredMessage] = []
        for meta_path in folder.glob("*.json"):
            try:
                meta = json.loads(meta_path.read_text())
                loaded.append(
                    StoredMessage(
                        id=meta["ID"],
                        created=datetime.fromisoformat(meta["Created"]),
                        sender=meta["Sender"],
                        recipients=list(meta["Recipients"]),
                        raw=meta_path.with_suffix(".eml").read_bytes(),
                        username=meta.get("Username", ""),
                        read=bool(meta.get("Read", False)),
                    )
                )
            except (OSError, ValueError, KeyError) as error:
                log.warning("skipping unreadable stored message %s: %s", meta_path.name, error)
        for message in sorted(loaded, key=lambda m: m.created):
            self._messages[message.id] = message
        log.info("loaded %d stored messages from %s", len(loaded), folder)

    def _write(self, message: StoredMessage) -> None:
        if self._folder is None:
            return
        meta = {
            "ID": message.id,
            "Created": message.created.isoformat(),
            "Sender": message.sender,
            "Recipients": message.recipients,
            "Username": message.username,
            "Read": message.read,
        }
        # The .json file is written last: a message counts as stored only once it exists.
        for suffix, content in ((".eml", message.raw), (".json", json.dumps(meta).encode())):
            target = self._folder / f"{message.id}{suffix}"
            temporary = target.with_name(target.name + ".tmp")
            temporary.write_bytes(content)
            os.replace(temporary, target)

    def add(
        self, raw: bytes, sender: str, recipients: list[str], username: str = ""
    ) -> StoredMessage:
        """Store a message received over SMTP and return it."""
        message = StoredMessage(
            id=new_id(),
            created=datetime.now(UTC),
            sender=sender,
            recipients=recipients,
            raw=prepare_raw(raw, sender, recipients),
            username=username,
        )
        self._write(message)
        self._messages[message.id] = message
        return message

    def newest_first(self) -> list[StoredMessage]:
        """All messages, newest first, as Mailpit lists them."""
        return list(reversed(self._messages.values()))

    def get(self, message_id: str) -> StoredMessage | None:
        """One message by ID, or the newest for the ID "latest"."""
        if message_id == "latest":
            return next(reversed(self._messages.values()), None)
        return self._messages.get(message_id)

    def mark_read(self, message: StoredMessage) -> None:
        """Record that the message was opened, as Mailpit does on GET /api/v1/message/{ID}."""
        if not message.read:
            message.read = True
            self._write(message)

    def delete(self, message_ids: list[str] | None) -> None:
        """Delete the listed messages, or all of them when given None."""
        targets = list(self._messages) if message_ids is None else message_ids
        for message_id in targets:
            if self._messages.pop(message_id, None) is None:
                continue
            if self._folder is not None:
                for suffix in (".json", ".eml"):
                    (self._folder / f"{message_id}{suffix}").unlink(missing_ok=True)

    def unread(self) -> int:
        """How many stored messages were never opened."""
        return sum(1 for message in self._messages.values() if not message.read)

    def __len__(self) -> int:
        return len(self._messages)
