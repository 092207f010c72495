"""One request of the asyncio client: its attempts within the deadline, then what they mean.

The twin of `exchange` on the generated aiohttp transport: the same `RetryState` decides, the
same hooks see each attempt, and `answers.Answers` reads the outcome, so results and errors are
the same as the urllib3 client's. What is its own is waiting without blocking the loop, and
cancellation: a task cancelled while a request is out is a fault like any other. The
cancellation goes on (it is never swallowed), but first the request is reported: a WARNING
naming its recipients and client message ID when it may have reached the API, and an
`on_response` hook call with outcome "cancelled". It is never resent.

Imported when the first `AsyncClient` is made: it loads aiohttp (the `async` extra).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from clickatell_wire.async_transport import AsyncTransport
from clickatell_wire.http_types import Progress, Request, RequestFailed, Response

from .answers import Answers, Attempts
from .config import transport_settings
from .errors import ClickatellError, ValidationError
from .retry import RetryPolicy

if TYPE_CHECKING:
    import aiohttp

    from . import wire
    from .config import ClientConfig
    from .matching import SendRequest
    from .raw import RawResponse

__all__ = ["AsyncExchange"]

T = TypeVar("T")


class AsyncExchange(Answers):
    """A client's requests over its one aiohttp session, from one event loop."""

    __slots__ = ("_transport",)

    def __init__(self, config: ClientConfig, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(config)
        settings = transport_settings(config)
        try:
            self._transport = AsyncTransport(session=session, **settings)
        except ValueError as exc:  # already checked by ClientConfig; kept so nothing raw escapes
            raise ValidationError("base_url", str(exc)) from None

    async def close(self) -> None:
        await self._transport.close()

    async def send(self, request: SendRequest) -> tuple[RawResponse, list[wire.WireEntry] | None]:
        """Send one request of a send: the raw answer and its entries, or the typed error."""
        wire_request = self.send_request(request)
        started = time.perf_counter()
        progress = Progress()
        failure: ClickatellError
        try:
            response = await self.attempts(
                wire_request,
                request.timeout,
                request.total_timeout,
                request.retry,
                False,
                progress,
            )
        except RequestFailed as exc:
            failure = self.unanswered(exc, request)
            if not request.http:
                raise failure from exc
        except asyncio.CancelledError:
            if progress.maybe_sent:
                self.cancelled(request)
            raise
        else:
            return self.send_answer(request, response, started)
        raise failure  # the GET send: no cause, no context (see `Exchange.send`)

    async def look_up(
        self,
        what: str,
        request: Request,
        read: Callable[[Response], tuple[wire.Envelope, T | None]],
        timeout: tuple[float, float],
        total_timeout: float,
        policy: RetryPolicy,
    ) -> tuple[T, RawResponse]:
        """One GET that changes nothing, retried on every failure the policy allows, and what
        `read` finds in its answer."""
        started = time.perf_counter()
        try:
            response = await self.attempts(
                request, timeout, total_timeout, policy, True, Progress()
            )
        except RequestFailed as exc:
            raise self.look_up_failed(what, exc) from exc
        return self.look_up_answer(what, response, read, started)

    async def attempts(
        self,
        request: Request,
        timeout: tuple[float, float],
        total_timeout: float,
        policy: RetryPolicy,
        idempotent: bool,
        progress: Progress,
    ) -> Response:
        """Attempts until one is final, within the request's deadline (see `Exchange`).
        `progress` tells, if the task is cancelled, whether the current attempt may have
        reached the server."""
        tries = Attempts(self._config, request, policy, total_timeout, idempotent)
        send = self._transport.send
        while True:
            tries.start()
            try:
                response = await send(
                    request, timeout=timeout, deadline=tries.deadline, progress=progress
                )
            except RequestFailed as failure:
                wait = tries.failed(failure)
                if wait is None:
                    raise
            except asyncio.CancelledError:
                tries.cancelled(progress.maybe_sent)
                raise
            else:
                wait = tries.answered(response)
                if wait is None:
                    return response
            progress.maybe_sent = False  # that attempt was not taken: nothing is out
            await asyncio.sleep(wait)
