"""A send's options, checked and put in the API's units before any byte leaves the machine.

A mistake here costs an exception, not an SMS. Which options exist, their types and their
constraints (enum, bounds, lengths, pattern) come from the spec through
`clickatell_wire.tables`, so a field added to the contract is accepted, checked and sent with no
change here. What stays written by hand is what a schema cannot say, each rule once:

* the Python values a field's `x-value` admits and their conversion to the wire: an aware
  `datetime` written as `2017-02-27T14:30:00+0200`, a `timedelta` as minutes, bytes as hex, a
  sender number normalised like a recipient;
* the rules that span fields: the parts a text needs (GSM-7, UCS-2, binary) and the UDH's
  length octet (`encoding`);
* what each way of sending can carry: XML 1.0's characters, the GET send's few fields and URL.

The first bad value raises a `ValidationError` naming the keyword. Nothing here touches the
network or imports the HTTP stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from clickatell_wire.tables import SEND_FIELDS, SEND_OPTIONS, Field, send_field

from . import encoding
from .config import ClientSettings, TimeoutArg, check_header_text
from .errors import ValidationError
from .numbers import normalize_number

if TYPE_CHECKING:
    from .config import ClientConfig

__all__ = [
    "GET_SEND",
    "MAX_RECIPIENTS",
    "Outgoing",
    "check_content",
    "check_extra_headers",
    "check_message",
    "check_message_id",
    "check_options",
    "check_value",
    "get_url_batch_size",
    "timeout_pair",
    "udh_bytes",
    "unexpected_keywords",
]

GET_SEND: Final = "sendMessageHttp"
"""The operation of the HTTP integration's GET send, which carries only some fields."""

MAX_RECIPIENTS: Final = send_field("to").max_items or 200
"""Recipients per request: the spec's `maxItems` of `to`."""

_OPTIONS: Final[Mapping[str, Field]] = {f.name: f for f in SEND_OPTIONS}
_GET_FIELDS: Final = tuple(f.name for f in SEND_FIELDS if GET_SEND in f.carried_by)
# Characters XML 1.0 cannot carry (the same set the generated XML writer refuses).
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_MESSAGE_ID_CHARS: Final = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
)
_TYPES: Final[Mapping[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
_KIND_WORDS: Final[Mapping[str, str]] = {
    "string": "a string",
    "integer": "an int",
    "number": "a number",
    "boolean": "True or False",
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A checked message: the content, and each option given, by keyword, as the wire wants it.

    Options equal to the contract's default are left out: the API applies them anyway, and the
    GET send need not refuse what would change nothing. Never changed once made: a message
    without options is shared by every send of the same text.
    """

    content: str
    options: Mapping[str, Any]
    client_message_id: str | None = None
    """The caller's reference, which errors carry for reconciling an unknown outcome."""

    @classmethod
    def of(cls, content: str, options: Mapping[str, Any]) -> Outgoing:
        """The message, its reference read from the options once (every send reads it)."""
        reference = options.get("client_message_id")
        return cls(content, options, reference if isinstance(reference, str) else None)


def check_message(
    config: ClientConfig, content: object, options: Mapping[str, object], *, http: bool = False
) -> Outgoing:
    """The content and every option in the API's units, or a ValidationError naming the first
    bad one (a TypeError for a keyword the spec does not have).

    `http` is the GET send: it has no XML document (`format` does not apply), carries text as
    percent-encoded UTF-8, and only the fields the spec gives it.
    """
    if not options and type(content) is str:
        return _plain_message(content, config.format == "xml" and not http, http)
    _refuse_unknown(options)
    check_content(content)
    assert isinstance(content, str)
    if not content:
        raise ValidationError("content", "is empty; the API needs some text", content)
    if config.format == "xml" and not http:
        _check_xml_text("content", content)
    elif http:
        _check_utf8("content", content)
    wire = _wire_options(config, options, http)
    header = wire.get("user_data_header")
    encoding.check_parts(
        content,
        binary=wire.get("binary") is True,
        user_data_header=None if header is None else bytes.fromhex(header),
    )
    return Outgoing.of(content, wire)


_NO_OPTIONS: Final[Mapping[str, Any]] = MappingProxyType({})


@lru_cache(maxsize=256)
def _plain_message(content: str, xml: bool, http: bool) -> Outgoing:
    """`check_message` for a text without options: the same checks, in the same order, whose
    outcome depends on the text and how it travels alone, so a text sent again (a campaign's, a
    template's) is checked once. A refusal raises, and is not kept."""
    if not content:
        raise ValidationError("content", "is empty; the API needs some text", content)
    if xml:
        _check_xml_text("content", content)
    elif http:
        _check_utf8("content", content)
    encoding.check_parts(content)
    return Outgoing(content, _NO_OPTIONS)


def check_options(
    config: ClientConfig, options: Mapping[str, object], *, http: bool = False
) -> dict[str, Any]:
    """The options alone (no content), each given one in the API's units: `check_message`'s
    checks of them, for callers that check options once and texts later (a bulk run, whose
    rows may each have their own text). Raises as `check_message` does."""
    _refuse_unknown(options)
    return _wire_options(config, options, http)


def check_value(field: Field, value: object) -> Any:
    """`value` checked against the field's schema: type, enum, bounds, lengths, pattern, and
    the spec's `x-client-pattern` (a rule the client keeps though the server does not).

    Enum values match case-insensitively and come back as the spec writes them.
    """
    name = field.name
    kind = field.kind
    types = _TYPES.get(kind)
    if types is None:
        raise ValidationError(name, f"is a {kind} in the spec, which no option can be")
    if not isinstance(value, types) or (kind != "boolean" and isinstance(value, bool)):
        raise ValidationError(
            name, f"must be {_KIND_WORDS[kind]}, not {type(value).__name__}", value
        )
    if field.enum:
        canonical = {option.lower(): option for option in field.enum}
        found = canonical.get(str(value).lower())
        if found is None:
            raise ValidationError(name, f"must be one of {', '.join(field.enum)}", value)
        return found
    unit = " minutes" if field.value == "minutes" else ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = field.minimum, field.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValidationError(name, f"is {value}{unit}; {_range(low, high, unit)}", value)
    if isinstance(value, str):
        if field.min_length is not None and len(value) < field.min_length:
            what = "is empty" if not value else f"is {len(value)} characters"
            raise ValidationError(name, f"{what}; at least {field.min_length}", value)
        if field.max_length is not None and len(value) > field.max_length:
            raise ValidationError(
                name, f"is {len(value)} characters; at most {field.max_length}", value
            )
        if field.pattern is not None and _pattern(field.pattern).search(value) is None:
            raise ValidationError(name, f"does not match the API's pattern {field.pattern}", value)
        rule = field.client_pattern
        if rule is not None and _pattern(rule).search(value) is None:
            raise ValidationError(name, f"does not match the contract's rule {rule}", value)
    return value


def check_content(content: object) -> None:
    """Content must be text (checked before anything measures it)."""
    if not isinstance(content, str):
        raise ValidationError("content", f"must be a string, not {type(content).__name__}")


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


def udh_bytes(value: bytes | str | None, name: str = "user_data_header") -> bytes | None:
    """Octets from bytes or a hex string (`0x` allowed); `encoding` then checks what they say."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if not isinstance(value, str):
        raise ValidationError(name, "must be bytes or a hex string", value)
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    if not text or not _HEX.issuperset(text):
        raise ValidationError(name, "is not hexadecimal", value)
    if len(text) % 2:
        raise ValidationError(name, f"has an odd number of hex digits ({len(text)})", value)
    return bytes.fromhex(text)


MAX_GET_URL_BYTES: Final = 8000
"""What the GET send's query may take: 8 KB is the common default limit of web servers and
proxies (Clickatell publishes none), so longer recipient lists go in more requests."""


def get_url_batch_size(message: Outgoing, numbers: list[str]) -> int:
    """How many recipients fit one GET send under `MAX_GET_URL_BYTES`, at most 200.

    The query is the encoded content and options, the key (whose length is unknown here, so a
    generous allowance is kept for it) and the comma-separated numbers.
    """
    content = len(quote(message.content, safe=""))
    fixed = len("/messages/http/send?to=&content=&apiKey=") + 256 + content
    for name, value in message.options.items():
        fixed += len(_OPTIONS[name].json_name) + 2 + len(quote(str(value), safe=""))
    room = MAX_GET_URL_BYTES - fixed
    widest = max(map(len, numbers)) + 1  # the digits and a comma
    if room < widest:
        raise ValidationError(
            "content",
            f"is {content} bytes once URL-encoded; the GET send's URL must stay under"
            f" {MAX_GET_URL_BYTES} bytes: send it with integration='rest'",
        )
    return max(1, min(MAX_RECIPIENTS, room // widest))


# -- conversions by x-value --------------------------------------------------------------------


def _as_given(field: Field, value: object, config: ClientConfig) -> object:
    return value


def _datetime(field: Field, value: object, config: ClientConfig) -> object:
    """An aware datetime in the future, as `2017-02-27T14:30:00+0200` (offset without colon)."""
    if not isinstance(value, datetime):
        raise ValidationError(field.name, "must be a datetime with a timezone", value)
    offset = value.utcoffset()
    if offset is None:
        raise ValidationError(
            field.name,
            "has no timezone; pass an aware datetime (e.g. tzinfo=datetime.UTC)",
            value,
        )
    if offset.microseconds or offset.seconds % 60:
        raise ValidationError(
            field.name, "has a UTC offset with seconds, which the API cannot take"
        )
    if value <= datetime.now(UTC):
        raise ValidationError(field.name, "is in the past", value)
    return value.strftime("%Y-%m-%dT%H:%M:%S%z")


def _minutes(field: Field, value: object, config: ClientConfig) -> object:
    """Whole minutes from a timedelta, or an int taken as minutes."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds % 60:
            raise ValidationError(field.name, "must be whole minutes", value)
        return int(seconds // 60)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValidationError(field.name, "must be a timedelta or minutes (int)", value)


def _octets(field: Field, value: object, config: ClientConfig) -> object:
    """Bytes or hex, as upper-case hex."""
    octets = udh_bytes(value, field.name)  # type: ignore[arg-type]
    assert octets is not None
    return octets.hex().upper()


def _phone_number(field: Field, value: object, config: ClientConfig) -> object:
    """A number normalised as recipients are (international digits)."""
    return normalize_number(value, default_region=config.default_region, field=field.name)  # type: ignore[arg-type]


_CONVERTERS: Final[Mapping[str, Callable[[Field, object, ClientConfig], object]]] = {
    "datetime": _datetime,
    "minutes": _minutes,
    "octets": _octets,
    "phone-number": _phone_number,
}


# -- helpers ----------------------------------------------------------------------------------


def _refuse_unknown(options: Mapping[str, object]) -> None:
    unknown = sorted(name for name in options if name not in _OPTIONS)
    if unknown:
        raise TypeError(unexpected_keywords("send()", unknown))


def unexpected_keywords(call: str, names: list[str]) -> str:
    """The TypeError's message for keywords `call` does not take; a client setting given there
    (`format="xml"`) is named as one, with where it goes instead."""
    settings = [name for name in names if name in ClientSettings.__annotations__]
    message = f"{call} got unexpected keyword arguments: {', '.join(names)}"
    if settings:
        given = ", ".join(f"{name}=..." for name in settings)
        message += (
            f"; {', '.join(settings)} {'is a setting' if len(settings) == 1 else 'are settings'}"
            f" of the client, not of a send: Client({given}) or AsyncClient({given})"
        )
    return message


def _wire_options(
    config: ClientConfig, options: Mapping[str, object], http: bool
) -> dict[str, Any]:
    """Each option given, converted and checked against its field; those the GET send cannot
    carry refused when `http`."""
    xml = config.format == "xml" and not http
    wire: dict[str, Any] = {}
    for field in SEND_OPTIONS:
        given = options.get(field.name)
        if given is None:
            continue
        value = check_value(
            field, _CONVERTERS.get(field.value or "", _as_given)(field, given, config)
        )
        if value == field.default and type(value) is type(field.default):
            continue
        if xml and isinstance(value, str):
            _check_xml_text(field.name, value)
        wire[field.name] = value
    if http:
        _refuse_get_options(wire)
    return wire


def _refuse_get_options(wire: Mapping[str, object]) -> None:
    """Options the GET send cannot carry are refused by name: dropping them would be a lie."""
    given = [name for name in wire if name not in _GET_FIELDS]
    if given:
        carried = ", ".join(_GET_FIELDS[:-1]) + " and " + _GET_FIELDS[-1]
        raise ValidationError(
            ", ".join(given),
            f"not supported by the HTTP integration's GET send, which takes only {carried};"
            " send with integration='rest' (POST /messages) to use "
            + ("it" if len(given) == 1 else "them"),
        )


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _range(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"must be from {low} to {high}{unit}"
    if low is not None:
        return f"must be at least {low}{unit}"
    return f"must be at most {high}{unit}"


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
