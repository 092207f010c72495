"""A send's options, checked and put in the API's units before any byte leaves the machine.

A mistake here costs an exception, not an SMS: every value the caller gives is checked (type,
range, what the chosen format can carry) and converted to what the wire wants (minutes, hex,
the contract's timestamp and charset names). The first bad value raises a `ValidationError`
naming it. The result is an `Outgoing`, which `wire` turns into a request for any format.

Nothing here touches the network or imports the HTTP stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import quote

from . import encoding
from .config import TimeoutArg, check_header_text
from .errors import ValidationError
from .numbers import normalize_number

if TYPE_CHECKING:
    from .config import ClientConfig

__all__ = [
    "MAX_VALIDITY_MINUTES",
    "Charset",
    "Outgoing",
    "check_content",
    "check_extra_headers",
    "check_message",
    "check_message_id",
    "refuse_get_options",
    "timeout_pair",
    "udh_bytes",
]

Charset = Literal["ASCII", "UCS2-BE", "UTF-8", "Windows-1252"]

MAX_VALIDITY_MINUTES: Final = 10080  # one week: the contract's bound
_CHARSETS: Final[dict[str, Charset]] = {
    "ascii": "ASCII",
    "ucs2-be": "UCS2-BE",
    "utf-8": "UTF-8",
    "windows-1252": "Windows-1252",
}
# Characters XML 1.0 cannot carry (the same set the generated XML writer refuses).
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_MESSAGE_ID_CHARS: Final = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A checked message in the API's units: every value already as the wire wants it."""

    content: str
    from_: str | None = None
    binary: bool | None = None
    client_message_id: str | None = None
    scheduled_delivery_time: str | None = None
    user_data_header: str | None = None
    validity_period: int | None = None
    charset: str | None = None


def check_message(
    config: ClientConfig,
    content: str,
    *,
    from_: str | None,
    binary: bool,
    client_message_id: str | None,
    scheduled_delivery_time: datetime | None,
    user_data_header: bytes | str | None,
    validity_period: timedelta | int | None,
    charset: str | None,
    http: bool = False,
) -> Outgoing:
    """Every option in the API's units, or a ValidationError naming the first bad one.

    `http` is the GET send, which has no XML document (so `format` does not apply) and carries
    the content as percent-encoded UTF-8.
    """
    check_content(content)
    if not content:
        raise ValidationError("content", "is empty; the API needs some text", content)
    if not isinstance(binary, bool):
        raise ValidationError("binary", "must be True or False", binary)
    xml = config.format == "xml" and not http
    if xml:
        _check_xml_text("content", content)
    elif http:
        _check_utf8("content", content)
    udh = udh_bytes(user_data_header)
    encoding.check_parts(content, binary=binary, user_data_header=udh)
    sender = None
    if from_ is not None:
        sender = normalize_number(from_, default_region=config.default_region, field="from_")
    reference = None
    if client_message_id is not None:
        reference = _check_reference(client_message_id, xml)
    return Outgoing(
        content=content,
        from_=sender,
        binary=True if binary else None,
        client_message_id=reference,
        scheduled_delivery_time=_schedule(scheduled_delivery_time),
        user_data_header=None if udh is None else udh.hex().upper(),
        validity_period=_validity(validity_period),
        charset=_charset(charset),
    )


def check_content(content: object) -> None:
    """Content must be text (checked before anything measures it)."""
    if not isinstance(content, str):
        raise ValidationError("content", f"must be a string, not {type(content).__name__}")


def refuse_get_options(**options: object) -> None:
    """Options the GET send cannot carry are refused by name: dropping them would be a lie."""
    given = [name for name, value in options.items() if value is not None and value is not False]
    if given:
        raise ValidationError(
            ", ".join(given),
            "not supported by the HTTP integration's GET send, which takes only to, content"
            " and from_; send with integration='rest' (POST /messages) to use "
            + ("it" if len(given) == 1 else "them"),
        )


def check_message_id(value: object) -> str:
    """The spec's ApiMessageId: 1 to 64 letters, digits or hyphens."""
    if not isinstance(value, str):
        raise ValidationError("api_message_id", "must be a string", value)
    text = value.strip()
    if not text or len(text) > 64 or not _MESSAGE_ID_CHARS.issuperset(text):
        raise ValidationError("api_message_id", "must be 1 to 64 letters, digits or hyphens", value)
    return text


def check_extra_headers(headers: Mapping[str, str]) -> None:
    """Per-call headers, refused by name where http.client would refuse them (quoting them)."""
    for name, value in headers.items():
        check_header_text(f"extra_headers[{name!r}]", value, name=name)


def timeout_pair(timeout: TimeoutArg) -> tuple[float, float]:
    """`(connect, read)` seconds from seconds or a pair, each checked to be > 0."""
    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise ValidationError("timeout", "must be seconds or a (connect, read) pair", timeout)
        connect, read = timeout
    else:
        connect = read = timeout
    for value in (connect, read):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValidationError("timeout", "must be a number of seconds > 0", timeout)
    return float(connect), float(read)


def udh_bytes(value: bytes | str | None) -> bytes | None:
    """The header as octets; `encoding` then checks its length octet and size."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if not isinstance(value, str):
        raise ValidationError("user_data_header", "must be bytes or a hex string", value)
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    if not text or not _HEX.issuperset(text):
        raise ValidationError("user_data_header", "is not hexadecimal", value)
    if len(text) % 2:
        raise ValidationError(
            "user_data_header", f"has an odd number of hex digits ({len(text)})", value
        )
    return bytes.fromhex(text)


def _schedule(value: datetime | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValidationError(
            "scheduled_delivery_time", "must be a datetime with a timezone", value
        )
    offset = value.utcoffset()
    if offset is None:
        raise ValidationError(
            "scheduled_delivery_time",
            "has no timezone; pass an aware datetime (e.g. tzinfo=datetime.UTC)",
            value,
        )
    if offset.microseconds or offset.seconds % 60:
        raise ValidationError(
            "scheduled_delivery_time", "has a UTC offset with seconds, which the API cannot take"
        )
    if value <= datetime.now(UTC):
        raise ValidationError("scheduled_delivery_time", "is in the past", value)
    return value.strftime("%Y-%m-%dT%H:%M:%S%z")


def _validity(value: timedelta | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds % 60:
            raise ValidationError("validity_period", "must be whole minutes", value)
        minutes = int(seconds // 60)
    elif isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    else:
        raise ValidationError("validity_period", "must be a timedelta or minutes (int)", value)
    if not 1 <= minutes <= MAX_VALIDITY_MINUTES:
        raise ValidationError(
            "validity_period",
            f"is {minutes} minutes; must be from 1 to {MAX_VALIDITY_MINUTES} (one week)",
            value,
        )
    return minutes


def _charset(value: str | None) -> Charset | None:
    if value is None:
        return None
    found = _CHARSETS.get(value.lower()) if isinstance(value, str) else None
    if found is None:
        raise ValidationError(
            "charset", "must be one of ASCII, UCS2-BE, UTF-8, Windows-1252", value
        )
    return found


def _check_reference(value: str, xml: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError("client_message_id", "must be a string", value)
    if not value:
        raise ValidationError("client_message_id", "is empty", value)
    if len(value) > 255:
        raise ValidationError(
            "client_message_id", f"is {len(value)} characters; at most 255", value
        )
    if any(char.isspace() for char in value):
        raise ValidationError("client_message_id", "contains whitespace", value)
    if xml:
        _check_xml_text("client_message_id", value)
    return value


def _check_xml_text(field: str, value: str) -> None:
    found = _XML_ILLEGAL.search(value)
    if found is not None:
        raise ValidationError(
            field,
            f"contains U+{ord(found.group()):04X} at index {found.start()}, which XML cannot"
            " carry; use format='json' or remove it",
        )


def _check_utf8(field: str, value: str) -> None:
    """The query carries text as percent-encoded UTF-8, which a lone surrogate cannot be."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            field,
            f"contains U+{ord(value[exc.start]):04X} at index {exc.start}, a lone surrogate"
            " that UTF-8 cannot carry",
        ) from None


MAX_RECIPIENTS: Final = 200  # per request, the API's limit
MAX_GET_URL_BYTES: Final = 8000
"""What the GET send's query may take: 8 KB is the common default limit of web servers and
proxies (Clickatell publishes none), so longer recipient lists go in more requests."""


def get_url_batch_size(message: Outgoing, numbers: list[str]) -> int:
    """How many recipients fit one GET send under `MAX_GET_URL_BYTES`, at most 200.

    The query is the encoded content and sender, the key (whose length is unknown here, so a
    generous allowance is kept for it) and the comma-separated numbers.
    """
    fixed = len("/messages/http/send?to=&content=&from=&apiKey=") + 256
    fixed += len(quote(message.content, safe="")) + len(message.from_ or "")
    room = MAX_GET_URL_BYTES - fixed
    widest = max(map(len, numbers)) + 1  # the digits and a comma
    if room < widest:
        raise ValidationError(
            "content",
            f"is {len(quote(message.content, safe=''))} bytes once URL-encoded; the GET send's "
            f"URL must stay under {MAX_GET_URL_BYTES} bytes: send it with integration='rest'",
        )
    return max(1, min(MAX_RECIPIENTS, room // widest))
