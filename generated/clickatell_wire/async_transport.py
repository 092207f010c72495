# generated from spec/openapi.yaml sha256 4ef00f7142349f23112e6030d87ee061204ee554c5c5b1dc6d0b30f0a9cd7cb8, do not edit
"""HTTP transport for Clickatell Platform messaging API over aiohttp: one attempt per call, within a deadline.

The asyncio twin of `transport`: the same `send(request, timeout=..., deadline=...)`, the same
`Response` and `RequestFailed`, the same rules from `http_types`. The deadline is aiohttp's own `total`
timeout, which bounds the whole attempt (connecting, sending, the status line, the headers and
reading the body) however slowly bytes arrive. The read timeout is kept by the same timer: an
attempt ends after connect + read seconds at most, or at the deadline if that comes first.

Whether a request may have reached the server, when the deadline or a cancellation ends an
attempt, is known from its body: the body is a payload that notes when aiohttp starts writing
it. Before that the request is incomplete and no server can act on it; after, it may have.
(A GET has no body: once it is on its way, its outcome is unknown.)

aiohttp is chosen over httpx by measurement (README): against each library used directly, it
costs a fifth of httpx's CPU per request, and httpx slows down under concurrency.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp.payload import BytesPayload

from .http_types import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    Progress,
    ProxySettings,
    Request,
    RequestFailed,
    Response,
    refusal,
    split_base_url,
    target,
    too_large,
)

__all__ = ["AsyncTransport"]

_CHUNK = 64 * 1024


class _TrackedBody(BytesPayload):
    """A request body that notes, in `progress`, when aiohttp starts to write it: from then on
    the server may have the whole request."""

    def __init__(self, value: bytes, progress: Progress) -> None:
        super().__init__(value)
        self.progress = progress

    async def write(self, writer: Any) -> None:
        self.progress.maybe_sent = True
        await super().write(writer)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        self.progress.maybe_sent = True
        await super().write_with_length(writer, content_length)


class AsyncTransport:
    """Sends requests to one base URL from an event loop, with the API key applied as each
    operation's scheme asks. Its own session is made on the first request, in the running loop,
    and belongs to that loop; `await close()` when done."""

    __slots__ = (
        "_api_key",
        "_base",
        "_base_path",
        "_base_url",
        "_headers",
        "_max_bytes",
        "_maxsize",
        "_owns_session",
        "_proxy",
        "_session",
        "_ssl",
        "_timeouts",
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        headers: Mapping[str, str] | None = None,
        maxsize: int = 10,
        session: aiohttp.ClientSession | None = None,
        proxy: ProxySettings | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        base = split_base_url(base_url)
        self._api_key = api_key
        self._base_url = base.url
        self._base = base.origin
        self._base_path = base.path
        self._headers = {"Accept-Encoding": "identity", **(headers or {})}
        self._proxy = proxy
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._max_bytes = max_response_bytes
        self._maxsize = maxsize
        self._timeouts: dict[tuple[float, float], aiohttp.ClientTimeout] = {}
        self._owns_session = session is None
        self._session = session

    def _own_session(self) -> aiohttp.ClientSession:
        """The session this transport makes for itself, on first use (inside the loop)."""
        connector = aiohttp.TCPConnector(limit=self._maxsize, limit_per_host=self._maxsize)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, trust_env=False
        )
        return self._session

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        key = "set" if self._api_key else "unset"
        proxy = f", proxy={self._proxy.shown!r}" if self._proxy is not None else ""
        return f"AsyncTransport(base_url={self._base_url!r}{proxy}, api_key=<{key}>)"

    async def send(
        self,
        request: Request,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        deadline: float | None = None,
        progress: Progress | None = None,
    ) -> Response:
        """One attempt, as `Transport.send`. Cancelling it ends it at once; `progress` then
        says whether the request may have reached the server."""
        path, headers = target(request, self._base_path, self._api_key, self._headers)
        proxy = self._proxy
        if proxy is not None and self._base.startswith("http:"):
            # A plain-HTTP request goes to the proxy itself, so its login travels with it (for
            # https:// only the CONNECT carries it: the API never sees the proxy's password).
            headers.update(proxy.headers)
        connect, read = timeout
        remaining = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestFailed(
                    "the deadline passed before the request was sent; nothing was sent",
                    kind="connect-timeout",
                    timed_out=True,
                )
            connect, read = min(connect, remaining), min(read, remaining)
        progress = progress if progress is not None else Progress()
        if request.body is None:
            body = None
            progress.maybe_sent = True  # no body to watch: once started, it may arrive
        else:
            body = _TrackedBody(request.body, progress)
        session = self._session or self._own_session()
        # One timer for the attempt: the deadline, or connect + read when that ends sooner (a
        # timer per read, aiohttp's sock_read, would cost about 5% more CPU per request).
        limits = self._timeouts.get((connect, read))
        if limits is None or (remaining is not None and remaining < connect + read):
            total = connect + read if remaining is None else min(remaining, connect + read)
            limits = aiohttp.ClientTimeout(total=total, sock_connect=connect)
            if remaining is None or remaining >= connect + read:
                self._timeouts[(connect, read)] = limits
        try:
            async with session.request(
                request.method,
                self._base + path,
                data=body,
                headers=headers,
                allow_redirects=False,
                auto_decompress=False,
                proxy=None if proxy is None else proxy.url,
                proxy_headers=None if proxy is None else proxy.headers,
                ssl=self._ssl,
                timeout=limits,
            ) as answer:
                return await self._read(answer)
        except TimeoutError as exc:
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                raise _not_sent("no connection within the connect timeout", True) from exc
            if not progress.maybe_sent:
                raise _not_sent("no connection before the deadline", True) from exc
            late = deadline is not None and time.monotonic() >= deadline - 0.005
            what = "before the deadline" if late else "within the read timeout"
            raise RequestFailed(
                f"no complete answer {what} after the request was sent",
                kind="unknown",
                timed_out=True,
            ) from exc
        except aiohttp.ClientError as exc:
            raise _failure(exc, progress) from exc

    async def _read(self, answer: aiohttp.ClientResponse) -> Response:
        headers = answer.headers
        refused = refusal(headers, self._max_bytes)
        if refused is None:
            if answer.content_length is not None:  # already checked against the cap
                return Response(answer.status, headers, await answer.read())
            chunks: list[bytes] = []
            size = 0
            while size <= self._max_bytes:
                chunk = await answer.content.read(_CHUNK)
                if not chunk:
                    return Response(answer.status, headers, b"".join(chunks))
                chunks.append(chunk)
                size += len(chunk)
            refused = too_large(self._max_bytes)
        answer.close()  # never reuse a connection with an unread body
        return Response(answer.status, headers, b"", refused)

    async def close(self) -> None:
        """Close the session's connections (only a session this transport created)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _not_sent(what: str, timed_out: bool) -> RequestFailed:
    return RequestFailed(f"{what}; nothing was sent", kind="connect-timeout", timed_out=timed_out)


def _failure(error: aiohttp.ClientError, progress: Progress) -> RequestFailed:
    """aiohttp's exception as a `RequestFailed`: whether anything can have been sent, and why."""
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return RequestFailed(
            "the server's TLS certificate was refused; nothing was sent", kind="tls"
        )
    if isinstance(error, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        return RequestFailed(
            "the proxy could not be reached or refused the connection; nothing was sent",
            kind="refused",
        )
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return RequestFailed(
            "the host name could not be resolved (DNS); nothing was sent", kind="refused"
        )
    if isinstance(error, aiohttp.ClientConnectorSSLError):
        return RequestFailed("a TLS error while connecting; nothing was sent", kind="tls")
    if isinstance(error, aiohttp.ClientConnectorError):
        return RequestFailed("the connection could not be opened; nothing was sent", kind="refused")
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return _not_sent("no connection within the connect timeout", True)
    if isinstance(error, aiohttp.SocketTimeoutError):
        return RequestFailed(
            "no complete answer within the read timeout after the request was sent",
            kind="unknown",
            timed_out=True,
        )
    if not progress.maybe_sent:
        return RequestFailed(
            f"{type(error).__name__} before the request was sent; nothing was sent",
            kind="refused",
        )
    return RequestFailed("the connection broke after the request was sent", kind="unknown")
