# generated from spec/openapi.yaml sha256 4ef00f7142349f23112e6030d87ee061204ee554c5c5b1dc6d0b30f0a9cd7cb8, do not edit
"""HTTP transport for Clickatell Platform messaging API: one attempt per call, within a deadline.

`Transport.send(request, timeout=..., deadline=...)` makes exactly one attempt. Retries and the
waits between them are the caller's (the policy lives in one place above this module); the
rules every answer passes are in `http_types`.

Two ways to the API, one behaviour:

* Directly (the default): keep-alive connections to the base URL's one host, made with the
  standard library's `http.client` and kept in a small pool here. Hand-written because that
  host needs none of urllib3's routing, and urllib3's pool and response wrapper cost more per
  request than all of the client's own work (benchmarks/RESULTS.md); the standard library does
  the HTTP and TLS (certificate and host name checked), and connecting is its own step, so a
  failure there provably sent nothing.
* Through urllib3, when there is a proxy (urllib3's ProxyManager writes the proxy's request
  forms and CONNECT tunnels) or a PoolManager of the caller's own.

The deadline is a `time.monotonic()` instant that no attempt outlives. Socket timeouts apply to
each socket operation, so a server that sends one byte a second would hold a request for ever;
here every read of the status line, the headers and the body waits at most until the deadline
(a reader on the connection's socket sets the socket's timeout before each read), and
connecting and sending are bounded by it too. On the urllib3 path the reader is installed
through urllib3's public extension points (a pool's `ConnectionCls`, a connection's
`response_class`), so nothing of urllib3 is patched. A PoolManager you pass in is used as it is:
its connections keep urllib3's own classes, so there the deadline bounds connecting, sending
and each read, but not a trickle of bytes.
"""

from __future__ import annotations

import functools
import http.client
import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .http_types import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    ProxySettings,
    Request,
    RequestFailed,
    Response,
    refusal,
    split_base_url,
    target,
    too_large,
)

if TYPE_CHECKING:
    import urllib3
    from urllib3.connectionpool import HTTPConnectionPool
    from urllib3.exceptions import HTTPError
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import Timeout

__all__ = ["Transport", "pool_manager"]

_DEADLINE: Final = threading.local()
"""The deadline of the attempt this thread is making (read by the connections' reader)."""


class _DeadlineReader(io.RawIOBase):
    """A socket's reader whose every read ends by the deadline, however slowly bytes arrive."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._raw = sock.makefile("rb", buffering=0)  # the socket's own reader (counted)
        self._sock = sock
        self._deadline = deadline
        self._per_read = sock.gettimeout()
        self._cut = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the deadline passed")
        per_read = self._per_read
        if per_read is None or remaining < per_read:
            self._sock.settimeout(remaining)  # the deadline is nearer than a read's timeout
            self._cut = True
        elif self._cut:
            self._sock.settimeout(per_read)
            self._cut = False
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()  # releases the socket, as http.client's own reader would
        super().close()


class _Reading:
    """What http.client's response asks of a socket (`makefile`), answered with a reader that
    keeps the deadline."""

    __slots__ = ("_deadline", "_sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading through `_DeadlineReader` when a deadline is set."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        deadline = getattr(_DEADLINE, "at", None)
        source: Any = sock if deadline is None else _Reading(sock, deadline)
        super().__init__(source, *args, **kwargs)


class _Direct(http.client.HTTPConnection):
    response_class = _DeadlineResponse


class _DirectTLS(http.client.HTTPSConnection):
    response_class = _DeadlineResponse


class _Connections:
    """Idle keep-alive connections to one host, the most recently used first."""

    __slots__ = ("_context", "_host", "_idle", "_maxsize", "_port", "_tls")

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int | None,
        maxsize: int,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._tls = scheme == "https"
        self._host = host
        self._port = port or (443 if self._tls else 80)
        self._maxsize = maxsize
        self._context = ssl_context
        self._idle: list[http.client.HTTPConnection] = []

    def send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: tuple[float, float],
        deadline: float | None,
        max_bytes: int,
    ) -> Response:
        """One request on an idle connection, or on a new one connected first (a failure
        to connect sent nothing)."""
        connect, read = timeout
        conn = self._take()
        if conn is None:
            conn = self._connect(connect, deadline)
        else:
            conn.sock.settimeout(connect)  # a taken connection is connected
        _DEADLINE.at = deadline
        try:
            conn.request(method, url, body, headers)  # bounded: sendall's timeout is total
            conn.sock.settimeout(read)
            answer = conn.getresponse()
            response, reusable = _read_direct(answer, max_bytes)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise _sent_failure(exc, deadline) from exc
        except BaseException:
            conn.close()
            raise
        finally:
            _DEADLINE.at = None
        if reusable and len(self._idle) < self._maxsize:
            self._idle.append(conn)
        else:
            conn.close()
        return response

    def _take(self) -> http.client.HTTPConnection | None:
        """The most recent idle connection the server has not closed, if any."""
        idle = self._idle
        while idle:
            try:
                conn = idle.pop()
            except IndexError:  # another thread took the last one
                return None
            sock = conn.sock
            # Readable while idle means closed by the server (or junk): never reuse it.
            if sock is not None and not _readable_now(sock):
                return conn
            conn.close()
        return None

    def _connect(self, connect: float, deadline: float | None) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._tls:
            if self._context is None:
                self._context = ssl.create_default_context()
            conn = _DirectTLS(self._host, self._port, timeout=connect, context=self._context)
        else:
            conn = _Direct(self._host, self._port, timeout=connect)
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            raise _connect_failure(exc, deadline) from exc
        return conn

    def clear(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _read_direct(answer: http.client.HTTPResponse, max_bytes: int) -> tuple[Response, bool]:
    """The answer read under the rules, and whether its connection can serve another request."""
    headers: Mapping[str, str] = answer.msg  # type: ignore[assignment]  # case-insensitive
    refused = refusal(headers, max_bytes)
    if refused is None:
        if answer.length is not None:  # Content-Length, already checked
            return Response(answer.status, headers, answer.read()), not answer.will_close
        body = answer.read(max_bytes + 1)
        if len(body) <= max_bytes:
            return Response(answer.status, headers, body), answer.isclosed() and not (
                answer.will_close
            )
        refused = too_large(max_bytes)
    answer.close()
    return Response(answer.status, headers, b"", refused), False


def _connect_failure(error: OSError, deadline: float | None) -> RequestFailed:
    """A failure to connect (or to agree on TLS): no request byte was written."""
    if isinstance(error, socket.gaierror):
        return RequestFailed(
            "the host name could not be resolved (DNS); nothing was sent", kind="refused"
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return RequestFailed(
            "the server's TLS certificate was refused; nothing was sent", kind="tls"
        )
    if isinstance(error, ssl.SSLError):
        return RequestFailed(
            "TLS could not be agreed with the server; nothing was sent", kind="tls"
        )
    if isinstance(error, TimeoutError):
        late = deadline is not None and time.monotonic() >= deadline - 0.005
        what = "before the deadline" if late else "within the connect timeout"
        return RequestFailed(
            f"no connection {what}; nothing was sent", kind="connect-timeout", timed_out=True
        )
    return RequestFailed("the connection could not be opened; nothing was sent", kind="refused")


def _sent_failure(error: BaseException, deadline: float | None) -> RequestFailed:
    """A failure once the request was being written: it may have reached the server."""
    if isinstance(error, TimeoutError):
        late = deadline is not None and time.monotonic() >= deadline - 0.005
        what = "before the deadline" if late else "within the read timeout"
        return RequestFailed(
            f"no complete answer {what} after the request was sent",
            kind="unknown",
            timed_out=True,
        )
    return RequestFailed("the connection broke after the request was sent", kind="unknown")


def _readable_now(sock: socket.socket) -> bool:
    """Whether a socket has something to read (or was closed) right now: urllib3's check for a
    dropped connection, kept here so the direct path never imports urllib3."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


@functools.cache
def _deadline_pools() -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pools whose connections read through `_DeadlineResponse` (urllib3 loads here,
    on the first proxy or PoolManager: the direct path never needs it)."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class DeadlineHTTPConnection(HTTPConnection):
        response_class = _DeadlineResponse

    class DeadlineHTTPSConnection(HTTPSConnection):
        response_class = _DeadlineResponse

    class Pool(HTTPConnectionPool):
        ConnectionCls = DeadlineHTTPConnection

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = DeadlineHTTPSConnection

    return {"http": Pool, "https": TLSPool}


@functools.cache
def _no_retries() -> Retry:
    from urllib3.util.retry import Retry

    return Retry(total=False, redirect=False)


def pool_manager(
    *,
    maxsize: int = 10,
    proxy: ProxySettings | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> urllib3.PoolManager:
    """A PoolManager whose connections honour the deadline (what `Transport` makes for a proxy)."""
    import urllib3

    options: dict[str, Any] = {"num_pools": 4, "maxsize": maxsize, "block": False}
    if ssl_context is not None:
        options["ssl_context"] = ssl_context
    manager: urllib3.PoolManager
    if proxy is not None:
        manager = urllib3.ProxyManager(proxy.url, proxy_headers=dict(proxy.headers), **options)
    else:
        manager = urllib3.PoolManager(**options)
    manager.pool_classes_by_scheme = _deadline_pools()
    return manager


class Transport:
    """Sends requests to one base URL with the API key applied as each operation's scheme asks."""

    __slots__ = (
        "_api_key",
        "_base_path",
        "_base_url",
        "_direct",
        "_headers",
        "_manager",
        "_max_bytes",
        "_origin",
        "_owns_manager",
        "_pool",
        "_proxy",
        "_timeouts",
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        headers: Mapping[str, str] | None = None,
        maxsize: int = 10,
        manager: urllib3.PoolManager | None = None,
        proxy: ProxySettings | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        base = split_base_url(base_url)
        self._api_key = api_key
        self._base_url = base.url
        self._base_path = base.path
        # Asked for explicitly: the rules in http_types refuse any other encoding.
        self._headers = {"Accept-Encoding": "identity", **(headers or {})}
        self._owns_manager = manager is None
        self._proxy = proxy
        self._origin = base.origin
        self._max_bytes = max_response_bytes
        self._direct: _Connections | None = None
        self._manager: urllib3.PoolManager | None = None
        self._pool: HTTPConnectionPool | None = None
        if manager is None and proxy is None:
            self._direct = _Connections(base.scheme, base.host, base.port, maxsize, ssl_context)
            return
        self._manager = manager or pool_manager(
            maxsize=maxsize, proxy=proxy, ssl_context=ssl_context
        )
        # Through a proxy, the manager's own urlopen writes the proxy's request form and
        # headers; otherwise the base URL's pool is looked up once and used directly.
        import urllib3

        if not isinstance(self._manager, urllib3.ProxyManager):
            self._pool = self._manager.connection_from_url(base_url)
        self._timeouts: dict[tuple[float, float], Timeout] = {}

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        # The key is a secret: say only whether one is set; a proxy without its credentials.
        key = "set" if self._api_key else "unset"
        proxy = f", proxy={self._proxy.shown!r}" if self._proxy is not None else ""
        return f"Transport(base_url={self._base_url!r}{proxy}, api_key=<{key}>)"

    def send(
        self,
        request: Request,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        deadline: float | None = None,
    ) -> Response:
        """One attempt: `timeout` is (connect, read) seconds, each cut to what is left before
        `deadline` (a `time.monotonic()` instant). Raises `RequestFailed` without an answer."""
        url, headers = target(request, self._base_path, self._api_key, self._headers)
        connect, read = timeout
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestFailed(
                    "the deadline passed before the request was sent; nothing was sent",
                    kind="connect-timeout",
                    timed_out=True,
                )
            connect, read = min(connect, remaining), min(read, remaining)
        direct = self._direct
        if direct is not None:
            return direct.send(
                request.method, url, request.body, headers, (connect, read), deadline,
                self._max_bytes,
            )  # fmt: skip
        from urllib3.exceptions import HTTPError
        from urllib3.util.timeout import Timeout

        limits = self._timeouts.get((connect, read))
        if limits is None:
            limits = Timeout(connect=connect, read=read)
            if len(self._timeouts) < 64:  # the usual pairs repeat; cut ones need not be kept
                self._timeouts[(connect, read)] = limits
        _DEADLINE.at = deadline
        try:
            # The pool takes the path; the manager (a proxy's) takes the whole URL.
            opener: HTTPConnectionPool | urllib3.PoolManager
            if self._pool is not None:
                opener, where = self._pool, url
            else:
                assert self._manager is not None
                opener, where = self._manager, self._origin + url
            raw = opener.urlopen(
                request.method,
                where,
                body=request.body,
                headers=headers,
                retries=_no_retries(),
                timeout=limits,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
            )
            try:
                return self._read(raw)
            finally:
                raw.release_conn()
        except HTTPError as exc:
            raise _failure(exc, deadline) from exc
        finally:
            _DEADLINE.at = None

    def _read(self, raw: urllib3.BaseHTTPResponse) -> Response:
        headers = raw.headers
        refused = refusal(headers, self._max_bytes)
        if refused is None:
            if raw.length_remaining is not None:  # Content-Length, already checked
                return Response(raw.status, headers, raw.read())
            body = raw.read(self._max_bytes + 1)
            if len(body) <= self._max_bytes:
                return Response(raw.status, headers, body)
            refused = too_large(self._max_bytes)
        raw.close()  # an unread body must never meet the next request on this connection
        return Response(raw.status, headers, b"", refused)

    def close(self) -> None:
        """Close pooled connections (only those of a manager this transport created)."""
        if self._direct is not None:
            self._direct.clear()
        elif self._owns_manager and self._manager is not None:
            self._manager.clear()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _failure(error: HTTPError, deadline: float | None) -> RequestFailed:
    """urllib3's exception as a `RequestFailed`: whether anything can have been sent, and why."""
    from urllib3.exceptions import (
        ConnectTimeoutError,
        NameResolutionError,
        NewConnectionError,
        ProtocolError,
        ProxyError,
        ReadTimeoutError,
        SSLError,
    )

    late = deadline is not None and time.monotonic() >= deadline - 0.005
    if isinstance(error, ProxyError):
        return RequestFailed(
            "the proxy could not be reached or refused the connection; nothing was sent",
            kind="refused",
        )
    if isinstance(error, NameResolutionError):
        return RequestFailed(
            "the host name could not be resolved (DNS); nothing was sent", kind="refused"
        )
    if isinstance(error, NewConnectionError):  # before ConnectTimeoutError: its subclass
        return RequestFailed("the connection could not be opened; nothing was sent", kind="refused")
    if isinstance(error, ConnectTimeoutError):
        what = "before the deadline" if late else "within the connect timeout"
        return RequestFailed(
            f"no connection {what}; nothing was sent", kind="connect-timeout", timed_out=True
        )
    if isinstance(error, ReadTimeoutError):
        what = "before the deadline" if late else "within the read timeout"
        return RequestFailed(
            f"no complete answer {what} after the request was sent",
            kind="unknown",
            timed_out=True,
        )
    if isinstance(error, ProtocolError):
        return RequestFailed("the connection broke after the request was sent", kind="unknown")
    if isinstance(error, SSLError):
        cause = error.args[0] if error.args else None
        if isinstance(cause, ssl.SSLCertVerificationError):
            return RequestFailed(
                "the server's TLS certificate was refused; nothing was sent", kind="tls"
            )
        return RequestFailed("a TLS error, possibly after the request was sent", kind="unknown")
    return RequestFailed(
        f"{type(error).__name__}, possibly after the request was sent", kind="unknown"
    )
