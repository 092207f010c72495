"""Reading send requests into plain values, and writing answers through the generated wire code.

Reading yields the request's fields by their JSON names, as the wire had them: a JSON object as
decoded; an XML document with each element read as the XSD types it (tokens trimmed, so an
indented `<To>` is the number inside it; `Content` kept as written; numbers and booleans parsed);
a GET send's query with its text converted to the fields' kinds. The field names, XML elements
and kinds all come from the spec (`clickatell_wire.tables`); `validation` then checks the values,
rule by rule. What a reader itself can find wrong (a body that is not JSON or XML at all, an
element the XSD does not name) it weighs in the request's `Findings`.

Answers are written with the generated msgspec models (JSON) and the generated codec (XML), so
they are exactly what the spec describes; quirks then bend them on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

import msgspec
from clickatell_wire import models
from clickatell_wire.tables import SEND_FIELDS, Field
from clickatell_wire.xml import codec
from clickatell_wire.xml import messages as xml_models

from ..options import GET_SEND
from .codes import ApiError
from .profile import Findings
from .quirks import Quirks

__all__ = [
    "Outcome",
    "WireFormat",
    "error_document",
    "read_json_request",
    "read_query_request",
    "read_xml_request",
    "send_document",
]

WireFormat = Literal["json", "xml"]

_ROOT: Final = "SendMessageRequest"
_BY_ELEMENT: Final[Mapping[str, Field]] = {f.xml_element: f for f in SEND_FIELDS}
_QUERY_FIELDS: Final[Mapping[str, Field]] = {
    f.json_name: f for f in SEND_FIELDS if GET_SEND in f.carried_by
}
_QUERY_KEY: Final = "apiKey"
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_XSD_TRUE: Final = frozenset({"true", "1"})
_XSD_FALSE: Final = frozenset({"false", "0"})
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_json_decoder: Final = msgspec.json.Decoder()
_json_encoder: Final = msgspec.json.Encoder()


# --------------------------------------------------------------------------------------------
# Reading


def read_json_request(body: bytes, findings: Findings) -> dict[str, Any]:
    """A JSON object's fields; `malformed` when the body is not one."""
    try:
        document = _json_decoder.decode(body)
    except msgspec.DecodeError as exc:
        findings.fatal("malformed", f"The JSON data submitted is invalid: {exc}.")
    except RecursionError:  # msgspec's answer to nesting deeper than it will follow
        findings.fatal("malformed", "The JSON data submitted is nested too deeply.")
    if not isinstance(document, dict):
        findings.fatal("malformed", "The JSON document must be an object.")
    return document


def read_xml_request(body: bytes, findings: Findings) -> dict[str, Any]:
    """A `<SendMessageRequest>`'s fields, read as the XSD types them.

    Elements the XSD does not name are recorded as unknown (`unknown-element`). An element
    that holds other elements, or a single-valued one that repeats, is the wrong type for its
    field.
    """
    try:
        root = _parse_xml(body)
    except _DoctypeFound as found:
        findings.fatal(
            "xml-doctype",
            f"The XML document declares a DOCTYPE ({found}); documents must not have one.",
        )
    except ParseError as exc:
        findings.fatal("malformed", f"The XML data submitted is invalid: {exc}.")
    if root.tag != _ROOT:
        findings.fatal("malformed", f"The XML document must be a {_ROOT}, not {root.tag!r}.")
    document: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for child in root:
        field = _BY_ELEMENT.get(child.tag)
        if field is None:
            unknown[child.tag] = _unknown_value(child)
            continue
        if len(child):
            findings.fatal("field-type", f"{child.tag} must hold text, not elements.")
        if field.kind == "array":
            document.setdefault(field.json_name, []).append(_element_text(field, child))
            continue
        if field.json_name in document:
            findings.fatal("field-type", f"{child.tag} may appear only once.")
        document[field.json_name] = _from_text(field, _element_text(field, child), findings)
    if unknown:
        findings.unknown.update(unknown)
        names = ", ".join(sorted(unknown))
        findings.broken("unknown-element", f"Unknown element(s) in {_ROOT}: {names}.")
    return document


class _DoctypeFound(Exception):
    """A DOCTYPE began: the parse stops there, before its internal subset is read."""


class _TreeWithoutDoctype(TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        # expat reports the start of the declaration, before any entity in it is declared, so
        # raising here means no entity is ever expanded, whatever the body's encoding.
        raise _DoctypeFound(f"<!DOCTYPE {name[:40]}")


def _parse_xml(body: bytes) -> Element:
    """The document's root; `_DoctypeFound` at a DOCTYPE, ParseError when not well-formed."""
    parser = XMLParser(target=_TreeWithoutDoctype())
    parser.feed(body)
    root: Element = parser.close()
    return root


def read_query_request(query: Mapping[str, Sequence[str]], findings: Findings) -> dict[str, Any]:
    """The GET send's fields from its query: `to` (comma-separated, possibly repeated),
    `content`, `from`, each converted from text to its field's kind.

    Parameters the spec does not give this operation are recorded as unknown
    (`unknown-parameter`);
    `apiKey` is the key, checked before this.
    """
    document: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for name, values in query.items():
        field = _QUERY_FIELDS.get(name)
        if field is None:
            if name != _QUERY_KEY:
                unknown[name] = values[0] if len(values) == 1 else list(values)
            continue
        if field.kind == "array":
            document[name] = [item for value in values for item in value.split(",")]
        else:
            document[name] = _from_text(field, values[0], findings)
    if unknown:
        findings.unknown.update(unknown)
        names = ", ".join(sorted(unknown))
        findings.broken("unknown-parameter", f"Unknown query parameter(s): {names}.")
    return document


def _element_text(field: Field, element: Element) -> str:
    """The element's text; every field but the message itself is an XSD token (trimmed)."""
    text = element.text or ""
    return text if field.json_name == "content" else text.strip()


def _from_text(field: Field, text: str, findings: Findings) -> Any:
    """Text as the field's kind, as an XML parser or a query reader would take it."""
    if field.kind == "integer":
        if _INTEGER.fullmatch(text.strip()):
            return int(text)
        findings.fatal("field-type", f"{field.json_name} must be an integer, not {text!r}.")
    if field.kind == "number":
        try:
            return float(text)
        except ValueError:
            findings.fatal("field-type", f"{field.json_name} must be a number, not {text!r}.")
    if field.kind == "boolean":
        word = text.strip()
        if word in _XSD_TRUE or word in _XSD_FALSE:
            return word in _XSD_TRUE
        findings.fatal(
            "field-type", f"{field.json_name} must be true, false, 1 or 0, not {text!r}."
        )
    return text


def _unknown_value(element: Element) -> str:
    """An unknown element's text; one that holds elements is only described (serialising an
    element nested a hundred thousand deep would exhaust the stack)."""
    if len(element):
        return f"(an element holding {len(element)} element(s): not recorded)"
    return (element.text or "").strip()


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
