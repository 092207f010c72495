"""A canned Clickatell-like HTTP/1.1 server: cheap, so that the client's cost dominates.

Run as its own process (`python -m benchmarks.server`): it prints `PORT <n>` on stdout once it
listens on 127.0.0.1 and serves until its stdin closes. Keep-alive unless the client asks to
close. `POST /messages` answers `202` with one accepted entry per recipient, in JSON or XML as the
request's Content-Type (or Accept) says; recipients are found with one regular expression and
answers are cached by the recipient bytes, so a repeated request costs a dict look-up.
`GET /messages/http/send?to=a,b` answers the same JSON envelope (the HTTP integration's send).
"""

from __future__ import annotations

import asyncio
import re
import sys
from urllib.parse import parse_qs, urlsplit

_JSON_TO = re.compile(rb'"to"\s*:\s*\[(.*?)\]', re.S)
_JSON_STR = re.compile(rb'"([^"]*)"')
_XML_TO = re.compile(rb"<To>([^<]*)</To>")
_CACHE_MAX = 4096
_cache: dict[tuple[bool, bytes], bytes] = {}


def _json_body(numbers: list[bytes]) -> bytes:
    entries = b",".join(
        b'{"apiMessageId":"%032x","accepted":true,"to":"%s",'
        b'"errorCode":null,"error":null,"errorDescription":null}' % (i + 1, n.lstrip(b"+"))
        for i, n in enumerate(numbers)
    )
    return b'{"messages":[' + entries + b'],"errorCode":null,"error":null,"errorDescription":null}'


def _xml_body(numbers: list[bytes]) -> bytes:
    entries = b"".join(
        b"<Message><ApiMessageId>%032x</ApiMessageId><Accepted>true</Accepted>"
        b"<To>%s</To></Message>" % (i + 1, n.lstrip(b"+"))
        for i, n in enumerate(numbers)
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b"<SendMessagesResponse><Messages>" + entries + b"</Messages></SendMessagesResponse>"
    )


def answer(xml: bool, key: bytes, numbers: list[bytes]) -> bytes:
    """The canned body for these recipients (cached by their raw bytes)."""
    body = _cache.get((xml, key))
    if body is None:
        body = _xml_body(numbers) if xml else _json_body(numbers)
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[(xml, key)] = body
    return body


def respond(method: bytes, target: bytes, headers: dict[bytes, bytes], body: bytes) -> bytes:
    """Status line, headers and body for one request."""
    if method == b"POST" and target.split(b"?", 1)[0] == b"/messages":
        ctype = headers.get(b"content-type", b"")
        xml = b"xml" in ctype or (b"xml" in headers.get(b"accept", b"") and b"json" not in ctype)
        if xml:
            numbers = _XML_TO.findall(body)
            key = b"\x00".join(numbers)
        else:
            match = _JSON_TO.search(body)
            key = match.group(1) if match else b""
            numbers = _JSON_STR.findall(key)
        payload = answer(xml, key, numbers)
        media = b"application/xml" if xml else b"application/json"
        return _message(b"202 Accepted", media, payload)
    if method == b"GET" and target.startswith(b"/messages/http/send"):
        query = parse_qs(urlsplit(target.decode("latin-1")).query)
        numbers = [n.encode() for v in query.get("to", []) for n in v.split(",") if n]
        payload = answer(False, b"\x00".join(numbers), numbers)
        return _message(b"202 Accepted", b"application/json", payload)
    return _message(b"404 Not Found", b"application/json", b'{"error":"not found"}')


def _message(status: bytes, media: bytes, payload: bytes) -> bytes:
    return (
        b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
        % (status, media, len(payload))
        + payload
    )


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            headers: dict[bytes, bytes] = {}
            for line in head[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0") or b"0")
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            parts = head[0].split(b" ")
            if len(parts) < 3:
                self.transport.close()
                return
            self.transport.write(respond(parts[0], parts[1], headers, body))
            if headers.get(b"connection", b"").lower() == b"close" or parts[2] == b"HTTP/1.0":
                self.transport.close()
                return


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Protocol, "127.0.0.1", port, backlog=512)
    sockets = server.sockets or ()
    print(f"PORT {sockets[0].getsockname()[1]}", flush=True)
    # Serve until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    asyncio.run(_serve(port))


if __name__ == "__main__":
    main()
