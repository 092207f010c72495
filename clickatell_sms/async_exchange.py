"""The asyncio client's loop of attempts: send and wait without blocking the event loop.

The twin of `exchange` on the generated aiohttp transport: a request's `answers.Call` decides
everything (the deadline, the hooks, whether to try again, which result or typed error the last
outcome is), as for the urllib3 client. What is its own is awaiting, and cancellation: a task
cancelled while a request is out is a fault like any other. The cancellation goes on (it is
never swallowed), but first the call reports it: an `on_response` hook call with outcome
"cancelled" and, for a send that may have reached the API, a WARNING naming its recipients and
client message ID. It is never resent.

Imported when the first `AsyncClient` is made: it loads aiohttp (the `async` extra).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

from clickatell_wire.async_transport import AsyncTransport
from clickatell_wire.http_types import Progress, RequestFailed, Response

from .answers import Answers, Call
from .config import transport_settings
from .errors import ValidationError

if TYPE_CHECKING:
    import aiohttp

    from .config import ClientConfig

__all__ = ["AsyncExchange"]

T = TypeVar("T")


class AsyncExchange(Answers):
    """A client's requests over its one aiohttp session, from one event loop."""

    __slots__ = ("_transport",)

    def __init__(self, config: ClientConfig, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(config)
        settings = transport_settings(config)  # a bad TLS file is named here, by its setting
        try:
            self._transport = AsyncTransport(session=session, **settings)
        except ValueError as exc:  # already checked by ClientConfig; kept so nothing raw escapes
            raise ValidationError("base_url", str(exc)) from None

    async def close(self) -> None:
        await self._transport.close()

    async def run(self, call: Call[T]) -> T:
        """Attempts until one is final, within the call's deadline; what it comes to. If the
        task is cancelled, `progress` tells the call whether the attempt may have reached the
        server."""
        send = self._transport.send
        progress = Progress()
        outcome: Response | RequestFailed
        while True:
            deadline = call.start()
            try:
                outcome = await send(
                    call.request, timeout=call.timeout, deadline=deadline, progress=progress
                )
            except RequestFailed as failure:
                outcome = failure
            except asyncio.CancelledError:
                call.cancelled(progress.maybe_sent)
                raise
            wait = call.after(outcome)
            if wait is None:
                return call.result(outcome)
            progress.maybe_sent = False  # that attempt was not taken: nothing is out
            await asyncio.sleep(wait)
