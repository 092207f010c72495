# generated from spec/openapi.yaml by python -m codegen, do not edit
"""HTTP transport for Clickatell Platform messaging API on aiohttp: one attempt per call, within a deadline.

The asyncio twin of `transport` (same `send`, `Response`, `RequestFailed`, rules). The deadline
is aiohttp's `total` timeout, which bounds the whole attempt however slowly bytes arrive, and
keeps the read timeout too (an attempt ends after connect + read seconds at most). Whether a
request cut short may have reached the server is `async_progress`'s to say.
"""

from __future__ import annotations

from asyncio import IncompleteReadError
from typing import Unpack

import aiohttp

from .async_progress import TrackedBody, classify
from .http_types import Progress, Request, Response
from .transport_base import TransportBase, TransportSettings

__all__ = ["AsyncTransport"]


class AsyncTransport(TransportBase):
    """Sends requests to one base URL from an event loop. Its own session is made by the first
    request, in the running loop, and belongs to it (`await close()` when done); a `session` of
    the caller's is used as it is and left open."""

    __slots__ = ("_owns_session", "_session")

    def __init__(
        self, *, session: aiohttp.ClientSession | None = None, **settings: Unpack[TransportSettings]
    ) -> None:
        super().__init__(**settings)
        self._owns_session, self._session = session is None, session

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
        path, headers, connect, read, remaining = self._prepare(request, timeout, deadline)
        if self._proxy_url is not None and self._origin.startswith("http:"):
            # To a plain-HTTP API the request goes to the proxy itself, and its login with it
            # (for https:// only the CONNECT carries it: the API never sees the proxy's password).
            headers.update(self._proxy_headers)
        progress = progress if progress is not None else Progress()
        progress.maybe_sent = request.body is None  # no body to watch: once out, it may arrive
        body = None if request.body is None else TrackedBody(request.body, progress)
        total = connect + read if remaining is None else min(connect + read, remaining)
        session = self._session or self._own_session()
        try:
            async with session.request(
                request.method, self._origin + path, data=body, headers=headers, allow_redirects=False,
                auto_decompress=False, proxy=self._proxy_url, proxy_headers=self._proxy_headers or None,
                ssl=self._ssl or True, timeout=aiohttp.ClientTimeout(total=total, sock_connect=connect),
            ) as answer:  # fmt: skip
                return await self._read(answer)
        except (aiohttp.ClientError, TimeoutError) as exc:
            sent, timed_out, why = classify(exc, progress)
            failure = (
                self._unknown(timed_out, deadline, exc)
                if sent
                else self._unsent(exc, deadline, why)
            )
        raise failure  # outside the `except`: the library's exception is not even its context

    def _own_session(self) -> aiohttp.ClientSession:
        """The session this transport makes for itself, on first use (inside the loop)."""
        connector = aiohttp.TCPConnector(limit=self._maxsize, limit_per_host=self._maxsize)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, trust_env=False
        )
        return self._session

    async def _read(self, answer: aiohttp.ClientResponse) -> Response:
        headers, length = answer.headers, answer.content_length
        refused = self._refusal(headers.get("Content-Encoding"), length)
        if refused is None:
            if length is not None:  # checked against the cap
                return Response(answer.status, headers, await answer.read())
            try:
                await answer.content.readexactly(self._max_bytes + 1)
            except IncompleteReadError as short:  # the whole body, within the cap
                return Response(answer.status, headers, short.partial)
            refused = self._too_large()
        answer.close()  # never reuse a connection with an unread body
        return Response(answer.status, headers, b"", refused)

    async def close(self) -> None:
        """Close the session's connections (only a session this transport made)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
