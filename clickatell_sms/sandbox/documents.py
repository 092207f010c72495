"""Reading send requests and writing answers, through the generated wire code only.

The sandbox must fail when the spec and the server disagree, so it owns no document shapes of its
own: JSON goes through the generated msgspec models (`clickatell_wire.models`), XML through the
generated codec (`clickatell_wire.xml.codec`), and every field constraint (lengths, patterns,
enums, ranges) is the one the generator copied from `spec/openapi.yaml`. What the generated code
does not enforce (unknown fields, unique recipients, the >200 case that deserves its own text)
is checked here, and each failure is mapped to the Clickatell error a client should see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal
from xml.etree.ElementTree import ParseError, fromstring

import msgspec
from clickatell_wire import models
from clickatell_wire.tables import SEND_FIELDS, SEND_OPTIONS, send_field
from clickatell_wire.xml import codec
from clickatell_wire.xml import messages as xml_models

from ..options import GET_SEND
from .codes import (
    EMPTY_MESSAGE,
    INVALID_PARAMETERS,
    INVALID_UDH,
    MALFORMED,
    TOO_MANY_RECIPIENTS,
    ApiError,
)
from .quirks import Quirks
from .timeline import parse_delivery_time

__all__ = [
    "MAX_RECIPIENTS",
    "Outcome",
    "Refusal",
    "WireFormat",
    "error_document",
    "read_json_request",
    "read_query_request",
    "read_xml_request",
    "send_document",
]

WireFormat = Literal["json", "xml"]


MAX_RECIPIENTS: Final = send_field("to").max_items or 200  # the spec's maxItems
_FIELDS: Final = frozenset(f.encode_name for f in msgspec.structs.fields(models.SendMessageRequest))
_XML_ELEMENTS: Final = frozenset(
    f.metadata["name"] for f in xml_models.SendMessageRequest.__dataclass_fields__.values()
)
_QUERY_FIELDS: Final = tuple(f for f in SEND_FIELDS if GET_SEND in f.carried_by)
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_json_decoder: Final = msgspec.json.Decoder()
_json_encoder: Final = msgspec.json.Encoder()


class Refusal(Exception):
    """A request the API would refuse as a whole; carries the error to answer with."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.description)
        self.error = error


# --------------------------------------------------------------------------------------------
# Reading


def read_json_request(body: bytes) -> models.SendMessageRequest:
    """A JSON `SendMessageRequest`; Refusal with 100 (unreadable) or 101/102/107 (invalid)."""
    try:
        document = _json_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise Refusal(MALFORMED.because(f"The JSON data submitted is invalid: {exc}.")) from None
    except RecursionError:  # msgspec's answer to nesting deeper than it will follow
        raise Refusal(MALFORMED.because("The JSON data submitted is nested too deeply.")) from None
    if not isinstance(document, dict):
        raise Refusal(MALFORMED.because("The JSON document must be an object."))
    return _validated(document)


def read_xml_request(body: bytes) -> models.SendMessageRequest:
    """An XML `<SendMessageRequest>`, read with the generated codec, validated like JSON."""
    try:
        parsed = codec.decode_send_message_request(body)
    except codec.XmlDecodeError as exc:
        raise Refusal(_classify_xml_error(body, exc)) from None
    unknown = _unknown_xml_elements(body)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise Refusal(
            INVALID_PARAMETERS.because(f"Unknown element(s) in SendMessageRequest: {names}.")
        )
    document: dict[str, Any] = {"content": parsed.content, "to": parsed.to}
    for field in SEND_OPTIONS:
        value = getattr(parsed, field.xml_attr)
        if value is not None:
            document[field.json_name] = value.value if isinstance(value, Enum) else value
    return _validated(document)


def read_query_request(query: Mapping[str, Sequence[str]]) -> models.SendMessageRequest:
    """The GET send's fields, as the spec gives them to its query: `to` (comma-separated,
    possibly repeated), `content`, `from`.

    Other query parameters are ignored, as the spec names only these (and `apiKey`). Values
    arrive as text, so they are read leniently (`"5"` for a number).
    """
    document: dict[str, Any] = {}
    for field in _QUERY_FIELDS:
        values = query.get(field.json_name)
        if not values:
            continue
        if field.kind == "array":
            document[field.json_name] = [item for value in values for item in value.split(",")]
        else:
            document[field.json_name] = values[0]
    return _validated(document, strict=False)


def _validated(document: dict[str, Any], *, strict: bool = True) -> models.SendMessageRequest:
    unknown = document.keys() - _FIELDS
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise Refusal(INVALID_PARAMETERS.because(f"Unknown field(s): {names}."))
    to = document.get("to")
    if isinstance(to, list) and len(to) > MAX_RECIPIENTS:
        raise Refusal(
            TOO_MANY_RECIPIENTS.because(
                f"Too many recipients: {len(to)} given, at most {MAX_RECIPIENTS} are allowed"
                " per request."
            )
        )
    if document.get("content") is None:
        raise Refusal(INVALID_PARAMETERS.because("The content parameter is required."))
    if document["content"] == "":
        raise Refusal(EMPTY_MESSAGE)
    if to is None:
        raise Refusal(INVALID_PARAMETERS.because("The to parameter is required."))
    try:
        request = msgspec.convert(document, models.SendMessageRequest, strict=strict)
    except msgspec.ValidationError as exc:
        text = str(exc)
        error = INVALID_UDH if text.endswith("`$.userDataHeader`") else INVALID_PARAMETERS
        raise Refusal(error.because(f"{text}.")) from None
    if len(set(request.to)) != len(request.to):
        raise Refusal(INVALID_PARAMETERS.because("Each recipient may appear only once in to."))
    if isinstance(request.scheduled_delivery_time, str):
        try:
            parse_delivery_time(request.scheduled_delivery_time)
        except ValueError:
            raise Refusal(
                INVALID_PARAMETERS.because(
                    f"scheduledDeliveryTime {request.scheduled_delivery_time!r} is not a real time."
                )
            ) from None
    return request


def _classify_xml_error(body: bytes, exc: codec.XmlDecodeError) -> ApiError:
    """100 when the document is not a readable SendMessageRequest, 101 when a field is wrong."""
    try:
        root = fromstring(body)
    except ParseError:
        return MALFORMED.because(f"The XML data submitted is invalid: {exc}.")
    if root.tag != "SendMessageRequest":
        return MALFORMED.because(f"The XML data submitted is invalid: {exc}.")
    if str(exc).endswith("Content: required element is missing"):
        return INVALID_PARAMETERS.because("The Content element is required.")
    return INVALID_PARAMETERS.because(f"{exc}.")


def _unknown_xml_elements(body: bytes) -> set[str]:
    # The codec skips unknown elements (readers are tolerant); a request must not have any.
    return {child.tag for child in fromstring(body) if child.tag not in _XML_ELEMENTS}


# --------------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer for one recipient: its message ID when accepted, else the refusal."""

    to: str
    api_message_id: str | None
    error: ApiError | None


def send_document(
    outcomes: Sequence[Outcome], fmt: WireFormat, quirks: Quirks, request_id: str
) -> bytes:
    """The `SendMessagesResponse` for a taken request, in JSON or XML, quirks applied."""
    if fmt == "xml":
        return _send_xml(outcomes, quirks, request_id)
    if not quirks.any:
        return _json_encoder.encode(
            models.SendMessagesResponse(
                messages=[_json_message(outcome) for outcome in outcomes],
                error_code=None,
                error=None,
                error_description=None,
            )
        )
    top: dict[str, Any] = {"messages": [_message_fields(o, quirks) for o in outcomes]}
    if not quirks.omit_top_level_error_keys:
        top.update(_error_fields(None, quirks))
    if quirks.extra_fields:
        top = {"requestId": request_id, **top, "sandbox": True}
    return _json_encoder.encode(top)


def error_document(error: ApiError, fmt: WireFormat, quirks: Quirks, *, envelope: bool) -> bytes:
    """A request-level error: the send envelope (`messages: []`) or the plain `ErrorResponse`."""
    if fmt == "xml":
        return _error_xml(error, quirks)
    if not quirks.any:
        if envelope:
            return _json_encoder.encode(
                models.SendMessagesResponse(
                    messages=[],
                    error_code=error.code,
                    error=error.error,
                    error_description=error.description,
                )
            )
        return _json_encoder.encode(
            models.ErrorResponse(
                error_code=error.code, error=error.error, error_description=error.description
            )
        )
    top: dict[str, Any] = {"messages": []} if envelope else {}
    top.update(_error_fields(error, quirks))
    if quirks.extra_fields:
        top["sandbox"] = True
    return _json_encoder.encode(top)


def _json_message(outcome: Outcome) -> models.MessageResponse:
    error = outcome.error
    return models.MessageResponse(
        api_message_id=outcome.api_message_id,
        accepted=error is None,
        to=outcome.to,
        error_code=None if error is None else error.code,
        error=None if error is None else error.error,
        error_description=None if error is None else error.description,
    )


def _message_fields(outcome: Outcome, quirks: Quirks) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "apiMessageId": outcome.api_message_id,
        "accepted": outcome.error is None,
        "to": outcome.to,
    }
    fields.update(_error_fields(outcome.error, quirks))
    if quirks.extra_fields:
        fields["sandbox"] = True
    return fields


def _error_fields(error: ApiError | None, quirks: Quirks) -> dict[str, Any]:
    if quirks.legacy_string_errors:
        return {"error": None if error is None else error.error}
    if error is None:
        return {"errorCode": None, "error": None, "errorDescription": None}
    return {"errorCode": error.code, "error": error.error, "errorDescription": error.description}


def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry: an echoed JSON recipient may hold control characters."""
    return _NOT_XML.sub("\ufffd", text)


def _xml_message(outcome: Outcome, quirks: Quirks) -> xml_models.Message:
    error = outcome.error
    legacy = quirks.legacy_string_errors
    return xml_models.Message(
        api_message_id=outcome.api_message_id,
        accepted=error is None,
        to=_xml_text(outcome.to),
        error_code=None if error is None or legacy else error.code,
        error=None if error is None else error.error,
        error_description=None if error is None or legacy else _xml_text(error.description),
    )


def _send_xml(outcomes: Sequence[Outcome], quirks: Quirks, request_id: str) -> bytes:
    document = codec.encode_send_messages_response(
        xml_models.SendMessagesResponse(
            messages=xml_models.Messages(message=[_xml_message(o, quirks) for o in outcomes])
        )
    )
    if quirks.extra_fields:
        document = _xml_extras(document, request_id)
    return document


def _error_xml(error: ApiError, quirks: Quirks) -> bytes:
    legacy = quirks.legacy_string_errors
    document = codec.encode_send_messages_response(
        xml_models.SendMessagesResponse(
            messages=xml_models.Messages(message=[]),
            error_code=None if legacy else error.code,
            error=error.error,
            error_description=None if legacy else _xml_text(error.description),
        )
    )
    if quirks.extra_fields:
        document = _xml_extras(document, "")
    return document


def _xml_extras(document: bytes, request_id: str) -> bytes:
    """Elements the XSD does not name, where a reader meets them: in each Message and at the end."""
    document = document.replace(b"</Message>", b"<Sandbox>true</Sandbox></Message>")
    tail = b"<RequestId>" + request_id.encode() + b"</RequestId><Sandbox>true</Sandbox>"
    return document.replace(b"</SendMessagesResponse>", tail + b"</SendMessagesResponse>")
