"""The one place that knows the generated code's names: facade values in, wire models out.

The JSON models (datamodel-code-generator) and the XML bindings (xsdata) name the same things
differently (`from_` and `from_value`, UNSET and None, a `messages` list and a wrapped
`messages.message` list). Everything above this module sees one neutral shape. A request's
options are placed by the generated table (`clickatell_wire.tables`), which knows each field's
attribute in both bindings, so a field added to the spec travels with no change here.

The same holds for the HTTP integration's GET send and the two look-ups (balance, message
status): their answers reach the client as plain tuples, the balance as an exact Decimal.

XML support is imported on first use: JSON-only programs never load it.

Who may import `clickatell_wire`, and why (`tests/test_structure.py` holds the code to it):

- `clickatell_wire.tables`, the contract as data (send fields with every name and constraint,
  operations, error codes, message statuses, defaults): any module. Reading the table is how a
  field added to the spec reaches every layer with no hand-edited file.
- `clickatell_wire.http_types` (`Request`, `Response`, `RequestFailed`, `Progress`), the
  transports' vocabulary: this module, the exchange layer (`answers`, `exchange`,
  `async_exchange`) and, for type hints only, the clients, `retry` and `redact`.
- `clickatell_wire.transport`, `async_transport` and `transport_base`: the exchanges that own
  a transport, and `config`, which builds the transport's settings.
- `clickatell_wire.models`, `xml` and `operations`, the documents' generated names: this module
  on the client's side, and the sandbox on the server's. The sandbox reads requests and writes
  answers in those documents as a server must, including the malformed ones a client never
  builds, so it needs the bindings themselves rather than this module's neutral shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Final,
    NamedTuple,
    Protocol,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
)

import msgspec
from clickatell_wire import models, operations
from clickatell_wire.http_types import Request, Response, WireDecodeError
from clickatell_wire.tables import SEND_OPTIONS
from msgspec import UNSET, UnsetType

from .options import Outgoing  # the checked message (defined with its checks); re-exported

if TYPE_CHECKING:
    from clickatell_wire.xml import messages as xml_models

    from .config import Format

__all__ = [
    "Envelope",
    "Outgoing",
    "WireBalance",
    "WireEntry",
    "WireStatus",
    "balance_request",
    "build_request",
    "post_request",
    "read_balance",
    "read_envelope",
    "read_get_envelope",
    "read_status",
    "send_get_request",
    "status_request",
]


class Entry(Protocol):
    """One recipient's entry in an answer, as matching reads it: a `WireEntry` from a JSON
    answer, the XML binding's own `Message` from an XML one (the same names, read as they are:
    copying 200 of them into another shape costs more than reading them)."""

    @property
    def to(self) -> str | None: ...
    @property
    def accepted(self) -> bool | None: ...
    @property
    def api_message_id(self) -> str | None: ...
    @property
    def error_code(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def error_description(self) -> str | None: ...


class WireEntry(msgspec.Struct, frozen=True, gc=False):
    """One recipient's entry in an answer, None wherever the API left a value out.

    A Struct rather than a tuple: the JSON answer is decoded straight into entries (a subclass
    with the spec's names and types, see `_read_as`), so the usual answer's entries are built
    by msgspec with no Python per entry and no copy."""

    to: str | None = None
    accepted: bool | None = None
    api_message_id: str | None = None
    error_code: int | None = None
    error: str | None = None
    error_description: str | None = None


class Envelope(msgspec.Struct, frozen=True, gc=False):
    """An answer's request-level error fields and its entries (None when `messages` was absent).

    The JSON answer is decoded straight into one (a subclass, as for `WireEntry`)."""

    error_code: int | None = None
    error: str | None = None
    description: str | None = None
    entries: Sequence[Entry] | None = None


_MODEL_ATTRS: dict[str, str] = {f.name: f.model_attr for f in SEND_OPTIONS}
# Every option UNSET unless given: the model's own defaults (binary=False, charset="UTF-8")
# would otherwise go on the wire in every request.
_NOT_GIVEN: dict[str, Any] = {f.model_attr: UNSET for f in SEND_OPTIONS}
_BARE_REQUEST = models.SendMessageRequest(content="", to=[], **_NOT_GIVEN)
"""A request with every option left out, for a message that gives none."""
_XML_ATTRS: dict[str, tuple[str, str | None]] = {
    f.name: (f.xml_attr, f.xml_enum) for f in SEND_OPTIONS
}


def build_request(
    fmt: Format, message: Outgoing, numbers: list[str]
) -> models.SendMessageRequest | xml_models.SendMessageRequest:
    """The generated request model for one request's recipients; options not given stay out."""
    options = message.options
    if fmt == "json":
        if not options:
            return msgspec.structs.replace(_BARE_REQUEST, content=message.content, to=numbers)
        attrs = _MODEL_ATTRS
        values = dict(_NOT_GIVEN)
        for name, value in options.items():
            values[attrs[name]] = value
        return models.SendMessageRequest(content=message.content, to=numbers, **values)
    from clickatell_wire.xml import messages as xml  # XML support loads with the first XML send

    elements: dict[str, Any] = {}
    for name, value in options.items():
        attr, enum = _XML_ATTRS[name]
        elements[attr] = value if enum is None else getattr(xml, enum)(value)
    return xml.SendMessageRequest(content=message.content, to=numbers, **elements)


post_request: Final = operations.build_send_message
"""The POST send's request from its body model: the generated operation's builder itself."""


def read_envelope(response: Response) -> Envelope:
    """The answer's fields, whatever its format; raises `WireDecodeError` for an unreadable body."""
    if response.media_type == "application/json":
        # The usual answer, read straight into an `Envelope` (see `_read_as`): the same checks
        # as the generated model's, which the answer of every status of the send is.
        try:
            return _JSON_ANSWER.decode(response.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise WireDecodeError(f"SendMessagesResponse: {exc}", response) from exc
    decoded = operations.decode_send_message(response)  # XML, or a body of no clear type
    if isinstance(decoded, models.SendMessagesResponse):
        return _from_json(decoded)
    return _from_xml(decoded)


def send_get_request(
    message: Outgoing, numbers: list[str], headers: Mapping[str, str] | None
) -> Request:
    """The HTTP integration's GET send, with the fields its query carries.

    The generated builder writes the query as the spec says (`to` as one comma-separated
    value, every value percent-encoded with nothing left safe) and the transport appends the
    key as `apiKey=`; the caller has already refused every option the query cannot carry, and
    the builder's keywords are the options' own names (both come from the spec by `snake`).
    """
    return operations.build_send_message_http(
        to=numbers, content=message.content, headers=headers, **message.options
    )


def read_get_envelope(response: Response) -> Envelope:
    """A GET send's answer: the send envelope, or the look-up error shape for 400/401/429/503."""
    decoded = operations.decode_send_message_http(response)
    if isinstance(decoded, models.SendMessagesResponse):
        return _from_json(decoded)
    return _error_envelope(decoded)


# -- look-ups ---------------------------------------------------------------------------------


class WireBalance(NamedTuple):
    """The balance exactly as written in the answer (never through a float) and its currency."""

    amount: Decimal
    currency: str


class WireStatus(NamedTuple):
    """A status answer's fields, None wherever the API left one out."""

    message_id: str | None
    code: int | None
    name: str | None
    description: str | None
    timestamp: datetime | None


class _ExactBalance(msgspec.Struct):
    # msgspec reads a JSON number into a Decimal from its digits, so 1267.92865 stays exact;
    # the generated model says `float` (the spec's `type: number`), which would round it.
    balance: Decimal


_exact_balance = msgspec.json.Decoder(_ExactBalance, strict=False)
_error_decoder = msgspec.json.Decoder(models.ErrorResponse, strict=False)
_NO_ERROR = Envelope(None, None, None, None)


def balance_request(headers: Mapping[str, str] | None) -> Request:
    """`GET /public-client/balance`, from the generated operation's builder."""
    return operations.build_get_balance(headers=headers)


def status_request(message_id: str, headers: Mapping[str, str] | None) -> Request:
    """`GET /public-client/message/status?messageId=...`, from the generated builder."""
    return operations.build_get_message_status(message_id=message_id, headers=headers)


def read_balance(response: Response) -> tuple[Envelope, WireBalance | None]:
    """The error fields and, when the answer is a balance, the balance.

    Raises `WireDecodeError` when the body is neither a balance nor an error document.
    """
    try:
        decoded = operations.decode_get_balance(response)
    except WireDecodeError:
        if response.status < 300:
            # A 200 that is not a balance may still be a request-level error (the send has been
            # seen to answer errors with 200); read it as one before calling it unreadable.
            return _error_or_raise(response)
        raise
    if isinstance(decoded, models.ErrorResponse):
        return _error_envelope(decoded), None
    try:
        amount = _exact_balance.decode(response.body).balance
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:  # the model read it: unlikely
        raise WireDecodeError(f"BalanceResponse: {exc}", response) from exc
    if not amount.is_finite():
        raise WireDecodeError("BalanceResponse: the balance is not a finite number", response)
    return _NO_ERROR, WireBalance(amount, decoded.currency)


def read_status(response: Response) -> tuple[Envelope, WireStatus | None]:
    """The error fields and, when the answer is a status document, its status fields.

    A 200 status document may carry error fields too (the spec allows them); both are returned
    and the caller decides. Raises `WireDecodeError` for an unreadable body.
    """
    decoded = operations.decode_get_message_status(response)
    if isinstance(decoded, models.ErrorResponse):
        return _error_envelope(decoded), None
    status = WireStatus(
        _none(decoded.message_id),
        _none(decoded.status_code),
        _none(decoded.status),
        _none(decoded.status_description),
        _from_millis(_none(decoded.timestamp)),
    )
    envelope = Envelope(
        _none(decoded.error_code), _none(decoded.error), _none(decoded.error_description), None
    )
    return envelope, status


def _error_or_raise(response: Response) -> tuple[Envelope, None]:
    try:
        envelope = _error_envelope(_error_decoder.decode(response.body))
    except (msgspec.DecodeError, msgspec.ValidationError):
        envelope = _NO_ERROR
    if envelope.error_code is None and not envelope.error:
        raise WireDecodeError("BalanceResponse: neither a balance nor an error", response)
    return envelope, None


def _error_envelope(doc: models.ErrorResponse) -> Envelope:
    return Envelope(_none(doc.error_code), _none(doc.error), _none(doc.error_description), None)


# 1e11 is 1973 as milliseconds but the year 5138 as seconds (the rule `callbacks` uses too).
_MILLISECONDS_FROM = 100_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_millis(value: int | None) -> datetime | None:
    """Epoch milliseconds (the spec's unit) as an aware UTC datetime; None if out of range."""
    if value is None:
        return None
    try:
        if abs(value) >= _MILLISECONDS_FROM:
            return _EPOCH + timedelta(milliseconds=value)
        return _EPOCH + timedelta(seconds=value)
    except OverflowError:
        return None


def _from_json(doc: models.SendMessagesResponse) -> Envelope:
    """The generated model's reading as `read_envelope` gives it (the same types, so equal)."""
    unset = UNSET
    entries: list[WireEntry] | None = None
    if doc.messages is not unset:
        entries = [
            _JSON_ENTRY(
                None if m.to is unset else m.to,
                None if m.accepted is unset else m.accepted,
                None if m.api_message_id is unset else m.api_message_id,
                None if m.error_code is unset else m.error_code,
                None if m.error is unset else m.error,
                None if m.error_description is unset else m.error_description,
            )
            for m in doc.messages
        ]
    code, error, description = doc.error_code, doc.error, doc.error_description
    return _JSON_ENVELOPE(
        None if code is unset else code,
        None if error is unset else error,
        None if description is unset else description,
        entries,
    )


_S = TypeVar("_S", bound=msgspec.Struct)


def _read_as(
    base: type[_S],
    model: type[msgspec.Struct],
    names: tuple[tuple[str, str], ...],
    nested: type[msgspec.Struct] | None = None,
) -> type[_S]:
    """`base` with each field (`names`: ours, the model's) given `model`'s type, constraints
    and name on the wire, but None for a field the answer leaves out (the generated model's
    UNSET is for requests, where absent must stay absent), and list[`nested`] for its list of
    structs: msgspec then reads an answer into our own shape, entries and all, with no loop in
    Python."""
    fields = {field.name: field for field in msgspec.structs.fields(model)}
    defined = []
    for ours, theirs in names:
        arms = [arm for arm in get_args(fields[theirs].type) if arm is not UnsetType]
        if nested is not None:
            arms = [_nested(arm, nested) for arm in arms]
        kind = arms[0] if len(arms) == 1 else Union[tuple(arms)]  # noqa: UP007 (built)
        defined.append((ours, kind, msgspec.field(name=fields[theirs].encode_name, default=None)))
    read = msgspec.defstruct(f"Read{model.__name__}", defined, bases=(base,), frozen=True, gc=False)
    return cast("type[_S]", read)


def _nested(arm: Any, nested: type[msgspec.Struct]) -> Any:
    """`arm` with a list of structs in it (Annotated or not) made a list of `nested`."""
    if get_origin(arm) is Annotated:
        inner, *meta = get_args(arm)
        return Annotated[(_nested(inner, nested), *meta)]
    return list[nested] if get_origin(arm) is list else arm  # type: ignore[valid-type]


_JSON_ENTRY: Final = _read_as(
    WireEntry,
    models.MessageResponse,
    tuple((name, name) for name in WireEntry.__struct_fields__),  # the spec's names, snake_case
)
_JSON_ENVELOPE: Final = _read_as(
    Envelope,
    models.SendMessagesResponse,
    (
        ("error_code", "error_code"),
        ("error", "error"),
        ("description", "error_description"),
        ("entries", "messages"),
    ),
    _JSON_ENTRY,
)
_JSON_ANSWER: Final = msgspec.json.Decoder(
    _JSON_ENVELOPE,
    strict=False,  # as the generated decoders read: a number sent as a string still reads
)


def _from_xml(doc: xml_models.SendMessagesResponse) -> Envelope:
    entries = None if doc.messages is None else doc.messages.message  # each one an `Entry`
    return Envelope(doc.error_code, doc.error, doc.error_description, entries)


def _none(value: Any) -> Any:
    return None if value is UNSET else value
