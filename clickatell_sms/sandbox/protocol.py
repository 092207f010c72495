"""HTTP/1.1 over asyncio: one `HttpConnection` per client connection, keep-alive by default.

Why a small parser of our own instead of `http.server` or h11: the sandbox has to serve at least
2,000 requests a second on two cores, next to the client that loads it. `BaseHTTPRequestHandler`
parses headers with the `email` package and needs a thread per connection; h11 is correct but
spends most of its time in generic state-machine bookkeeping. What a test server needs is small
and well defined: request line, headers, a body framed by Content-Length or chunked encoding,
`Expect: 100-continue`, persistent connections (HTTP/1.1 default, `Connection: close`, HTTP/1.0
`keep-alive`), pipelined requests answered in order, and HEAD. That is what this module does,
and nothing else: no upgrades, no trailers kept, no request bodies over 1 MiB.

It also carries out the faults the app plans: waiting before an answer, and closing the
connection before reading the body or after processing it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

from . import codes
from .app import Plan, Request, Response, SandboxApp

__all__ = ["MAX_BODY", "MAX_HEAD", "Connections", "HttpConnection"]

logger = logging.getLogger("clickatell_sms.sandbox")

MAX_HEAD: Final = 64 * 1024
MAX_BODY: Final = 1024 * 1024
_SERVER: Final = "clickatell-sms-sandbox"
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_REASONS: Final = {status.value: status.phrase for status in HTTPStatus}
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


class _BadRequest(Exception):
    """The bytes are not an HTTP/1.x request we can read; answer 400 and close."""


class _Head:
    """The request line and headers of one request, and how its body is framed."""

    __slots__ = (
        "chunked",
        "content_length",
        "expect_continue",
        "headers",
        "keep_alive",
        "method",
        "path",
        "query",
    )

    def __init__(self, raw: bytes) -> None:
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise _BadRequest("malformed request line")
        method, target, version = parts
        if not method or not _TOKEN_CHARS.issuperset(method):
            raise _BadRequest("malformed method")
        if version == "HTTP/1.1":
            persistent_by_default = True
        elif version == "HTTP/1.0":
            persistent_by_default = False
        else:
            raise _BadRequest("unsupported HTTP version")
        if not target.startswith("/"):
            scheme, sep, rest = target.partition("://")
            if not sep or scheme.lower() not in ("http", "https"):
                raise _BadRequest("malformed request target")
            slash = rest.find("/")
            target = rest[slash:] if slash >= 0 else "/"
        path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name[0] in " \t" or name[-1] in " \t":
                raise _BadRequest("malformed header line")
            name = name.lower()
            value = value.strip(" \t")
            previous = headers.get(name)
            if previous is None:
                headers[name] = value
            elif name == "content-length":
                if previous != value:
                    raise _BadRequest("conflicting Content-Length headers")
            else:
                headers[name] = previous + ", " + value
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        connection = headers.get("connection", "").lower()
        if persistent_by_default:
            self.keep_alive = "close" not in connection
        else:
            self.keep_alive = "keep-alive" in connection
        self.expect_continue = headers.get("expect", "").lower() == "100-continue"
        encoding = headers.get("transfer-encoding")
        self.chunked = False
        self.content_length = 0
        if encoding is not None:
            if encoding.lower() != "chunked":
                raise _BadRequest("unsupported Transfer-Encoding")
            self.chunked = True
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise _BadRequest("malformed Content-Length")
            self.content_length = int(length)


_date_cache: list[object] = [0, ""]


def _http_date() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = formatdate(now, usegmt=True)
    return str(_date_cache[1])


class Connections:
    """The open connections of one server, so stopping can close every one of them.

    A connection accepted just as the server stops may only be made after the sweep; `closing`
    tells it to close itself at once.
    """

    def __init__(self) -> None:
        self.open: set[HttpConnection] = set()
        self.closing = False

    def abort_all(self) -> None:
        self.closing = True
        for connection in list(self.open):
            connection.abort()


class HttpConnection(asyncio.Protocol):
    """One client connection: reads requests, asks the app, writes answers in order."""

    def __init__(self, app: SandboxApp, connections: Connections) -> None:
        self._app = app
        self._connections = connections
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._head: _Head | None = None
        self._plan: Plan | None = None
        self._waiting = False
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._continue_sent = False
        self._eof = False
        self._paused = False

    # asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._connections.closing:
            self.abort()
            return
        self._connections.open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._connections.open.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._waiting:
            self._advance()
        elif len(self._buffer) > MAX_BODY + MAX_HEAD and self._transport is not None:
            # A client pipelining while its answer is delayed: stop reading until it is sent.
            self._transport.pause_reading()
            self._paused = True

    def eof_received(self) -> bool | None:
        # A client that half-closes still gets the answer it is waiting for; then we close.
        if self._waiting:
            self._eof = True
            return True
        return None

    def abort(self) -> None:
        """Close at once, whatever is in flight (the server is stopping)."""
        self._closed = True
        if self._transport is not None:
            self._transport.abort()

    # reading ---------------------------------------------------------------------------------

    def _advance(self) -> None:
        buffer = self._buffer
        app = self._app
        while not self._waiting and not self._closed:
            head = self._head
            if head is None:
                while buffer.startswith(b"\r\n"):  # stray CRLFs between requests are allowed
                    del buffer[:2]
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        self._refuse({}, codes.MALFORMED.because("The request head is too large."))
                    return
                raw = bytes(buffer[:end])
                del buffer[: end + 4]
                try:
                    head = _Head(raw)
                except _BadRequest as exc:
                    self._refuse({}, codes.MALFORMED.because(f"Unreadable HTTP request: {exc}."))
                    return
                if head.content_length > MAX_BODY:
                    self._refuse(head.headers, codes.BODY_TOO_LARGE)
                    return
                plan = app.plan(head.path, head.headers)
                if plan.drop_before_body:
                    self._drop(plan.latency)
                    return
                self._head = head
                self._plan = plan
                self._continue_sent = False
            current = self._plan
            assert current is not None
            plan = current
            body = self._take_body(head)
            if body is None:
                return
            self._head = None
            request = Request(head.method, head.path, head.query, head.headers, body)
            try:
                response = app.handle(request, plan)
            except Exception:
                # A sandbox bug must show as a 500 in the client's test, not as a lost connection.
                logger.exception("the sandbox failed on %s %s", head.method, head.path)
                response = app.framing_error(head.headers, codes.INTERNAL_ERROR)
            if plan.drop_after_body:
                self._drop(plan.latency)
                return
            keep_alive = head.keep_alive and not response.close
            head_only = head.method == "HEAD"
            if plan.latency > 0:
                self._waiting = True
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(
                    plan.latency, self._answer_later, response, keep_alive, head_only
                )
                return
            self._write(response, keep_alive, head_only)

    def _take_body(self, head: _Head) -> bytes | None:
        """The body once it is all in, removed from the buffer; None while more must arrive."""
        buffer = self._buffer
        if head.chunked:
            try:
                taken = _take_chunked(buffer)
            except _BadRequest as exc:
                self._refuse(head.headers, codes.MALFORMED.because(f"Unreadable body: {exc}."))
                return None
            if taken is None:
                self._send_continue(head)
            return taken
        length = head.content_length
        if length == 0:
            return b""
        if len(buffer) < length:
            self._send_continue(head)
            return None
        body = bytes(buffer[:length])
        del buffer[:length]
        return body

    def _send_continue(self, head: _Head) -> None:
        if head.expect_continue and not self._continue_sent and self._transport is not None:
            self._continue_sent = True
            self._transport.write(_CONTINUE)

    # writing ---------------------------------------------------------------------------------

    def _answer_later(self, response: Response, keep_alive: bool, head_only: bool) -> None:
        self._timer = None
        self._waiting = False
        if self._closed:
            return
        self._write(response, keep_alive and not self._eof, head_only)
        if self._paused and not self._closed and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        if self._buffer and not self._closed:
            self._advance()

    def _write(self, response: Response, keep_alive: bool, head_only: bool) -> None:
        transport = self._transport
        if transport is None or self._closed:
            return
        status = response.status
        body = response.body
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Server: {_SERVER}\r\nDate: {_http_date()}\r\n"
            f"Content-Type: {response.content_type}\r\nContent-Length: {len(body)}\r\n"
        ]
        for name, value in response.headers:
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n" if keep_alive else "Connection: close\r\n\r\n")
        head = "".join(lines).encode("latin-1")
        transport.write(head if head_only else head + body)
        if not keep_alive:
            self._closed = True
            transport.close()

    def _refuse(self, headers: dict[str, str], error: codes.ApiError) -> None:
        """Answer a request that cannot be read, then close: the framing is lost."""
        self._head = None
        self._write(self._app.framing_error(headers, error), keep_alive=False, head_only=False)

    def _drop(self, delay: float) -> None:
        """Close without answering (an injected fault), after `delay` seconds."""
        self._head = None
        transport = self._transport
        if transport is None:
            return
        if delay > 0:
            self._waiting = True
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(delay, self.abort)
        else:
            self.abort()


def _take_chunked(buffer: bytearray) -> bytes | None:
    """Decode a chunked body from the start of `buffer` and remove it; None if incomplete."""
    pos = 0
    pieces: list[bytes] = []
    total = 0
    while True:
        end = buffer.find(b"\r\n", pos)
        if end < 0:
            if len(buffer) - pos > 1024:
                raise _BadRequest("malformed chunk size line")
            return None
        size_text = bytes(buffer[pos:end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _BadRequest("malformed chunk size") from None
        pos = end + 2
        if size == 0:
            while True:  # trailers (ignored) up to the blank line
                end = buffer.find(b"\r\n", pos)
                if end < 0:
                    return None
                if end == pos:
                    del buffer[: pos + 2]
                    return b"".join(pieces)
                pos = end + 2
        total += size
        if total > MAX_BODY:
            raise _BadRequest("body larger than 1 MiB")
        if len(buffer) < pos + size + 2:
            return None
        pieces.append(bytes(buffer[pos : pos + size]))
        if buffer[pos + size : pos + size + 2] != b"\r\n":
            raise _BadRequest("chunk not followed by CRLF")
        pos += size + 2
