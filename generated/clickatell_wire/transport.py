# generated from spec/openapi.yaml by python -m codegen, do not edit
"""HTTP transport for Clickatell Platform messaging API on urllib3: one attempt per call, within a deadline.

Every request goes through one urllib3 `HTTPConnectionPool` for the base URL's host (`pool`),
whose `connection.Watched` connections keep the deadline on every path. urllib3 loads with the
first request.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Unpack

from .http_types import Request, Response
from .pool import Route, classify, open_route
from .transport_base import TransportBase, TransportSettings

if TYPE_CHECKING:
    import urllib3

__all__ = ["Transport"]


class Transport(TransportBase):
    """Sends requests to one base URL with the API key applied as each operation's scheme asks
    (thread-safe, as urllib3's pool is). `manager`, a caller's PoolManager, stays open after
    `close()`; its own settings apply, so `proxy_url` and `ssl_context` do not."""

    __slots__ = ("_lock", "_manager", "_route")

    def __init__(
        self, *, manager: urllib3.PoolManager | None = None, **settings: Unpack[TransportSettings]
    ) -> None:
        super().__init__(ask_identity=False, **settings)  # http.client writes it, unasked
        self._manager = manager
        self._route: Route | None = None
        self._lock = threading.Lock()

    def send(
        self,
        request: Request,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        deadline: float | None = None,
    ) -> Response:
        """One attempt: `timeout` is (connect, read) seconds, each cut to what is left before
        `deadline` (a `time.monotonic()` instant). Raises `RequestFailed` without an answer."""
        path, headers, connect, read, _ = self._prepare(request, timeout, deadline)
        route = self._route or self._open()
        attempt = route.attempt
        attempt.deadline, attempt.unsent = deadline, False
        try:
            raw = route.pool.urlopen(
                request.method, route.prefix + path, body=request.body, headers=headers,
                retries=route.retries, timeout=route.timeout(connect, read),
                redirect=False, assert_same_host=False, preload_content=False, decode_content=False,
            )  # fmt: skip
            try:
                return self._read(raw)
            finally:
                raw.release_conn()
        except Exception as exc:
            found = classify(exc)  # (timed out, why it sent nothing), or None: not urllib3's
            if found is None:
                raise  # not a network failure but a bug: shown as it is
            failure = (
                self._unsent(exc, deadline, found[1])
                if attempt.unsent  # it failed while connecting: nothing was written
                else self._unknown(found[0], deadline, exc)
            )
        finally:
            attempt.deadline = None
        raise failure  # outside the `except`: the library's exception is not even its context

    def _open(self) -> Route:  # on the first request
        with self._lock:
            if self._route is None:
                proxy = None if self._proxy_url is None else (self._proxy_url, self._proxy_headers)
                self._route = open_route(
                    self._base_url, self._manager, proxy, self._maxsize, self._ssl
                )
        return self._route

    def _read(self, raw: urllib3.BaseHTTPResponse) -> Response:
        headers, length = raw.headers, raw.length_remaining  # urllib3 read Content-Length
        # Not .get(): urllib3's headers raise and catch KeyError for an absent one (the usual).
        encoding = headers["Content-Encoding"] if "Content-Encoding" in headers else None  # noqa: SIM401
        if encoding is None and length is not None and length <= self._max_bytes:
            return Response(raw.status, headers, raw.read())  # the usual answer: nothing refused
        refused = self._refusal(encoding, length)
        if refused is None:  # no length, or "identity" named: read up to the cap and a byte
            body = raw.read(self._max_bytes + 1)
            if len(body) <= self._max_bytes:
                return Response(raw.status, headers, body)
            refused = self._too_large()
        raw.close()  # an unread body must never meet the next request on this connection
        return Response(raw.status, headers, b"", refused)

    def close(self) -> None:
        """Close the pool's connections (a caller's PoolManager stays open)."""
        if self._route is not None:
            self._route.pool.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
