# generated from spec/openapi.yaml sha256 4ef00f7142349f23112e6030d87ee061204ee554c5c5b1dc6d0b30f0a9cd7cb8, do not edit
"""The operations of Clickatell Platform messaging API 1.0.0: a builder, a decoder and two callers each.

`build_op(...)` makes the `Request` the spec describes (no key, no I/O), which either transport
sends; `op(transport, ...)` and `await op_async(async_transport, ...)` send it once and return
the raw `Response`; `decode_op(response)` reads its body into the model the spec names for that
status and media type. Keeping them apart lets a caller look at the status and headers before
paying for a parse, and retry without rebuilding. XML support is imported on first use, so
JSON-only programs never load it; neither transport is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import quote

import msgspec

from . import models
from .http_types import Request, Response, WireDecodeError

if TYPE_CHECKING:
    from .async_transport import AsyncTransport
    from .transport import Transport
    from .xml import messages as xml_models

__all__ = [
    "build_get_balance",
    "build_get_message_status",
    "build_send_message",
    "build_send_message_http",
    "decode_get_balance",
    "decode_get_message_status",
    "decode_send_message",
    "decode_send_message_http",
    "get_balance",
    "get_balance_async",
    "get_message_status",
    "get_message_status_async",
    "send_message",
    "send_message_async",
    "send_message_http",
    "send_message_http_async",
]

_T = TypeVar("_T")
_json_encoder = msgspec.json.Encoder()
_json_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def _decode_json(body: bytes, model: type[_T], response: Response) -> _T:
    decoder = _json_decoders.get(model)
    if decoder is None:
        # strict=False: a number sent as a string ("105") still reads; the spec is tolerant there.
        decoder = _json_decoders[model] = msgspec.json.Decoder(model, strict=False)
    try:
        result: _T = decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WireDecodeError(f"{model.__name__}: {exc}", response) from exc
    return result


def _decode_xml(body: bytes, decode: Any, response: Response) -> Any:
    try:
        return decode(body)
    except ValueError as exc:
        raise WireDecodeError(str(exc), response) from exc


def _media_type(response: Response, fallback: str) -> str:
    media = response.media_type
    if media in ("application/json", "application/xml"):
        return media
    head = response.body.lstrip()[:1]
    return (
        "application/xml"
        if head == b"<"
        else "application/json"
        if head in (b"{", b"[")
        else fallback
    )


def _pick(table: Mapping[str, _T], status: int) -> _T | None:
    """The spec's entry for a status: exact code, then `4XX`-style range, then `default`."""
    code = str(status)
    return table.get(code) or table.get(code[0] + "XX") or table.get("default")


def build_get_balance(
    *,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The request of the account's remaining balance: `GET /public-client/balance`.

    The balance is given in the billing currency set on the account.
    """
    request_headers = {"Accept": "application/json"}
    if headers:
        request_headers.update(headers)
    return Request(
        "getBalance",
        "GET",
        "/public-client/balance",
        "",
        request_headers,
        None,
        "apiKeyHeader",
    )


def get_balance(
    transport: Transport,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """The account's remaining balance: `GET /public-client/balance`, one attempt (see `build_get_balance`)."""
    request = build_get_balance(headers=headers)
    return transport.send(request, timeout=timeout, deadline=deadline)


async def get_balance_async(
    transport: AsyncTransport,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """The account's remaining balance, on the asyncio transport: one attempt (see `build_get_balance`)."""
    request = build_get_balance(headers=headers)
    return await transport.send(request, timeout=timeout, deadline=deadline)


_GET_BALANCE_JSON: dict[str, type[Any]] = {
    "200": models.BalanceResponse,
    "401": models.ErrorResponse,
    "405": models.ErrorResponse,
    "429": models.ErrorResponse,
    "500": models.ErrorResponse,
    "503": models.ErrorResponse,
}


def decode_get_balance(response: Response) -> models.BalanceResponse | models.ErrorResponse:
    """Read a `get_balance` answer into the spec's model for its status and media type.

    Statuses in the spec: 200, 401, 405, 429, 500, 503; any other
    status is read with the last error schema listed.
    """
    json_model = _pick(_GET_BALANCE_JSON, response.status) or models.ErrorResponse
    return cast(
        "models.BalanceResponse | models.ErrorResponse",
        _decode_json(response.body, json_model, response),
    )


def build_get_message_status(
    *,
    message_id: str,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The request of the latest status of one sent message: `GET /public-client/message/status`.

    Looks up a message by the `apiMessageId` that the send returned. Clickatell publishes no
    schema for this answer; the fields here are what community clients read (`status`) plus
    the numeric code and description that the status callback carries.
    """
    request_headers = {"Accept": "application/json"}
    query: list[str] = []
    query.append("messageId=" + quote(message_id, safe=""))
    if headers:
        request_headers.update(headers)
    return Request(
        "getMessageStatus",
        "GET",
        "/public-client/message/status",
        "&".join(query),
        request_headers,
        None,
        "apiKeyHeader",
    )


def get_message_status(
    transport: Transport,
    *,
    message_id: str,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """The latest status of one sent message: `GET /public-client/message/status`, one attempt (see `build_get_message_status`)."""
    request = build_get_message_status(message_id=message_id, headers=headers)
    return transport.send(request, timeout=timeout, deadline=deadline)


async def get_message_status_async(
    transport: AsyncTransport,
    *,
    message_id: str,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """The latest status of one sent message, on the asyncio transport: one attempt (see `build_get_message_status`)."""
    request = build_get_message_status(message_id=message_id, headers=headers)
    return await transport.send(request, timeout=timeout, deadline=deadline)


_GET_MESSAGE_STATUS_JSON: dict[str, type[Any]] = {
    "200": models.MessageStatusResponse,
    "400": models.ErrorResponse,
    "401": models.ErrorResponse,
    "405": models.ErrorResponse,
    "404": models.ErrorResponse,
    "429": models.ErrorResponse,
    "500": models.ErrorResponse,
    "503": models.ErrorResponse,
}


def decode_get_message_status(
    response: Response,
) -> models.MessageStatusResponse | models.ErrorResponse:
    """Read a `get_message_status` answer into the spec's model for its status and media type.

    Statuses in the spec: 200, 400, 401, 405, 404, 429, 500, 503; any other
    status is read with the last error schema listed.
    """
    json_model = _pick(_GET_MESSAGE_STATUS_JSON, response.status) or models.ErrorResponse
    return cast(
        "models.MessageStatusResponse | models.ErrorResponse",
        _decode_json(response.body, json_model, response),
    )


def build_send_message(
    body: models.SendMessageRequest | xml_models.SendMessageRequest,
    *,
    accept: Literal["application/json", "application/xml"] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The request of send one text to up to 200 recipients: `POST /messages`.

    Submits one message to every number in `to`. The answer is `202` with one entry per
    recipient, each either accepted (with the `apiMessageId` that later callbacks and status
    look-ups use) or rejected with a code and description. A failure of the request as a whole
    puts `errorCode`, `error` and `errorDescription` at the top level with an empty `messages`
    list; the live API has been seen to do that with status `200`, so success must be read from
    the body, never from the status alone.

    This operation is not idempotent: a request that reached Clickatell and is sent again
    delivers (and charges for) the message again.
    """
    if isinstance(body, models.SendMessageRequest):
        payload = _json_encoder.encode(body)
        content_type = "application/json"
    else:
        from .xml.codec import encode_send_message_request

        payload = encode_send_message_request(body)
        content_type = "application/xml"
    request_headers = {"Content-Type": content_type, "Accept": accept or content_type}
    if headers:
        request_headers.update(headers)
    return Request(
        "sendMessage",
        "POST",
        "/messages",
        "",
        request_headers,
        payload,
        "apiKeyHeader",
    )


def send_message(
    transport: Transport,
    body: models.SendMessageRequest | xml_models.SendMessageRequest,
    *,
    accept: Literal["application/json", "application/xml"] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """Send one text to up to 200 recipients: `POST /messages`, one attempt (see `build_send_message`)."""
    request = build_send_message(body, accept=accept, headers=headers)
    return transport.send(request, timeout=timeout, deadline=deadline)


async def send_message_async(
    transport: AsyncTransport,
    body: models.SendMessageRequest | xml_models.SendMessageRequest,
    *,
    accept: Literal["application/json", "application/xml"] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """Send one text to up to 200 recipients, on the asyncio transport: one attempt (see `build_send_message`)."""
    request = build_send_message(body, accept=accept, headers=headers)
    return await transport.send(request, timeout=timeout, deadline=deadline)


_SEND_MESSAGE_JSON: dict[str, type[Any]] = {
    "202": models.SendMessagesResponse,
    "200": models.SendMessagesResponse,
    "400": models.SendMessagesResponse,
    "401": models.SendMessagesResponse,
    "403": models.SendMessagesResponse,
    "404": models.SendMessagesResponse,
    "405": models.SendMessagesResponse,
    "413": models.SendMessagesResponse,
    "429": models.SendMessagesResponse,
    "500": models.SendMessagesResponse,
    "503": models.SendMessagesResponse,
}
_SEND_MESSAGE_XML: dict[str, str] = {
    "202": "decode_send_messages_response",
    "200": "decode_send_messages_response",
    "400": "decode_send_messages_response",
    "401": "decode_send_messages_response",
    "403": "decode_send_messages_response",
    "404": "decode_send_messages_response",
    "405": "decode_send_messages_response",
    "413": "decode_send_messages_response",
    "429": "decode_send_messages_response",
    "500": "decode_send_messages_response",
    "503": "decode_send_messages_response",
}


def decode_send_message(
    response: Response,
) -> models.SendMessagesResponse | xml_models.SendMessagesResponse:
    """Read a `send_message` answer into the spec's model for its status and media type.

    Statuses in the spec: 202, 200, 400, 401, 403, 404, 405, 413, 429, 500, 503; any other
    status is read with the last error schema listed.
    """
    if _media_type(response, "application/json") == "application/xml":
        from .xml import codec

        name = _pick(_SEND_MESSAGE_XML, response.status) or "decode_send_messages_response"
        return cast(
            "models.SendMessagesResponse | xml_models.SendMessagesResponse",
            _decode_xml(response.body, getattr(codec, name), response),
        )
    json_model = _pick(_SEND_MESSAGE_JSON, response.status) or models.SendMessagesResponse
    return cast(
        "models.SendMessagesResponse | xml_models.SendMessagesResponse",
        _decode_json(response.body, json_model, response),
    )


def build_send_message_http(
    *,
    to: Sequence[str],
    content: str,
    from_: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The request of send a text with a GET request (HTTP integrations): `GET /messages/http/send`.

    The HTTP integration's way to send: everything travels in the query string, the API key
    included. Because the key is part of the URL it ends up in proxy and server logs; prefer
    `POST /messages` where the integration allows it. Recipients go as one comma-separated
    `to` value. The answer uses the same envelope as `POST /messages`.
    """
    request_headers = {"Accept": "application/json"}
    query: list[str] = []
    query.append("to=" + ",".join(quote(v, safe="") for v in to))
    query.append("content=" + quote(content, safe=""))
    if from_ is not None:
        query.append("from=" + quote(from_, safe=""))
    if headers:
        request_headers.update(headers)
    return Request(
        "sendMessageHttp",
        "GET",
        "/messages/http/send",
        "&".join(query),
        request_headers,
        None,
        "apiKeyQuery",
    )


def send_message_http(
    transport: Transport,
    *,
    to: Sequence[str],
    content: str,
    from_: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """Send a text with a GET request (HTTP integrations): `GET /messages/http/send`, one attempt (see `build_send_message_http`)."""
    request = build_send_message_http(to=to, content=content, from_=from_, headers=headers)
    return transport.send(request, timeout=timeout, deadline=deadline)


async def send_message_http_async(
    transport: AsyncTransport,
    *,
    to: Sequence[str],
    content: str,
    from_: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    deadline: float | None = None,
) -> Response:
    """Send a text with a GET request (HTTP integrations), on the asyncio transport: one attempt (see `build_send_message_http`)."""
    request = build_send_message_http(to=to, content=content, from_=from_, headers=headers)
    return await transport.send(request, timeout=timeout, deadline=deadline)


_SEND_MESSAGE_HTTP_JSON: dict[str, type[Any]] = {
    "200": models.SendMessagesResponse,
    "202": models.SendMessagesResponse,
    "400": models.SendMessagesResponse,
    "401": models.SendMessagesResponse,
    "405": models.SendMessagesResponse,
    "429": models.SendMessagesResponse,
    "500": models.SendMessagesResponse,
    "503": models.SendMessagesResponse,
}


def decode_send_message_http(response: Response) -> models.SendMessagesResponse:
    """Read a `send_message_http` answer into the spec's model for its status and media type.

    Statuses in the spec: 200, 202, 400, 401, 405, 429, 500, 503; any other
    status is read with the last error schema listed.
    """
    json_model = _pick(_SEND_MESSAGE_HTTP_JSON, response.status) or models.SendMessagesResponse
    return cast("models.SendMessagesResponse", _decode_json(response.body, json_model, response))
