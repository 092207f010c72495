"""Reading Clickatell's delivery-status and reply (MO) callbacks into typed, immutable events.

Clickatell calls an URL you configure per integration, by GET (fields in the query string) or by
POST (a JSON body, or a form). This module turns any of those into a typed, immutable event; the
WSGI app that receives them over HTTP is `receiver.CallbackReceiver`.

Three rules shape it:

* Nothing is dropped. Fields we do not know land in `extra`; the parsed input stays in `raw`.
* Nothing we can still read is refused. Unknown status names, unknown charsets and undecodable
  text come through (with replacement characters, and the original bytes in `text_bytes`). Only a
  callback without `messageId` is an error, because nobody could match it to a message.
* Reply text is bytes in the message's charset, percent-encoded. With `charset=UTF-16BE`,
  `text=%00h%00i` is "hi"; with `ISO-8859-1`, `caf%E9` is "café". So the query string is split
  and percent-decoded to bytes first, and only then decoded with the charset.

Callbacks can arrive more than once and out of order (a late DELIVERED_TO_GATEWAY after
RECEIVED_BY_RECIPIENT). Key your storage by `api_message_id` and status code, and use
`is_newer()` to decide whether an event should replace the one you hold.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Literal
from urllib.parse import unquote_to_bytes

from ..errors import ValidationError
from ..redact import mask_number
from ..statuses import MessageStatus, status_from

__all__ = [
    "ReplyCallback",
    "StatusCallback",
    "is_newer",
    "parse_callback_request",
    "parse_reply_callback",
    "parse_status_callback",
]

logger = logging.getLogger("clickatell_sms.callbacks")

CallbackSource = str | bytes | Mapping[str, object]
CallbackKind = Literal["status", "reply"]

_STATUS_FIELDS = frozenset(
    {
        "integrationName",
        "messageId",
        "requestId",
        "clientMessageId",
        "to",
        "from",
        "statusCode",
        "status",
        "statusDescription",
        "timestamp",
    }
)
_REPLY_FIELDS = frozenset(
    {
        "integrationName",
        "messageId",
        "replyMessageId",
        "fromNumber",
        "toNumber",
        "timestamp",
        "text",
        "charset",
        "udh",
        "network",
        "keyword",
    }
)
# Fields that only one kind of callback carries; used to tell them apart on a shared URL.
_REPLY_MARKERS = ("replyMessageId", "fromNumber", "toNumber", "text")
_STATUS_MARKERS = ("statusCode", "status", "statusDescription")


@dataclass(frozen=True, slots=True, repr=False)
class StatusCallback:
    """A delivery-status report for one message you sent.

    `api_message_id` is the `apiMessageId` the send answered with. `to` is the recipient and
    `from_number` your two-way number (the wire's `from`). `timestamp` is aware UTC, or None when
    absent or unreadable (the original stays in `raw`).
    """

    api_message_id: str
    status: MessageStatus
    integration_name: str | None = None
    request_id: str | None = None
    client_message_id: str | None = None
    to: str | None = None
    from_number: str | None = None
    timestamp: datetime | None = None
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)
    raw: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __repr__(self) -> str:
        # Phone numbers are personal data and `raw` may hold secrets: keep them out of logs.
        return (
            f"StatusCallback(api_message_id={self.api_message_id!r}, status={self.status!r}, "
            f"to={_masked(self.to)}, timestamp={_iso(self.timestamp)}, "
            f"extra_keys={sorted(self.extra)!r})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class ReplyCallback:
    """A message a handset sent to your two-way number.

    `api_message_id` is the wire's `messageId` (documented as the outbound message this answers);
    `reply_message_id` identifies the reply itself. `text` is decoded using `charset`; None only
    when no text field came. `text_bytes` holds the bytes it was decoded from (None when the
    text arrived already decoded, as plain UTF-8 JSON does), and `text_lossy` says that some of
    them could not be decoded and were replaced by U+FFFD.
    """

    api_message_id: str
    reply_message_id: str | None = None
    integration_name: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    timestamp: datetime | None = None
    text: str | None = None
    charset: str | None = None
    udh: str | None = None
    network: str | None = None
    keyword: str | None = None
    text_bytes: bytes | None = None
    text_lossy: bool = False
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)
    raw: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __repr__(self) -> str:
        # The text is private correspondence; show its size, never its content.
        size = "None" if self.text is None else f"<{len(self.text)} chars>"
        return (
            f"ReplyCallback(api_message_id={self.api_message_id!r}, "
            f"reply_message_id={self.reply_message_id!r}, "
            f"from_number={_masked(self.from_number)}, timestamp={_iso(self.timestamp)}, "
            f"text={size}, charset={self.charset!r}, extra_keys={sorted(self.extra)!r})"
        )


def _masked(number: str | None) -> str:
    return "None" if number is None else repr(mask_number(number))


def _iso(moment: datetime | None) -> str:
    return "None" if moment is None else moment.isoformat()


# --------------------------------------------------------------------------------------------
# Reading the input into one shape


@dataclass(slots=True)
class _Input:
    """Any source, reduced to: what to keep as `raw`, each field as text, and wire bytes if any."""

    raw: dict[str, object]
    values: dict[str, str]
    # Percent-decoded bytes per field, for query-string and form input only.
    wire: dict[str, bytes] | None


# A byte-order mark and blank space may come before a JSON body; neither is part of it.
_BEFORE_JSON = b"\xef\xbb\xbf \t\r\n"


def _load(source: CallbackSource) -> _Input:
    if isinstance(source, Mapping):
        return _from_mapping(source)
    data = _utf8(source).lstrip(_BEFORE_JSON)
    if data.startswith((b"{", b"[")):
        return _from_json(data)
    return _from_form(data)


def _utf8(source: str | bytes) -> bytes:
    return source.encode("utf-8") if isinstance(source, str) else bytes(source)


def _from_form(data: bytes) -> _Input:
    """Split a query string or form body into fields, percent-decoding each value to bytes.
    A repeated field is read from its first copy; `raw` keeps every copy."""
    wire: dict[str, bytes] = {}
    raw: dict[str, object] = {}
    values: dict[str, str] = {}
    for piece in data.removeprefix(b"?").split(b"&"):  # a query string may keep its "?"
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        key = _form_unquote(name).decode("utf-8", errors="replace")
        octets = _form_unquote(value)
        text = octets.decode("utf-8", errors="replace")
        if key not in wire:
            wire[key], raw[key], values[key] = octets, text, text
            continue
        held = raw[key]
        raw[key] = [*held, text] if isinstance(held, list) else [held, text]
    return _Input(raw=raw, values=values, wire=wire)


def _form_unquote(value: bytes) -> bytes:
    # Form encoding writes a space as "+"; a literal plus arrives as %2B.
    if b"%" not in value and b"+" not in value:  # most fields: nothing to decode
        return value
    return unquote_to_bytes(value.replace(b"+", b" "))


def _from_json(data: bytes) -> _Input:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError("body", "is not valid UTF-8 JSON") from None
    except RecursionError:  # `[` x 30,000 fits in a body; json recurses once per level
        raise ValidationError("body", "is JSON nested too deeply to be a callback") from None
    if not isinstance(document, dict):
        raise ValidationError("body", "JSON callback must be an object")
    return _from_mapping(document)


def _from_mapping(source: Mapping[str, object]) -> _Input:
    raw = {str(key): value for key, value in source.items()}
    values: dict[str, str] = {}
    for key, value in raw.items():
        text = _as_text(value)
        if text is not None:
            values[key] = text
    return _Input(raw=raw, values=values, wire=None)


def _first(value: object) -> object:
    """A field that a framework gave as a list of its copies is read from the first copy."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _as_text(value: object) -> str | None:
    """One field as text: lists (as frameworks give) by their first item, numbers as written."""
    value = _first(value)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 4.0 is status 4, not "4.0"
    if isinstance(value, bool | dict | list | float):
        try:
            return json.dumps(value)
        except RecursionError:  # a framework's mapping may nest as deep as the stack allows
            raise ValidationError("callback", "has a field nested too deeply") from None
    return str(value)


def _optional(values: Mapping[str, str], name: str) -> str | None:
    """An optional field: absent and empty both read as None."""
    value = values.get(name)
    return value if value else None


def _message_id(values: Mapping[str, str]) -> str:
    value = (values.get("messageId") or "").strip()
    if not value:
        raise ValidationError("messageId", "missing; the callback cannot be matched to a message")
    return value


def _extra(values: Mapping[str, str], known: frozenset[str]) -> Mapping[str, str]:
    return MappingProxyType({key: value for key, value in values.items() if key not in known})


# --------------------------------------------------------------------------------------------
# Timestamps

# 1e11 is 1973 as milliseconds but the year 5138 as seconds, so a number this large can only
# be milliseconds, and anything smaller must be seconds.
_MILLISECONDS_FROM = 100_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?")


def _timestamp(value: str | None) -> datetime | None:
    """Epoch milliseconds (Clickatell's usual form), epoch seconds, or ISO-8601, as aware UTC.

    Numbers of 1e11 or more are read as milliseconds, smaller ones as seconds. An ISO time
    without an offset is taken as UTC. Anything unreadable gives None and a warning; the
    original value is still in the callback's `raw`.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        if _NUMBER.fullmatch(text):
            number = float(text) if "." in text else int(text)
            if abs(number) >= _MILLISECONDS_FROM:
                return _EPOCH + timedelta(milliseconds=number)
            return _EPOCH + timedelta(seconds=number)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        logger.warning("callback timestamp %r is unreadable; kept in .raw only", text[:40])
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Reply text and its charset


def _codec_for(charset: str | None) -> str:
    """Python's codec for a Clickatell charset name; unknown or missing names mean UTF-8."""
    if not charset:
        return "utf-8"
    key = re.sub(r"[\s_-]", "", charset).upper()
    if key in {"UTF16", "UTF16BE", "UCS2", "UCS2BE", "UNICODE", "UNICODEBE"}:
        return "utf-16-be" if key != "UTF16" else "utf-16"
    if key in {"UTF16LE", "UCS2LE"}:
        return "utf-16-le"
    try:
        return codecs.lookup(charset.strip()).name
    except LookupError:
        logger.warning("reply charset %r is unknown; decoding the text as UTF-8", charset[:40])
        return "utf-8"


def _decode(data: bytes, codec: str) -> tuple[str, bool]:
    """Decode without ever raising; the flag says whether anything had to be replaced."""
    if codec == "utf-16":
        # SMS Unicode is big-endian; honour a byte-order mark if one was sent, else assume BE.
        if data.startswith(codecs.BOM_UTF16_LE):
            codec, data = "utf-16-le", data[2:]
        else:
            codec, data = "utf-16-be", data.removeprefix(codecs.BOM_UTF16_BE)
    try:
        return data.decode(codec), False
    except UnicodeDecodeError:
        pass
    except (LookupError, UnicodeError):  # not a text codec at all (zlib, hex)
        return _decode_fallback(data, codec)
    try:
        return data.decode(codec, errors="replace"), True
    except (LookupError, UnicodeError):  # a codec without error handlers (idna)
        return _decode_fallback(data, codec)


def _decode_fallback(data: bytes, codec: str) -> tuple[str, bool]:
    logger.warning("reply charset codec %r cannot decode the text; reading it as UTF-8", codec)
    return _decode(data, "utf-8")


# What a form encoder can emit; text made only of these (with %XX escapes) is still encoded.
_FORM_ENCODED = re.compile(r"(?:[A-Za-z0-9.*_~!'()+-]|%[0-9A-Fa-f]{2})*")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _reply_text(source: _Input, charset: str | None) -> tuple[str | None, bytes | None, bool]:
    """The reply's text, the bytes it came from, and whether decoding was lossy."""
    codec = _codec_for(charset)
    sent = _text_as_sent(source, codec)
    if not isinstance(sent, bytes):
        return sent, None, False
    text, lossy = _decode(sent, codec)
    return text, sent, lossy


def _text_as_sent(source: _Input, codec: str) -> bytes | str | None:
    """The reply text as it arrived: bytes still to decode, text already decoded, or None."""
    if source.wire is not None and "text" in source.wire:
        return source.wire["text"]
    value = _first(source.raw.get("text"))
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    text = str(value)
    if _looks_form_encoded(text, codec):
        return _form_unquote(text.encode("ascii"))
    return text


def _looks_form_encoded(text: str, codec: str) -> bool:
    """Whether text from JSON (or a framework's dict) still needs percent-decoding.

    Clickatell percent-encodes the bytes of non-UTF-8 replies even inside JSON (`hello%21`,
    `%00h%00i`), while UTF-8 text arrives plain. Text that could not be an encoder's output
    (it has a space, a non-ASCII character or a stray %) is taken as already decoded. UTF-16
    text also needs at least one %XX escape: an encoded UTF-16 string almost always has some,
    and without this rule an already-decoded "hi" would be misread as one CJK character.
    """
    if codec in {"utf-8", "utf_8"} or not _FORM_ENCODED.fullmatch(text):
        return False
    if codec.startswith("utf-16") or codec.startswith("utf_16"):
        return _ESCAPE.search(text) is not None
    return True


# --------------------------------------------------------------------------------------------
# Public parsers


def parse_status_callback(source: CallbackSource) -> StatusCallback:
    """A delivery-status callback from a query string, a JSON or form body, or a parsed mapping.

    Raises ValidationError only when the input cannot be read at all or has no `messageId`.
    """
    return _status(_load(source))


def parse_reply_callback(source: CallbackSource) -> ReplyCallback:
    """A reply (MO) callback from a query string, a JSON or form body, or a parsed mapping.

    For UTF-16 and Latin-1 replies pass the raw query string or body when you can: a framework's
    already-decoded dict may have turned the text's bytes into replacement characters.
    Raises ValidationError only when the input cannot be read at all or has no `messageId`.
    """
    return _reply(_load(source))


def _status(source: _Input) -> StatusCallback:
    values = source.values
    return StatusCallback(
        api_message_id=_message_id(values),
        status=status_from(
            values.get("statusCode"), values.get("status"), _optional(values, "statusDescription")
        ),
        integration_name=_optional(values, "integrationName"),
        request_id=_optional(values, "requestId"),
        client_message_id=_optional(values, "clientMessageId"),
        to=_optional(values, "to"),
        from_number=_optional(values, "from"),
        timestamp=_timestamp(values.get("timestamp")),
        extra=_extra(values, _STATUS_FIELDS),
        raw=MappingProxyType(source.raw),
    )


def _reply(source: _Input) -> ReplyCallback:
    values = source.values
    charset = _optional(values, "charset")
    text, text_bytes, lossy = _reply_text(source, charset)
    return ReplyCallback(
        api_message_id=_message_id(values),
        reply_message_id=_optional(values, "replyMessageId"),
        integration_name=_optional(values, "integrationName"),
        from_number=_optional(values, "fromNumber"),
        to_number=_optional(values, "toNumber"),
        timestamp=_timestamp(values.get("timestamp")),
        text=text,
        charset=charset,
        udh=_optional(values, "udh"),
        network=_optional(values, "network"),
        keyword=_optional(values, "keyword"),
        text_bytes=text_bytes,
        text_lossy=lossy,
        extra=_extra(values, _REPLY_FIELDS),
        raw=MappingProxyType(source.raw),
    )


# --------------------------------------------------------------------------------------------
# Whole HTTP requests


def parse_callback_request(
    method: str,
    query_string: str | bytes,
    body: bytes,
    content_type: str | None,
    *,
    default_kind: CallbackKind | None = None,
) -> StatusCallback | ReplyCallback:
    """Parse a callback request from any web framework, telling status from reply by its fields.

    GET reads the query string; POST reads the body (JSON or form, by Content-Type, else by
    sniffing) and falls back to the query string when the body is empty. Pass the query string
    as the raw bytes when the framework offers them; a str is encoded as UTF-8. A request that
    is neither kind (no statusCode/status and no replyMessageId/fromNumber/toNumber/text) is
    read as `default_kind`, so a URL that only ever receives one kind can say which; without it
    such a request is refused. Raises ValidationError for anything that should be answered
    with 400.
    """
    verb = method.strip().upper()
    if verb == "GET" or (verb == "POST" and not body.strip()):
        source = _from_form(_utf8(query_string))
    elif verb == "POST":
        source = _body(body, content_type)
    else:
        raise ValidationError("method", "callbacks come by GET or POST")
    _message_id(source.values)  # the most useful complaint comes first
    kind = _kind_of(source) or default_kind
    if kind is None:
        raise ValidationError("callback", "neither a status callback nor a reply callback")
    return _status(source) if kind == "status" else _reply(source)


def _body(body: bytes, content_type: str | None) -> _Input:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media.endswith("json"):
        return _from_json(body.lstrip(_BEFORE_JSON))
    if media == "application/x-www-form-urlencoded":
        return _from_form(body.strip())
    if media.startswith("multipart/"):
        raise ValidationError("Content-Type", "multipart bodies are not supported")
    return _load(body)


def _kind_of(source: _Input) -> CallbackKind | None:
    if any(name in source.raw for name in _REPLY_MARKERS):
        return "reply"
    if any(name in source.raw for name in _STATUS_MARKERS):
        return "status"
    return None


def is_newer(candidate: StatusCallback, current: StatusCallback) -> bool:
    """Whether `candidate` should replace `current` as the latest status of the same message.

    A final status is never replaced by a non-final one, whatever the timestamps say, because a
    late "delivered to gateway" must not undo "received by recipient". Otherwise the later
    timestamp wins; without both timestamps, or on a tie (a duplicate), keep what you have.
    Raises ValueError if the two callbacks are about different messages.
    """
    if candidate.api_message_id != current.api_message_id:
        raise ValueError("is_newer compares two statuses of the same message")
    if candidate.status.is_final != current.status.is_final:
        return candidate.status.is_final
    if candidate.timestamp is None or current.timestamp is None:
        return False
    return candidate.timestamp > current.timestamp
