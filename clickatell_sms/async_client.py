"""`AsyncClient`: the client for asyncio programs (FastAPI, aiohttp, Starlette, ...).

The same surface as `Client`, awaited: `send`, `send_many`, `balance`, `message_status`,
`estimate`, and `async with`. Validation, results, errors, the retry rule (never resend what may
have arrived), the deadline and key hygiene are the same code as `Client`'s (`BaseClient`,
`answers.Call`); only the transport differs: a real asyncio one over aiohttp, generated from
the same operation table as the urllib3 transport, with no thread per request.

Needs the `async` extra (`pip install 'clickatell-sms[async]'`, which brings aiohttp). Importing
`clickatell_sms` does not load this module, asyncio or aiohttp; the first `AsyncClient()` does.

One client belongs to one event loop: its connections are made in the loop that first uses it.
Cancelling a task that is sending is safe: the cancellation goes on, and a request it cut short
after its body went out is logged at WARNING as outcome unknown (recipients and client message
ID) and never resent; the `CancelledError` carries `outcome_unknown` as `Client.send`'s
`KeyboardInterrupt` does, and in `send_many` the request is journalled `unknown`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, Unpack, cast

from .client import BaseClient

if TYPE_CHECKING:
    import aiohttp

    from . import results
    from .async_exchange import AsyncExchange
    from .bulk import BulkOptions, BulkSummary
    from .call_settings import CallSettings, SendSettings
    from .client import Recipients, SendManyOptions

__all__ = ["DEFAULT_MAX_CONNECTIONS", "AsyncClient"]

DEFAULT_MAX_CONNECTIONS: Final = 100
"""An AsyncClient's connections unless told otherwise (aiohttp's own default): many requests
at once is what it is for; `Client` keeps 10, one per thread that shares it."""


class AsyncClient(BaseClient["aiohttp.ClientSession"]):
    """A Clickatell Platform client for asyncio: one aiohttp session, many requests at once.

    Made with the same settings as `Client` (see `ClientConfig`), except that it keeps up to
    100 connections unless `max_connections` says otherwise; `http_client` is an
    `aiohttp.ClientSession` of your own to send through (`close()` leaves it open). Use it as
    `async with AsyncClient(...) as client:`, or `await client.close()`.
    """

    __slots__ = ("_exchange",)

    DEFAULT_MAX_CONNECTIONS = DEFAULT_MAX_CONNECTIONS

    def _open(self, http_client: aiohttp.ClientSession | None) -> None:
        self._exchange: AsyncExchange = _exchange_class()(self._config, http_client)

    def _exchanging(self) -> AsyncExchange:
        return self._exchange

    async def send(
        self, to: str | Iterable[str], content: str, **options: Unpack[SendSettings]
    ) -> results.SendResult:
        """`Client.send`, awaited: the same checks, results, errors and retry rule.

        The requests of a send to more than 200 numbers go one after another, as with
        `Client`; send several messages at once with `asyncio.gather` or `send_many`.
        `opt_outs` is checked before the first request, with one blocking read of the store.
        """
        run = self._plan_send(to, content, options)
        exchange = self._exchange
        try:
            for call in run.calls(exchange.send_call):
                run.place(await exchange.run(call))
        except BaseException as stop:
            run.stopped(stop)
            raise
        return run.result()

    async def send_many(
        self, recipients: Recipients, content: str | None = None, **options: Unpack[SendManyOptions]
    ) -> BulkSummary:
        """`Client.send_many`, awaited, with `concurrency` requests in flight on this loop (16
        unless given; no thread per request). The same journal, resume, opt-outs and summary;
        `on_result` is called in the helper thread that reads the input. Cancelling the
        awaiting task stops the run: the `CancelledError` carries the summary so far as
        `bulk_summary`. `dry_run=True` counts the campaign in a helper thread, sending
        nothing (`bulk.DryRun`)."""
        # The bulk engine loads only for a bulk send.
        from .bulk._async_engine import send_many_async

        dry_run = options.pop("dry_run", False)
        run_options = cast("BulkOptions", options)  # dry_run taken out
        if dry_run:
            import asyncio  # loaded by the event loop running this already

            from .bulk.dry_run import dry_run as count  # loaded only for a dry run

            return await asyncio.to_thread(count, self, recipients, content, **run_options)
        return await send_many_async(self, recipients, content, **run_options)

    async def balance(self, **settings: Unpack[CallSettings]) -> results.Balance:
        """`Client.balance`, awaited."""
        return await self._exchange.run(self._balance_call(settings))

    async def message_status(
        self, api_message_id: str, **settings: Unpack[CallSettings]
    ) -> results.StatusResult:
        """`Client.message_status`, awaited."""
        return await self._exchange.run(self._status_call(api_message_id, settings))

    async def close(self) -> None:
        """Close the session's connections; the client cannot send afterwards."""
        self._closed = True
        await self._exchange.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _exchange_class() -> type[AsyncExchange]:
    """`AsyncExchange`, or an ImportError that says which extra brings aiohttp."""
    try:
        from .async_exchange import AsyncExchange  # loads aiohttp: the first AsyncClient() pays
    except ModuleNotFoundError as exc:
        if exc.name != "aiohttp" and not (exc.name or "").startswith("aiohttp."):
            raise
        raise ModuleNotFoundError(
            "AsyncClient needs aiohttp: pip install 'clickatell-sms[async]'", name=exc.name
        ) from exc
    return AsyncExchange
