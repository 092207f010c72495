"""HTTP/1.1 over asyncio: one `HttpConnection` per client connection, keep-alive by default.

Why a small parser of our own instead of `http.server` or h11: the sandbox has to serve at least
2,000 requests a second on two cores, next to the client that loads it. `BaseHTTPRequestHandler`
parses headers with the `email` package and needs a thread per connection; h11 is correct but
spends most of its time in generic state-machine bookkeeping. What a test server needs is small
and well defined: request line, headers, a body framed by Content-Length or chunked encoding,
`Expect: 100-continue`, persistent connections (HTTP/1.1 default, `Connection: close`, HTTP/1.0
`keep-alive`), pipelined requests answered in order, and HEAD. That is what this module does,
and nothing else: no upgrades, no trailers kept, no request bodies over 1 MiB.

Line endings: the request line and headers may end in a bare LF, as RFC 9112 section 2.2 allows
a recipient to accept and as nginx, Go's net/http and h11 do, so a request typed by hand (or by
a sloppy client) gets its answer. A CR anywhere else in the head is refused (400): that is where
request smuggling hides. Chunked framing stays strict: a chunk line must end in CRLF, else 400.

Bounds, so a client cannot hold the server up (see `ServerLimits`): each phase of a connection
has a deadline that the registry's sweep enforces (idle, head, body, not reading its answers);
while a client is not reading its answers, the connection stops reading its requests, so
pipelining without reading costs at most one read buffer; heads over 64 KiB and bodies over 1 MiB
are refused.

It also carries out the faults the app plans: waiting before an answer, and closing the
connection before reading the body or after processing it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

from . import codes
from .app import Plan, Request, Response, SandboxApp
from .connections import Connections, Phase
from .observed import SANDBOX_SERVER

__all__ = ["MAX_BODY", "MAX_HEAD", "HttpConnection"]

logger = logging.getLogger("clickatell_sms.sandbox")

MAX_HEAD: Final = 64 * 1024
MAX_BODY: Final = 1024 * 1024
WRITE_BUFFER_HIGH: Final = 64 * 1024
"""Unsent answer bytes above which the connection stops reading requests (backpressure)."""
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_REASONS: Final = {status.value: status.phrase for status in HTTPStatus}
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _too_slow(part: str, seconds: float) -> codes.ApiError:
    # A limit of this server, not an API rule, so it has no Clickatell code (as 429 has none).
    return codes.ApiError(
        None,
        "Request Timeout",
        f"The request {part} did not arrive within {seconds:g} s; the sandbox closed the"
        " connection.",
        408,
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
        """`raw` is the head up to and including the last header line's end (CRLF or LF)."""
        lines = _head_lines(raw)
        method, target, persistent_by_default = _request_line(lines[0])
        path, _, query = target.partition("?")
        headers = _header_fields(lines[1:])
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
        self.chunked, self.content_length = _body_framing(headers)


def _head_lines(raw: bytes) -> list[str]:
    """The head's lines, with their ends (CRLF or a bare LF) taken off."""
    text = raw.decode("latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            raise _BadRequest("a CR not followed by LF in the request head")
    return text[:-1].split("\n")


def _request_line(line: str) -> tuple[str, str, bool]:
    """(method, target as a path with its query, whether the connection persists unless the
    client says otherwise: HTTP/1.1 yes, HTTP/1.0 no)."""
    parts = line.split(" ")
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
    if not target.startswith("/"):  # the absolute form (through a proxy): keep its path
        scheme, sep, rest = target.partition("://")
        if not sep or scheme.lower() not in ("http", "https"):
            raise _BadRequest("malformed request target")
        slash = rest.find("/")
        target = rest[slash:] if slash >= 0 else "/"
    return method, target, persistent_by_default


def _header_fields(lines: list[str]) -> dict[str, str]:
    """Header lines by lower-case name; repeats joined with commas, except Content-Length,
    which must repeat the same value (two lengths are a request smuggling attempt)."""
    headers: dict[str, str] = {}
    for line in lines:
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
    return headers


def _body_framing(headers: dict[str, str]) -> tuple[bool, int]:
    """(chunked, Content-Length): how the body after this head is framed."""
    encoding = headers.get("transfer-encoding")
    if encoding is not None:
        if encoding.lower() != "chunked":
            raise _BadRequest("unsupported Transfer-Encoding")
        return True, 0
    length = headers.get("content-length")
    if length is None:
        return False, 0
    if not length.isdigit():
        raise _BadRequest("malformed Content-Length")
    return False, int(length)


def _head_end(buffer: bytearray, start: int) -> tuple[int, int]:
    """Where the head in `buffer` ends: (length of the head through its last line end, where
    the body begins), or (-1, -1) while the blank line has not arrived. `start` skips what an
    earlier call already searched, so a head that trickles in is not searched over and over."""
    crlf = buffer.find(b"\n\r\n", start)
    # A bare-LF blank line before that? Searching only up to it keeps this linear.
    lf = buffer.find(b"\n\n", start, crlf + 1 if crlf >= 0 else len(buffer))
    if lf >= 0:
        return lf + 1, lf + 2
    if crlf >= 0:
        return crlf + 1, crlf + 3
    return -1, -1


_LINE_END_BYTES: Final = b"\r\n"


def _drop_empty_lines(buffer: bytearray) -> None:
    """Remove the empty lines (CRLF or LF) a client may send between requests (RFC 9112
    section 2.2); a lone CR at the end stays, as the start of another."""
    while buffer[:1] == b"\n" or buffer[:2] == b"\r\n":
        del buffer[: 1 if buffer[0] == 10 else 2]


_date_cache: list[object] = [0, ""]


def _http_date() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = formatdate(now, usegmt=True)
    return str(_date_cache[1])


class HttpConnection(asyncio.Protocol):
    """One client connection: reads requests, asks the app, writes answers in order.

    `phase`, `since` and `deadline` are what `Connections` reads to close a stalled connection
    or to pick one to close when room runs out.
    """

    def __init__(self, app: SandboxApp, connections: Connections) -> None:
        self._app = app
        self._connections = connections
        self._limits = connections.limits
        self._clock = asyncio.get_running_loop().time
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._searched = 0
        self._head: _Head | None = None
        self._plan: Plan | None = None
        self._waiting = False
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._continue_sent = False
        self._chunked: _ChunkedBody | None = None
        self._eof = False
        self._reading_paused = False
        self._writing_paused = False
        self.phase: Phase = "idle"
        self.since = self._clock()
        self.deadline = self.since + self._limits.idle_timeout

    # asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._connections.add(self):
            self.abort()
            return
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiting or self._writing_paused:
            # An answer is still due (delayed, or unread by the client): keep what came, and
            # read no more until it is out, so a client that pipelines without reading answers
            # costs one read buffer, not all it sends.
            self._pause_reading()
            return
        self._advance()

    def eof_received(self) -> bool | None:
        # A client that half-closes still gets the answers it is waiting for; then we close.
        self._eof = True
        if self._waiting or self._writing_paused:
            return True
        return None

    def pause_writing(self) -> None:
        """The client is not reading: stop reading its requests until it catches up."""
        self._writing_paused = True
        self._pause_reading()
        if not self._closed:
            self._enter("stalled", self._limits.write_timeout)

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._closed or self._waiting:
            return
        self._enter("idle", self._limits.idle_timeout)
        self._resume_reading()
        self._advance()

    # what the registry calls -------------------------------------------------------------------

    def expire(self) -> None:
        """Past the phase's deadline: close quietly when idle, 408 when a request is too slow,
        and drop whatever is unsent when the client is not reading."""
        phase = self.phase
        if phase == "idle":
            self._close()
        elif phase == "head":
            self._refuse({}, _too_slow("head", self._limits.header_timeout))
        elif phase == "body":
            head = self._head
            headers = head.headers if head is not None else {}
            self._refuse(headers, _too_slow("body", self._limits.body_timeout))
        else:
            self.abort()

    def abort(self) -> None:
        """Close at once, whatever is in flight (stopping, making room, or a stalled client)."""
        self._closed = True
        self._connections.discard(self)
        if self._transport is not None:
            self._transport.abort()

    # reading ---------------------------------------------------------------------------------

    def _enter(self, phase: Phase, timeout: float, now: float | None = None) -> None:
        self.phase = phase
        self.since = now = self._clock() if now is None else now
        self.deadline = now + timeout

    def _pause_reading(self) -> None:
        if not self._reading_paused and self._transport is not None and not self._closed:
            self._reading_paused = True
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and self._transport is not None and not self._closed:
            self._reading_paused = False
            self._transport.resume_reading()

    def _advance(self) -> None:
        """Read and answer every request the buffer holds, as far as the connection's state
        allows (one at a time, in order; not while an answer waits or the client is slow)."""
        now = self._clock()  # once per read: the phases below are timed from it
        while not self._waiting and not self._closed and not self._writing_paused:
            head = self._head
            if head is None:
                head = self._next_head(now)
                if head is None:
                    return
            plan = self._plan
            assert plan is not None
            body = self._take_body(head)
            if body is None:
                if not self._closed and self.phase != "body":  # the body timeout starts
                    self._enter("body", self._limits.body_timeout, now)
                return
            self._head = None
            if not self._answer(head, plan, body, now):
                return

    def _next_head(self, now: float) -> _Head | None:
        """The next request's head, taken from the buffer once it is all in and planned by
        the app; None while it is not, or when the connection was answered and closed."""
        buffer = self._buffer
        if buffer and buffer[0] in _LINE_END_BYTES:
            _drop_empty_lines(buffer)
            self._searched = 0
        if not buffer or buffer == b"\r":  # nothing, or half an empty line: still idle
            if self._eof:
                self._close()
            return None
        length, body_start = _head_end(buffer, self._searched)
        if length < 0:
            if len(buffer) > MAX_HEAD:
                self._refuse({}, codes.MALFORMED.because("The request head is too large."))
                return None
            self._searched = max(0, len(buffer) - 2)
            if self.phase != "head":  # its first bytes: the header timeout starts
                self._enter("head", self._limits.header_timeout, now)
            return None
        raw = bytes(buffer[:length])
        del buffer[:body_start]
        self._searched = 0
        try:
            head = _Head(raw)
        except _BadRequest as exc:
            self._refuse({}, codes.MALFORMED.because(f"Unreadable HTTP request: {exc}."))
            return None
        if head.content_length > MAX_BODY:
            self._refuse(head.headers, codes.BODY_TOO_LARGE)
            return None
        plan = self._app.plan(head.path, head.headers)
        if plan.drop_before_body:
            self._drop(plan.latency)
            return None
        self._head = head
        self._plan = plan
        self._continue_sent = False
        self._chunked = None
        return head

    def _answer(self, head: _Head, plan: Plan, body: bytes, now: float) -> bool:
        """Handle one whole request and answer it (now, or after the planned latency);
        whether the next request may be read at once."""
        request = Request(head.method, head.path, head.query, head.headers, body)
        try:
            response = self._app.handle(request, plan)
        except Exception:
            # A sandbox bug must show as a 500 in the client's test, not as a lost connection.
            logger.exception("the sandbox failed on %s %s", head.method, head.path)
            response = self._app.framing_error(head.headers, codes.INTERNAL_ERROR)
        if plan.drop_after_body:
            self._drop(plan.latency)
            return False
        keep_alive = head.keep_alive and not response.close
        head_only = head.method == "HEAD"
        if plan.latency > 0:
            self._waiting = True
            self.phase, self.deadline = "busy", math.inf
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(
                plan.latency, self._answer_later, response, keep_alive, head_only
            )
            return False
        self._write(response, keep_alive, head_only)
        if not self._closed and not self._writing_paused:
            self.phase, self.since, self.deadline = "idle", now, now + self._limits.idle_timeout
        return True

    def _take_body(self, head: _Head) -> bytes | None:
        """The body once it is all in, removed from the buffer; None while more must arrive."""
        buffer = self._buffer
        if head.chunked:
            if self._chunked is None:
                self._chunked = _ChunkedBody()
            try:
                taken = self._chunked.take(buffer)
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
        if self._closed or self._writing_paused:
            return
        self._enter("idle", self._limits.idle_timeout)
        self._resume_reading()
        self._advance()

    def _write(self, response: Response, keep_alive: bool, head_only: bool) -> None:
        transport = self._transport
        if transport is None or self._closed:
            return
        status = response.status
        body = response.body
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Server: {SANDBOX_SERVER}\r\nDate: {_http_date()}\r\n"
            f"Content-Type: {response.content_type}\r\nContent-Length: {len(body)}\r\n"
        ]
        for name, value in response.headers:
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n" if keep_alive else "Connection: close\r\n\r\n")
        head = "".join(lines).encode("latin-1")
        transport.write(head if head_only else head + body)
        if not keep_alive:
            self._close()

    def _close(self) -> None:
        """Close once what is written has gone; a client that never reads it is cut off by the
        sweep after `write_timeout`."""
        self._closed = True
        self._enter("closing", self._limits.write_timeout)
        if self._transport is not None:
            self._transport.close()

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
            self.phase, self.deadline = "busy", math.inf
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(delay, self.abort)
        else:
            self.abort()


class _ChunkedBody:
    """Decodes a chunked body from the start of a buffer that grows as data arrives.

    It carries on from where the last call stopped, so a body sent in many small chunks costs
    time in proportion to its size, not to its size squared (each new packet would otherwise
    re-read every chunk before it)."""

    __slots__ = ("_pieces", "_pos", "_total", "_trailers")

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._pos = 0
        self._total = 0
        self._trailers = False

    def take(self, buffer: bytearray) -> bytes | None:
        """The whole body, removed from `buffer`, once its last chunk and trailers are in;
        None while more must arrive; _BadRequest when it is not chunked encoding."""
        pos = self._pos
        while not self._trailers:
            end = _line_end(buffer, pos)
            if end < 0:
                if len(buffer) - pos > 1024:
                    raise _BadRequest("malformed chunk size line")
                return None
            size_text = bytes(buffer[pos:end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest("malformed chunk size") from None
            if size == 0:
                self._pos = pos = end + 2
                self._trailers = True
                break
            if self._total + size > MAX_BODY:
                raise _BadRequest("body larger than 1 MiB")
            start = end + 2
            if len(buffer) < start + size + 2:
                return None  # the chunk's size line is read again next time: it is short
            if buffer[start + size : start + size + 2] != b"\r\n":
                raise _BadRequest("chunk not followed by CRLF")
            self._pieces.append(bytes(buffer[start : start + size]))
            self._total += size
            self._pos = pos = start + size + 2
        while True:  # trailers (ignored) up to the blank line
            end = _line_end(buffer, pos)
            if end < 0:
                if len(buffer) - pos > MAX_HEAD:
                    raise _BadRequest("trailers too large")
                return None
            if end == pos:
                del buffer[: pos + 2]
                return b"".join(self._pieces)
            self._pos = pos = end + 2


def _line_end(buffer: bytearray, pos: int) -> int:
    """Where the CRLF ending the line at `pos` starts; -1 while incomplete; _BadRequest when the
    line ends in a bare LF (chunked framing is read strictly, see the module's docstring)."""
    lf = buffer.find(b"\n", pos)
    if lf < 0:
        return -1
    if lf == pos or buffer[lf - 1] != 13:
        raise _BadRequest("a chunk line must end with CRLF, not a bare LF")
    return lf - 1
