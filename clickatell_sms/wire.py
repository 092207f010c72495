"""The one place that knows the generated code's names: facade values in, wire models out.

The JSON models (datamodel-code-generator) and the XML bindings (xsdata) name the same things
differently (`from_` and `from_value`, UNSET and None, a `messages` list and a wrapped
`messages.message` list). Everything above this module sees one neutral shape, so a spec change
that renames a wire field is a change here and nowhere else.

XML support is imported on first use: JSON-only programs never load it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from clickatell_wire import models, operations
from clickatell_wire.transport import Response, RetryLike, TimeoutLike, Transport
from msgspec import UNSET

if TYPE_CHECKING:
    from clickatell_wire.xml import messages as xml_models

    from .config import Format

__all__ = ["Envelope", "Outgoing", "WireEntry", "build_request", "post", "read_envelope"]


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


WireEntry = tuple[str | None, bool | None, str | None, int | None, str | None, str | None]
"""One recipient's entry in an answer: `(to, accepted, api_message_id, error_code, error,
description)`, None wherever the API left a value out. A plain tuple, not a NamedTuple: a
200-recipient answer builds 200 of them, and tuple displays are several times cheaper."""


class Envelope(NamedTuple):
    """An answer's request-level error fields and its entries (None when `messages` was absent)."""

    error_code: int | None
    error: str | None
    description: str | None
    entries: list[WireEntry] | None


def build_request(
    fmt: Format, message: Outgoing, numbers: list[str]
) -> models.SendMessageRequest | xml_models.SendMessageRequest:
    """The generated request model for one request's recipients; unset options are left out."""
    if fmt == "json":
        return models.SendMessageRequest(
            content=message.content,
            to=numbers,
            from_=_unset(message.from_),
            binary=_unset(message.binary),
            client_message_id=_unset(message.client_message_id),
            scheduled_delivery_time=_unset(message.scheduled_delivery_time),
            user_data_header=_unset(message.user_data_header),
            validity_period=_unset(message.validity_period),
            charset=_unset(message.charset),
        )
    from clickatell_wire.xml import messages as xml

    return xml.SendMessageRequest(
        content=message.content,
        to=numbers,
        from_value=message.from_,
        binary=message.binary,
        client_message_id=message.client_message_id,
        scheduled_delivery_time=message.scheduled_delivery_time,
        user_data_header=message.user_data_header,
        validity_period=message.validity_period,
        charset=None if message.charset is None else xml.Charset(message.charset),
    )


def post(
    transport: Transport,
    body: models.SendMessageRequest | xml_models.SendMessageRequest,
    *,
    headers: Mapping[str, str] | None,
    timeout: TimeoutLike,
    retries: RetryLike,
) -> Response:
    """Send one request with the generated operation (urllib3's exceptions pass through)."""
    return operations.send_message(
        transport, body, headers=headers, timeout=timeout, retries=retries
    )


def read_envelope(response: Response) -> Envelope:
    """The answer's fields, whatever its format; raises `WireDecodeError` for an unreadable body."""
    decoded = operations.decode_send_message(response)
    if isinstance(decoded, models.SendMessagesResponse):
        return _from_json(decoded)
    return _from_xml(decoded)


def _from_json(doc: models.SendMessagesResponse) -> Envelope:
    unset = UNSET
    entries: list[WireEntry] | None = None
    if doc.messages is not unset:
        entries = [
            (
                None if m.to is unset else m.to,
                None if m.accepted is unset else m.accepted,
                None if m.api_message_id is unset else m.api_message_id,
                None if m.error_code is unset else m.error_code,
                None if m.error is unset else m.error,
                None if m.error_description is unset else m.error_description,
            )
            for m in doc.messages
        ]
    return Envelope(_none(doc.error_code), _none(doc.error), _none(doc.error_description), entries)


def _from_xml(doc: xml_models.SendMessagesResponse) -> Envelope:
    entries: list[WireEntry] | None = None
    if doc.messages is not None:
        entries = [
            (m.to, m.accepted, m.api_message_id, m.error_code, m.error, m.error_description)
            for m in doc.messages.message
        ]
    return Envelope(doc.error_code, doc.error, doc.error_description, entries)


def _unset(value: Any) -> Any:
    return UNSET if value is None else value


def _none(value: Any) -> Any:
    return None if value is UNSET else value
