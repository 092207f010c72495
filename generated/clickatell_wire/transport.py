# generated from spec/openapi.yaml sha256 25214e5afa4236b0ad000bf0cd323680593a17a5d22360058dfafd8843d48dd2, do not edit
"""HTTP transport for Clickatell Platform messaging API over urllib3: one attempt per call, within a deadline.

`Transport.send(request, timeout=..., deadline=...)` makes exactly one attempt. Retries and the
waits between them are the caller's (the policy lives in one place above this module); the
rules every answer passes are in `http_types`.

The deadline is a `time.monotonic()` instant that no attempt outlives. urllib3's timeouts apply
to each socket operation, so a server that sends one byte a second would hold a request for
ever; here every read of the status line, the headers and the body waits at most until the
deadline (a reader on the connection's socket sets the socket's timeout before each read), and
connecting and sending are bounded by it too. Those reads go through urllib3's public extension
points (a pool's `ConnectionCls`, a connection's `response_class`), so nothing of urllib3 is
patched. A PoolManager you pass in is used as it is: its connections keep urllib3's own classes,
so there the deadline bounds connecting, sending and each read, but not a trickle of bytes.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.timeout import Timeout

from .http_types import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    ProxySettings,
    Request,
    RequestFailed,
    Response,
    refusal,
    target,
    too_large,
)

__all__ = ["DeadlineHTTPConnection", "DeadlineHTTPSConnection", "Transport", "pool_manager"]

_DEADLINE: Final = threading.local()
"""The deadline of the attempt this thread is making (read by the connections' reader)."""


class _DeadlineReader(io.RawIOBase):
    """A socket's reader whose every read ends by the deadline, however slowly bytes arrive."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._raw = raw
        self._sock = sock
        self._deadline = deadline
        self._per_read = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the deadline passed")
        per_read = self._per_read
        self._sock.settimeout(remaining if per_read is None else min(per_read, remaining))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()  # the socket's own reader: closing it releases the socket
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading through `_DeadlineReader` when a deadline is set."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = getattr(_DEADLINE, "at", None)
        if deadline is not None:
            # The reader http.client made (nothing read yet), behind one that watches the clock.
            raw = self.fp.detach()
            self.fp = io.BufferedReader(_DeadlineReader(raw, sock, deadline))


class DeadlineHTTPConnection(HTTPConnection):
    """urllib3's connection, with reads bounded by the deadline of the attempt using it."""

    response_class = _DeadlineResponse


class DeadlineHTTPSConnection(HTTPSConnection):
    """urllib3's TLS connection, with reads bounded by the deadline of the attempt using it."""

    response_class = _DeadlineResponse


class _Pool(HTTPConnectionPool):
    ConnectionCls = DeadlineHTTPConnection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = DeadlineHTTPSConnection


def pool_manager(
    *,
    maxsize: int = 10,
    proxy: ProxySettings | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> urllib3.PoolManager:
    """A PoolManager whose connections honour the deadline (what `Transport` makes itself)."""
    options: dict[str, Any] = {"num_pools": 4, "maxsize": maxsize, "block": False}
    if ssl_context is not None:
        options["ssl_context"] = ssl_context
    manager: urllib3.PoolManager
    if proxy is not None:
        manager = urllib3.ProxyManager(proxy.url, proxy_headers=dict(proxy.headers), **options)
    else:
        manager = urllib3.PoolManager(**options)
    manager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
    return manager


class Transport:
    """Sends requests to one base URL with the API key applied as each operation's scheme asks."""

    __slots__ = (
        "_api_key",
        "_base_path",
        "_base_url",
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
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL with a host")
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._base_path = parts.path.rstrip("/")
        # Asked for explicitly: the rules in http_types refuse any other encoding.
        self._headers = {"Accept-Encoding": "identity", **(headers or {})}
        self._owns_manager = manager is None
        self._proxy = proxy
        self._manager = manager or pool_manager(
            maxsize=maxsize, proxy=proxy, ssl_context=ssl_context
        )
        # Through a proxy, the manager's own urlopen writes the proxy's request form and
        # headers; otherwise the base URL's pool is looked up once and used directly.
        self._origin = f"{parts.scheme}://{parts.netloc}"
        via_proxy = isinstance(self._manager, urllib3.ProxyManager)
        self._pool = None if via_proxy else self._manager.connection_from_url(base_url)
        self._max_bytes = max_response_bytes
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
        url, headers = target(request, self._base_path, self._api_key)
        headers = {**self._headers, **headers}
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
        limits = self._timeouts.get((connect, read))
        if limits is None:
            limits = Timeout(connect=connect, read=read)
            if len(self._timeouts) < 64:  # the usual pairs repeat; cut ones need not be kept
                self._timeouts[(connect, read)] = limits
        _DEADLINE.at = deadline
        try:
            pool = self._pool
            if pool is None:
                raw = self._manager.urlopen(
                    request.method,
                    self._origin + url,
                    body=request.body,
                    headers=headers,
                    retries=False,
                    timeout=limits,
                    redirect=False,
                    preload_content=False,
                    decode_content=False,
                )
            else:
                raw = pool.urlopen(
                    request.method,
                    url,
                    body=request.body,
                    headers=headers,
                    retries=False,
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
        if self._owns_manager:
            self._manager.clear()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _failure(error: HTTPError, deadline: float | None) -> RequestFailed:
    """urllib3's exception as a `RequestFailed`: whether anything can have been sent, and why."""
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
