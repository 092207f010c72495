"""`CallbackServer`: a bounded HTTP/1.1 server for a WSGI app (`clickatell-sms listen`, tests).

A callback URL faces the internet, so the server in front of the receiver must hold up against
clients that never finish: a thousand half-sent requests, a body dripped a byte a second, more
connections than there are file descriptors. Hand-written around asyncio because wsgiref and
waitress time out inactivity rather than requests (a byte a second keeps them waiting forever)
and tie a thread to each connection they read. Here:

* asyncio reads every connection (a waiting connection costs a few kilobytes, no thread) and h11
  parses the requests, so framing edge cases are a maintained library's job;
* each request has deadlines: its head within `head_timeout` of the connection being ready
  (accepted, or its previous answer sent), its body within `body_timeout` of the head. Past a
  deadline the client gets 408 and the connection is closed;
* only complete requests reach the app, on a pool of `workers` threads; at most `max_queued`
  more wait for one, and beyond that the answer is 503 with Retry-After (Clickatell retries);
* at most `max_connections` connections are held (never more than the file-descriptor limit
  allows). When a new one arrives at the cap, the connection that has waited longest for its
  request is closed to make room: a real callback arrives whole within milliseconds, a slow
  client never does. When every connection is busy in the app, accepting pauses until one
  closes, and new connections wait in the kernel's queue (`backlog` long);
* heads over `max_head_bytes` get 431, bodies over `max_body_bytes` 413, both before the rest
  is read; a client that does not read its answers is disconnected;
* the app may judge a request by its head (`screen`; a `CallbackReceiver` does, with its
  `refuse_early`): a request without the secret gets its 401 as soon as its head is in, and
  its body is never read. The server then stops writing and discards what still comes for
  `_LINGER` seconds at most, so that a client still sending reads the answer rather than a
  reset;
* refusals and running out of descriptors are logged as throttled one-line warnings.

`limits` (a `ListenerLimits`) holds every bound; `allowed_sources` closes connections from
outside the given networks at accept, before a byte is read.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import errno
import io
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote_to_bytes

import h11

from ..errors import ValidationError
from .access import RefusalLog, SourceAllowList
from .receiver import SCREENED_BY

if TYPE_CHECKING:
    from types import TracebackType
    from wsgiref.types import WSGIApplication, WSGIEnvironment

    from .receiver import Refusal

__all__ = ["CallbackServer", "ListenerLimits", "ListenerStats"]

logger = logging.getLogger("clickatell_sms.callbacks")

# Connections accepted per turn of the loop at most, so reading keeps its share of the loop.
_ACCEPT_BATCH: Final = 64
# Unsent answer bytes one connection may hold: past this its client is not reading, and goes.
_WRITE_HIGH_WATER: Final = 256 * 1024
_HOP_BY_HOP: Final = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"upgrade"}
)
_OUT_OF_DESCRIPTORS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# Seconds a connection refused from its head is kept, discarding what the client still sends,
# before it is closed (or sooner when the client closes, or sends more than a body may hold).
_LINGER: Final = 2.0

Screen = Callable[["WSGIEnvironment"], "Refusal | None"]
"""Judges a request from its head (the environ has no body yet): a `Refusal` to answer at once,
or None to read the body and run the app."""


@dataclass(frozen=True, slots=True)
class ListenerLimits:
    """Every bound `CallbackServer` enforces; the defaults suit a callback URL on the internet."""

    head_timeout: float = 10.0
    """Seconds for the request line and headers, from accept (or the previous answer)."""
    body_timeout: float = 10.0
    """Seconds for the whole body, from the end of the head."""
    max_connections: int = 1000
    """Connections held at once; lowered to fit the file-descriptor limit at start."""
    workers: int = 4
    """Threads running the WSGI app."""
    max_queued: int = 64
    """Complete requests that may wait for a worker; more are answered 503."""
    max_head_bytes: int = 16 * 1024
    """Request line and headers; larger heads are answered 431."""
    max_body_bytes: int = 64 * 1024
    """Request body; larger bodies are answered 413 (the receiver's own limit is the same)."""
    backlog: int = 1024
    """Connections the kernel queues before accept (capped by net.core.somaxconn)."""

    def __post_init__(self) -> None:
        for name in ("head_timeout", "body_timeout"):
            value = getattr(self, name)
            if not value > 0:
                raise ValidationError(name, f"must be a positive number of seconds, not {value}")
        for name in ("max_connections", "workers", "backlog", "max_head_bytes", "max_body_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValidationError(name, f"must be a positive integer, not {value!r}")
        if not isinstance(self.max_queued, int) or self.max_queued < 0:
            raise ValidationError("max_queued", f"must be 0 or more, not {self.max_queued!r}")


@dataclass(slots=True)
class ListenerStats:
    """What the server has done since it started (a snapshot from `CallbackServer.stats()`)."""

    open_connections: int = 0
    max_connections: int = 0
    """The cap in force: `ListenerLimits.max_connections`, or less to fit the fd limit."""
    answered: int = 0
    """Requests that reached the app and got its answer."""
    timed_out: int = 0
    """Connections closed because a head or body missed its deadline (idle keep-alive too)."""
    evicted: int = 0
    """Waiting connections closed to make room for a new one at the cap."""
    accept_pauses: int = 0
    """Times accepting stopped: at the cap with every connection busy (until one closes), or
    out of file descriptors (for a second). New connections wait in the backlog meanwhile."""
    refused_source: int = 0
    """Connections from outside `allowed_sources`."""
    rejected: int = 0
    """Requests answered 400, 413, 431 or 503 by the server itself."""
    refused_early: int = 0
    """Requests the app's `screen` refused from their head (401, 403...): bodies never read."""


def descriptor_budget(wanted: int) -> int:
    """`wanted` connections, or fewer so that they and a reserve fit under RLIMIT_NOFILE.

    The reserve (an eighth of the limit, at least 32) is for everything else the process opens:
    the listening socket, the event loop, log files, the handlers' own connections.
    """
    try:
        import resource  # POSIX only
    except ImportError:
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - max(32, soft // 8)))


class CallbackServer:
    """Serve `app` at `http://host:port/` on a background thread until `stop()`.

    `port=0` picks a free port; `url` says which. Binding happens in `start()` (or `with`), so an
    address in use raises `OSError` there. `limits` sets every bound (see `ListenerLimits`);
    `allowed_sources` (CIDR networks) closes connections from anywhere else at accept.
    `screen` judges each request from its head before its body is read (see `Screen`); by
    default it is the app's own `refuse_early` when it has one, as `CallbackReceiver` does.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: ListenerLimits | None = None,
        allowed_sources: Iterable[str] | None = None,
        screen: Screen | None = None,
    ) -> None:
        self._app = app
        self._screen: Screen | None = screen or getattr(app, "refuse_early", None)
        self._host = host
        self._port = port
        self.limits = limits or ListenerLimits()
        self._sources = None if allowed_sources is None else SourceAllowList(allowed_sources)
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._core: _Core | None = None

    @property
    def url(self) -> str:
        """The address the server listens on (no secret in it; see `access.url_with_secret`)."""
        if self._sock is None:
            raise RuntimeError("the server is not running")
        host, port = self._sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def stats(self) -> ListenerStats:
        """Counters since start, and the connections open now."""
        if self._core is None:
            return ListenerStats(max_connections=descriptor_budget(self.limits.max_connections))
        return self._core.snapshot()

    def start(self) -> CallbackServer:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.create_server(
            (self._host, self._port), family=family, backlog=self.limits.backlog
        )
        sock.setblocking(False)
        loop = asyncio.SelectorEventLoop()  # add_reader: also on Windows, whose default lacks it
        core = _Core(loop, sock, self._app, self.limits, self._sources, self._screen)
        core.start_accepting()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_forever()
            loop.run_until_complete(core.close())
            loop.close()

        self._sock, self._loop, self._core = sock, loop, core
        self._thread = threading.Thread(target=run, name="clickatell-callbacks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection, and wait for the serving thread.

        Handlers already running are left to finish on their own; their answers are dropped.
        """
        loop, thread, sock = self._loop, self._thread, self._sock
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if sock is not None:
            sock.close()
        self._sock = None

    def __enter__(self) -> CallbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- the server's state, owned by the event-loop thread ----------------------------------------


class _Core:
    """Everything the connections share: accepting, the app's pool, the counters, who waits.

    Accepting is ours rather than `loop.create_server`'s so that the descriptors in use never
    pass the cap: a connection is accepted only when there is room, and when there is none the
    longest-waiting connection is closed first (its descriptor is released before the next
    accept) or, if every connection is busy, accepting pauses until one closes.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        app: WSGIApplication,
        limits: ListenerLimits,
        sources: SourceAllowList | None,
        screen: Screen | None = None,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.app = app
        self.screen = screen
        self.limits = limits
        self.sources = sources
        address = sock.getsockname()
        self.server_name, self.server_port = str(address[0]), int(address[1])
        self.cap = descriptor_budget(limits.max_connections)
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=limits.workers, thread_name_prefix="clickatell-callback-worker"
        )
        self.stats = ListenerStats(max_connections=self.cap)
        # Requests running or queued in the pool. Submitted to it directly rather than through
        # `run_in_executor`, whose asyncio future costs a second turn of the loop per answer.
        self.in_flight: set[concurrent.futures.Future[_Answer]] = set()
        self.open: set[_Connection] = set()
        self.connecting: set[asyncio.Task[Any]] = set()  # accepted, protocol not yet made
        # Connections waiting for (the rest of) a request, longest-waiting first.
        self.waiting: dict[_Connection, None] = {}
        self.refusals = RefusalLog(logger)
        self.accepting = False
        self.closing = False

    # accepting

    def start_accepting(self) -> None:
        if not self.accepting and not self.closing:
            self.loop.add_reader(self.sock.fileno(), self._accept)
            self.accepting = True

    def _pause_accepting(self, seconds: float | None) -> None:
        """Leave new connections in the kernel's backlog: for `seconds`, or (None) until a
        connection closes."""
        if self.accepting:
            self.loop.remove_reader(self.sock.fileno())
            self.accepting = False
            self.stats.accept_pauses += 1
        if seconds is not None:
            self.loop.call_later(seconds, self.start_accepting)

    def _accept(self) -> None:
        for _ in range(_ACCEPT_BATCH):
            if len(self.open) + len(self.connecting) >= self.cap:
                self._make_room()
                return
            try:
                conn, address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_DESCRIPTORS:
                    self.refusals.refused(
                        f"could not accept connections: {exc.strerror}; pausing for 1 s"
                    )
                    self._pause_accepting(1.0)
                    return
                continue  # the client gave up before we accepted (ECONNABORTED and the like)
            self._admit(conn, str(address[0]))

    def _make_room(self) -> None:
        if not self.waiting:
            self.refusals.refused("at the connection cap with every connection busy: waiting")
            self._pause_accepting(None)
            return
        oldest = next(iter(self.waiting))
        self.stats.evicted += 1
        self.refusals.refused("closed the longest-waiting connections to admit new ones (cap)")
        oldest.abort()  # its descriptor is closed before the loop's next turn accepts again

    def _admit(self, conn: socket.socket, peer: str) -> None:
        conn.setblocking(False)
        if self.sources is not None and not self.sources.allows(peer):
            self.stats.refused_source += 1
            self.refusals.refused("refused connections from outside allowed_sources", peer)
            with contextlib.suppress(OSError):  # a courtesy; nothing it sent is read
                conn.send(_plain_answer(403, "callbacks are not accepted from this address"))
            conn.close()
            return
        task = self.loop.create_task(self._connect(conn))
        self.connecting.add(task)
        task.add_done_callback(self.connecting.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(lambda: _Connection(self), conn)
        except OSError:  # gone before its transport was made
            conn.close()

    def released(self, connection: _Connection) -> None:
        """A connection has closed: forget it, and accept again if we were full."""
        self.open.discard(connection)
        self.waiting.pop(connection, None)
        if not self.accepting and not self.closing:
            self.start_accepting()

    async def close(self) -> None:
        self.closing = True
        if self.accepting:
            self.loop.remove_reader(self.sock.fileno())
            self.accepting = False
        for task in list(self.connecting):
            task.cancel()
        for connection in list(self.open):
            connection.abort()
        for future in list(self.in_flight):
            future.cancel()  # a handler finishing later then has nowhere to answer, quietly
        self.pool.shutdown(wait=False, cancel_futures=True)
        for _ in range(3):  # let the aborted transports close their sockets
            await asyncio.sleep(0)

    def snapshot(self) -> ListenerStats:
        return dataclasses.replace(self.stats, open_connections=len(self.open))


# -- one connection ------------------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One client connection: read a request under deadlines, run the app, answer, repeat."""

    def __init__(self, core: _Core) -> None:
        self.core = core
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=core.limits.max_head_bytes)
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("", 0)
        # The current deadline (loop time; None: none, the app has the request) and the one
        # timer that enforces it (see `_set_deadline`).
        self.deadline: float | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.request: h11.Request | None = None
        self.environ: dict[str, Any] | None = None  # the request's, from its head
        self.body = bytearray()
        self.closed = False
        self.discarding = -1  # refused early: bytes discarded since (-1: not refused)
        # While the app has a request: whether more arrived (reading then pauses until the
        # answer is out), and whether the client finished sending (closed once answered).
        self.in_app = False
        self.paused = False
        self.eof_in_app = False

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = (str(peer[0]), int(peer[1]))
        self.core.open.add(self)
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        self._wait_for_request()

    def data_received(self, data: bytes) -> None:
        if self.discarding >= 0:
            self._discard(len(data))
            return
        if self.closed:
            return
        self.h11.receive_data(data)
        if self.in_app:
            # A pipelined request, held (h11 keeps it) until the answer is out; no more is
            # read meanwhile. Reading is paused only now, not for every request: two fewer
            # system calls per callback for clients that wait for their answers.
            assert self.transport is not None
            self.transport.pause_reading()
            self.paused = True
            return
        self._read_events()

    def eof_received(self) -> bool:
        if self.discarding >= 0:
            self._shutdown()  # the client is done sending: close once the refusal is out
        elif self.in_app:
            self.eof_in_app = True  # answer first, then close
            return True
        elif not self.closed:
            self.h11.receive_data(b"")
            self._read_events()
        return False  # close our side too

    def pause_writing(self) -> None:
        self.abort()  # it does not read its answers

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._disarm()
        self.core.released(self)

    # reading

    def _read_events(self) -> None:
        limits = self.core.limits
        while not self.closed:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self.core.stats.rejected += 1
                status = exc.error_status_hint
                self._close_with(status, "request too large" if status == 431 else str(exc))
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                if _head_size(event) > limits.max_head_bytes:  # it came whole in one read
                    self.core.stats.rejected += 1
                    self._close_with(431, "request too large")
                    return
                length = _content_length(event)
                if length is not None and length > limits.max_body_bytes:
                    self.core.stats.rejected += 1
                    self._close_with(413, "request body too large")
                    return
                self.environ = _environ(self.core, self.peer, event)
                if self.core.screen is not None and self._screened_out(self.environ):
                    return
                self.request = event
                self._set_deadline(limits.body_timeout)
                if self.h11.they_are_waiting_for_100_continue:
                    go_on = h11.InformationalResponse(
                        status_code=100, headers=[], reason=b"Continue"
                    )
                    self._write(self.h11.send(go_on))
            elif isinstance(event, h11.Data):
                self.body += event.data
                if len(self.body) > limits.max_body_bytes:
                    self.core.stats.rejected += 1
                    self._close_with(413, "request body too large")
                    return
            elif isinstance(event, h11.EndOfMessage):
                self._run_app()
                return
            elif isinstance(event, h11.ConnectionClosed):
                self._shutdown()  # once the answers written are sent
                return

    def _screened_out(self, environ: dict[str, Any]) -> bool:
        """Ask the screen about a request whose head is in; if it refuses, answer now (the
        body unread) and linger. A screen that fails is the app failing: 500."""
        core = self.core
        assert core.screen is not None
        try:
            refusal = core.screen(dict(environ))  # its own copy: the app gets the head as sent
        except Exception:
            logger.exception("the callback server's screen failed")
            self._close_with(500, "internal error")
            return True
        if refusal is None:
            return False
        core.stats.refused_early += 1
        self._write(_plain_answer(refusal.status, refusal.text, refusal.headers))
        self._linger()
        return True

    def _linger(self) -> None:
        """Stop writing and discard what the client still sends, until it closes, sends more
        than a body may hold, or `_LINGER` seconds pass: closing with its bytes unread would
        reset the connection, and the client could lose the answer before reading it."""
        transport = self.transport
        assert transport is not None
        self.discarding = 0
        # h11 holds what came after the head (a body it will never be asked for): let it go
        self.h11 = h11.Connection(h11.SERVER)
        self._set_deadline(min(_LINGER, self.core.limits.head_timeout))
        self.core.waiting[self] = None  # first to go when room is needed
        if transport.can_write_eof():
            transport.write_eof()

    def _discard(self, size: int) -> None:
        self.discarding += size
        if self.discarding > self.core.limits.max_body_bytes:
            self.abort()

    def _run_app(self) -> None:
        environ, body = self.environ, bytes(self.body)
        assert environ is not None and self.transport is not None
        core = self.core
        self.deadline = None  # the app's time is not the client's
        core.waiting.pop(self, None)
        if len(core.in_flight) >= core.limits.workers + core.limits.max_queued:
            core.stats.rejected += 1
            self._close_with(503, "busy, try again", [("Retry-After", "1")])
            return
        self.in_app = True
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        if core.screen is not None:
            environ[SCREENED_BY] = core.screen  # the head passed it: no need to ask again
        future = core.pool.submit(_call_app, core.app, environ)
        core.in_flight.add(future)
        future.add_done_callback(self._answered)

    def _answered(self, future: concurrent.futures.Future[_Answer]) -> None:
        """On the worker's thread: hand the answer to the loop's."""
        with contextlib.suppress(RuntimeError):  # the server has stopped: nowhere to answer
            self.core.loop.call_soon_threadsafe(self._answer, future)

    def _answer(self, future: concurrent.futures.Future[_Answer]) -> None:
        core = self.core
        core.in_flight.discard(future)
        self.in_app = False
        if future.cancelled() or self.closed:
            return
        answer = future.result()
        core.stats.answered += 1
        request = self.request
        assert request is not None
        headers = [*answer.headers, ("Content-Length", str(len(answer.body)))]
        try:
            out = self.h11.send(
                h11.Response(status_code=answer.status, headers=headers, reason=answer.reason)
            )
            if request.method != b"HEAD" and answer.body:
                out += self.h11.send(h11.Data(data=answer.body))
            out += self.h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            logger.exception("the WSGI app's answer cannot be sent as HTTP/1.1")
            self._close_with(500, "internal error")
            return
        self._write(out)
        if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
            self._shutdown()
            return
        self.h11.start_next_cycle()
        self.request, self.environ, self.body = None, None, bytearray()
        self._wait_for_request()
        if self.eof_in_app:  # it finished sending while the app had its request
            self.eof_in_app = False
            self.h11.receive_data(b"")
        elif self.paused:
            assert self.transport is not None
            self.paused = False
            self.transport.resume_reading()
        self._read_events()  # a pipelined request may already be buffered

    # deadlines and closing

    def _wait_for_request(self) -> None:
        self.core.waiting[self] = None  # (re)joins at the end: it starts waiting now
        self._set_deadline(self.core.limits.head_timeout)

    def _set_deadline(self, seconds: float) -> None:
        """Close the connection `seconds` from now unless the deadline moves first.

        One timer per connection, re-armed only when it would fire too late: deadlines mostly
        move later (every request sets two), and a timer that fires early sets itself again
        for what is left, so a busy connection costs the loop's timer heap nothing per request.
        """
        loop = self.core.loop
        deadline = loop.time() + seconds
        if self.timer is None or self.timer.when() > deadline:
            self._disarm()
            self.timer = loop.call_at(deadline, self._expired)
        self.deadline = deadline

    def _disarm(self) -> None:
        self.deadline = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expired(self) -> None:
        self.timer = None
        if self.deadline is None:  # the app has the request: no deadline until it answers
            return
        if self.deadline > self.core.loop.time():  # moved since the timer was set
            self.timer = self.core.loop.call_at(self.deadline, self._expired)
            return
        self.deadline = None
        if self.discarding >= 0:  # the end of a refused request's linger: not a time-out
            self.abort()
            return
        self.core.stats.timed_out += 1
        if self.h11.their_state is h11.IDLE and not self.h11.trailing_data[0]:
            self._shutdown()  # an idle keep-alive connection: nothing to say
        else:
            self._close_with(408, "request not received in time")

    def _close_with(self, status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Answer with a fixed error (outside h11's state machine, which may not allow one
        before a request is complete) and close."""
        self._write(_plain_answer(status, text, headers))
        self._shutdown()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def _shutdown(self) -> None:
        """Close after what is written has been sent, or after `head_timeout` at most: a
        client that stops reading must not keep the descriptor."""
        self.closed = True
        self._disarm()
        self.core.waiting.pop(self, None)
        transport = self.transport
        if transport is None:
            return
        transport.close()
        if transport.get_write_buffer_size():
            loop = asyncio.get_running_loop()
            loop.call_later(self.core.limits.head_timeout, transport.abort)

    def abort(self) -> None:
        """Close now, dropping anything unsent."""
        self.closed = True
        self._disarm()
        self.core.waiting.pop(self, None)
        if self.transport is not None:
            self.transport.abort()


# -- WSGI --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: bytes
    headers: list[tuple[str, str]]
    body: bytes


_REQUEST_LINE_EXTRA: Final = len(b"  HTTP/1.1\r\n")  # around the method and the target
_HEADER_EXTRA: Final = len(b": \r\n")  # around a header's name and value


def _head_size(request: h11.Request) -> int:
    """About the size of the request line and headers as sent."""
    line = len(request.method) + len(request.target) + _REQUEST_LINE_EXTRA
    return line + sum(len(name) + len(value) + _HEADER_EXTRA for name, value in request.headers)


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)  # h11 has checked it is one well-formed number
    return None


def _declared_length(request: h11.Request) -> int:
    """Content-Length, or 0 for a chunked body (the screen cannot know its size yet)."""
    length = _content_length(request)
    return 0 if length is None else length


def _environ(core: _Core, peer: tuple[str, int], request: h11.Request) -> dict[str, Any]:
    """The WSGI environ of a request from its head: an empty input, and CONTENT_LENGTH as the
    head declares it (`_run_app` puts the body in)."""
    target = bytes(request.target)
    if not target.startswith(b"/"):  # absolute form: http://host/path?query
        after_scheme = target.partition(b"://")[2]
        slash = after_scheme.find(b"/")
        target = after_scheme[slash:] if slash >= 0 else b"/"
    path, _, query = target.partition(b"?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.decode("ascii"),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "CONTENT_LENGTH": str(_declared_length(request)),
        "SERVER_NAME": core.server_name,
        "SERVER_PORT": str(core.server_port),
        "SERVER_PROTOCOL": "HTTP/" + request.http_version.decode("ascii"),
        "REMOTE_ADDR": peer[0],
        "REMOTE_PORT": str(peer[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1")
        if "_" in name:  # X_Secret would pass for X-Secret in the environ: drop it
            continue
        value = raw_value.decode("latin-1")
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            continue
        if key == "CONTENT_TYPE":
            environ[key] = value
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _call_app(app: WSGIApplication, environ: WSGIEnvironment) -> _Answer:
    """Run the app on a worker thread and collect its whole answer (callbacks answer small)."""
    started: list[tuple[str, list[tuple[str, str]]]] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info and started and written:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [(status, list(headers))]
        return written.append

    try:
        result = app(environ, start_response)
        try:
            written.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not started:
            raise RuntimeError("the WSGI app returned without calling start_response")
        status_line, headers = started[0]
        code, _, reason = status_line.partition(" ")
        kept = [(n, v) for n, v in headers if n.lower().encode("latin-1") not in _HOP_BY_HOP]
        return _Answer(int(code), reason.encode("latin-1"), kept, b"".join(written))
    except Exception:
        logger.exception("the WSGI app failed")
        text = b"internal error\n"
        return _Answer(500, b"Internal Server Error", [("Content-Type", "text/plain")], text)


def _plain_answer(status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    body = (text + "\n").encode("utf-8", errors="replace")
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
