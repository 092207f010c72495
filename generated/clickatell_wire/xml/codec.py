# generated from spec/messages.xsd by python -m codegen, do not edit
"""Fast XML reading and writing for the xsdata models in `messages`.

xsdata's generic serializer and parser walk metadata for every node, which costs about ten times
what the standard library's parser does for a 200-recipient document. These functions are emitted
from the same metadata ahead of time: writing is string building with escaping, reading is
`xml.etree.ElementTree` plus one direct branch per known element. Reading is tolerant (unknown
elements are skipped, absent ones are None); writing is strict (characters XML 1.0 cannot carry
are refused).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from .messages import (
    Charset,
    Message,
    Messages,
    SendMessageRequest,
    SendMessagesResponse,
)

__all__ = [
    "XmlDecodeError",
    "XmlEncodeError",
    "decode_send_message_request",
    "decode_send_messages_response",
    "encode_send_message_request",
    "encode_send_messages_response",
]

_E = TypeVar("_E", bound=Enum)
_PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TRUE = frozenset(("true", "1"))
_FALSE = frozenset(("false", "0"))
_UTF16_MARKS = (b"\xfe\xff", b"\xff\xfe")


class XmlDecodeError(ValueError):
    """A document that is not well-formed, or whose element holds a value of the wrong type."""


class XmlEncodeError(ValueError):
    """A value that cannot be written as XML 1.0 text."""


class _TreeWithoutDoctype(TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        # expat reports a DOCTYPE where it begins, before any entity in it is declared: stopping
        # here means no entity is ever expanded (nested entities that grow a small answer to
        # gigabytes, or an external one naming a local file). Our documents never have one.
        raise XmlDecodeError(f"the document declares a DOCTYPE (<!DOCTYPE {name[:40]}), refused")


def _parse(data: bytes | str) -> Element:
    # The C tree builder parses about a third faster than any subclass of it, so a document
    # that cannot hold a DOCTYPE goes to it: one whose bytes are ASCII-compatible (UTF-8, as
    # every answer seen is; UTF-16 and -32 put a NUL or a byte-order mark first) and do not hold
    # `<!DOCTYPE`, which a DOCTYPE is in such an encoding. Anything else meets the builder that
    # stops at the DOCTYPE itself (or parses on, where the text was in a comment or CDATA).
    if isinstance(data, str):
        plain = "<!DOCTYPE" not in data
    else:
        head = data[:4]
        plain = b"\x00" not in head and head[:2] not in _UTF16_MARKS and b"<!DOCTYPE" not in data
    parser = XMLParser() if plain else XMLParser(target=_TreeWithoutDoctype())
    parser.feed(data)
    root: Element = parser.close()
    return root


def _esc(value: str, where: str, tag: str) -> str:
    if _ILLEGAL.search(value):
        raise XmlEncodeError(
            f"{where}/{tag}: contains a character XML 1.0 cannot carry (a control character or a lone surrogate)"
        )
    if "&" in value or "<" in value or ">" in value or "\r" in value:
        value = (
            value.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("\r", "&#13;")
        )
    return value


def _int(el: Element, where: str) -> int:
    try:
        return int((el.text or "").strip())
    except ValueError:
        raise XmlDecodeError(f"{where}/{el.tag}: {el.text!r} is not an integer") from None


def _float(el: Element, where: str) -> float:
    try:
        return float((el.text or "").strip())
    except ValueError:
        raise XmlDecodeError(f"{where}/{el.tag}: {el.text!r} is not a number") from None


def _bool(el: Element, where: str) -> bool:
    text = (el.text or "").strip()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise XmlDecodeError(f"{where}/{el.tag}: {el.text!r} is not a boolean (true, false, 1 or 0)")


def _enum(kind: type[_E], el: Element, where: str) -> _E:
    try:
        return kind((el.text or "").strip())
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise XmlDecodeError(f"{where}/{el.tag}: {el.text!r} is not one of {allowed}") from None


def _write_message(obj: Message, out: list[str], where: str, tag: str) -> None:
    out.append(f"<{tag}>")
    if obj.api_message_id is not None:
        out.append(
            "<ApiMessageId>" + _esc(obj.api_message_id, where, "ApiMessageId") + "</ApiMessageId>"
        )
    if obj.accepted is not None:
        out.append("<Accepted>true</Accepted>" if obj.accepted else "<Accepted>false</Accepted>")
    if obj.to is not None:
        out.append("<To>" + _esc(obj.to, where, "To") + "</To>")
    if obj.error_code is not None:
        out.append(f"<ErrorCode>{obj.error_code!r}</ErrorCode>")
    if obj.error is not None:
        out.append("<Error>" + _esc(obj.error, where, "Error") + "</Error>")
    if obj.error_description is not None:
        out.append(
            "<ErrorDescription>"
            + _esc(obj.error_description, where, "ErrorDescription")
            + "</ErrorDescription>"
        )
    out.append(f"</{tag}>")


def _read_message(el: Element, where: str) -> Message:
    api_message_id: str | None = None
    accepted: bool | None = None
    to: str | None = None
    error_code: int | None = None
    error: str | None = None
    error_description: str | None = None
    for child in el:
        tag = child.tag
        if tag == "ApiMessageId":
            api_message_id = child.text or ""

        elif tag == "Accepted":
            accepted = child.text == "true" or _bool(child, where)

        elif tag == "To":
            to = child.text or ""

        elif tag == "ErrorCode":
            error_code = _int(child, where)

        elif tag == "Error":
            error = child.text or ""

        elif tag == "ErrorDescription":
            error_description = child.text or ""

        # Anything else is an element this schema does not know: skipped, as the spec allows.
    return Message(
        api_message_id=api_message_id,
        accepted=accepted,
        to=to,
        error_code=error_code,
        error=error,
        error_description=error_description,
    )


def _write_messages(obj: Messages, out: list[str], where: str, tag: str) -> None:
    out.append(f"<{tag}>")
    for item in obj.message:
        _write_message(item, out, where + "/Message", "Message")
    out.append(f"</{tag}>")


def _read_messages(el: Element, where: str) -> Messages:
    message: list[Message] = []
    for child in el:
        tag = child.tag
        if tag == "Message":
            message.append(_read_message(child, where + "/Message"))

        # Anything else is an element this schema does not know: skipped, as the spec allows.
    return Messages(
        message=message,
    )


def _write_send_message_request(
    obj: SendMessageRequest, out: list[str], where: str, tag: str
) -> None:
    out.append(f"<{tag}>")
    out.append("<Content>" + _esc(obj.content, where, "Content") + "</Content>")
    for item in obj.to:
        out.append("<To>" + (item if item.isalnum() else _esc(item, where, "To")) + "</To>")
    if obj.from_value is not None:
        out.append("<From>" + _esc(obj.from_value, where, "From") + "</From>")
    if obj.binary is not None:
        out.append("<Binary>true</Binary>" if obj.binary else "<Binary>false</Binary>")
    if obj.client_message_id is not None:
        out.append(
            "<ClientMessageId>"
            + _esc(obj.client_message_id, where, "ClientMessageId")
            + "</ClientMessageId>"
        )
    if obj.scheduled_delivery_time is not None:
        out.append(
            "<ScheduledDeliveryTime>"
            + _esc(obj.scheduled_delivery_time, where, "ScheduledDeliveryTime")
            + "</ScheduledDeliveryTime>"
        )
    if obj.user_data_header is not None:
        out.append(
            "<UserDataHeader>"
            + _esc(obj.user_data_header, where, "UserDataHeader")
            + "</UserDataHeader>"
        )
    if obj.validity_period is not None:
        out.append(f"<ValidityPeriod>{obj.validity_period!r}</ValidityPeriod>")
    if obj.charset is not None:
        out.append("<Charset>" + _esc(obj.charset.value, where, "Charset") + "</Charset>")
    out.append(f"</{tag}>")


def _read_send_message_request(el: Element, where: str) -> SendMessageRequest:
    content: str | None = None
    to: list[str] = []
    from_value: str | None = None
    binary: bool | None = None
    client_message_id: str | None = None
    scheduled_delivery_time: str | None = None
    user_data_header: str | None = None
    validity_period: int | None = None
    charset: Charset | None = None
    for child in el:
        tag = child.tag
        if tag == "Content":
            content = child.text or ""

        elif tag == "To":
            to.append(child.text or "")

        elif tag == "From":
            from_value = child.text or ""

        elif tag == "Binary":
            binary = child.text == "true" or _bool(child, where)

        elif tag == "ClientMessageId":
            client_message_id = child.text or ""

        elif tag == "ScheduledDeliveryTime":
            scheduled_delivery_time = child.text or ""

        elif tag == "UserDataHeader":
            user_data_header = child.text or ""

        elif tag == "ValidityPeriod":
            validity_period = _int(child, where)

        elif tag == "Charset":
            charset = _enum(Charset, child, where)

        # Anything else is an element this schema does not know: skipped, as the spec allows.
    if content is None:
        raise XmlDecodeError(f"{where}/Content: required element is missing")
    return SendMessageRequest(
        content=content,
        to=to,
        from_value=from_value,
        binary=binary,
        client_message_id=client_message_id,
        scheduled_delivery_time=scheduled_delivery_time,
        user_data_header=user_data_header,
        validity_period=validity_period,
        charset=charset,
    )


def _write_send_messages_response(
    obj: SendMessagesResponse, out: list[str], where: str, tag: str
) -> None:
    out.append(f"<{tag}>")
    if obj.messages is not None:
        _write_messages(obj.messages, out, where + "/Messages", "Messages")
    if obj.error_code is not None:
        out.append(f"<ErrorCode>{obj.error_code!r}</ErrorCode>")
    if obj.error is not None:
        out.append("<Error>" + _esc(obj.error, where, "Error") + "</Error>")
    if obj.error_description is not None:
        out.append(
            "<ErrorDescription>"
            + _esc(obj.error_description, where, "ErrorDescription")
            + "</ErrorDescription>"
        )
    out.append(f"</{tag}>")


def _read_send_messages_response(el: Element, where: str) -> SendMessagesResponse:
    messages: Messages | None = None
    error_code: int | None = None
    error: str | None = None
    error_description: str | None = None
    for child in el:
        tag = child.tag
        if tag == "Messages":
            messages = _read_messages(child, where + "/Messages")

        elif tag == "ErrorCode":
            error_code = _int(child, where)

        elif tag == "Error":
            error = child.text or ""

        elif tag == "ErrorDescription":
            error_description = child.text or ""

        # Anything else is an element this schema does not know: skipped, as the spec allows.
    return SendMessagesResponse(
        messages=messages,
        error_code=error_code,
        error=error,
        error_description=error_description,
    )


def encode_send_message_request(obj: SendMessageRequest) -> bytes:
    """Write a `<SendMessageRequest>` document (UTF-8, with an XML declaration)."""
    out = [_PROLOG]
    _write_send_message_request(obj, out, "SendMessageRequest", "SendMessageRequest")
    return "".join(out).encode("utf-8")


def decode_send_message_request(data: bytes | str) -> SendMessageRequest:
    """Read a `<SendMessageRequest>` document; unknown elements are skipped."""
    try:
        root = _parse(data)
    except ParseError as exc:
        raise XmlDecodeError(f"not well-formed XML: {exc}") from None
    if root.tag != "SendMessageRequest":
        raise XmlDecodeError(f"expected a <SendMessageRequest> document, got <{root.tag}>")
    return _read_send_message_request(root, "SendMessageRequest")


def encode_send_messages_response(obj: SendMessagesResponse) -> bytes:
    """Write a `<SendMessagesResponse>` document (UTF-8, with an XML declaration)."""
    out = [_PROLOG]
    _write_send_messages_response(obj, out, "SendMessagesResponse", "SendMessagesResponse")
    return "".join(out).encode("utf-8")


def decode_send_messages_response(data: bytes | str) -> SendMessagesResponse:
    """Read a `<SendMessagesResponse>` document; unknown elements are skipped."""
    try:
        root = _parse(data)
    except ParseError as exc:
        raise XmlDecodeError(f"not well-formed XML: {exc}") from None
    if root.tag != "SendMessagesResponse":
        raise XmlDecodeError(f"expected a <SendMessagesResponse> document, got <{root.tag}>")
    return _read_send_messages_response(root, "SendMessagesResponse")
