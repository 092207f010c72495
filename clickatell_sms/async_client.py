"""`AsyncClient`: the client for asyncio programs (FastAPI, aiohttp, Starlette, ...).

The same surface as `Client`, awaited: `send`, `send_many`, `balance`, `message_status`,
`estimate`, and `async with`. Validation, results, errors, the retry rule (never resend what may
have arrived), the deadline and key hygiene are the same code as `Client`'s (`BaseClient`,
`answers`, `retry`); only the transport differs: a real asyncio one over aiohttp, generated from
the same operation table as the urllib3 transport, with no thread per request.

Needs the `async` extra (`pip install 'clickatell-sms[async]'`, which brings aiohttp). Importing
`clickatell_sms` does not load this module, asyncio or aiohttp; the first `AsyncClient()` does.

One client belongs to one event loop: its connections are made in the loop that first uses it.
Cancelling a task that is sending is safe: the cancellation goes on, and a request it cut short
after its body went out is logged at WARNING as outcome unknown (recipients and client message
ID) and never resent; in `send_many` it is journalled `unknown`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Unpack

from clickatell_wire.tables import SendOptions

from .client import BaseClient, read_known_status
from .config import NOT_GIVEN, ClientConfig, ClientSettings, Integration, NotGiven, TimeoutArg
from .errors import ClickatellError
from .options import check_message_id
from .retry import RetryPolicy

if TYPE_CHECKING:
    import os

    import aiohttp

    from . import results
    from .async_exchange import AsyncExchange
    from .bulk import BadRow, BulkOptions, BulkSummary, Recipient
    from .opt_outs.store import OptOutCheck

__all__ = ["DEFAULT_MAX_CONNECTIONS", "AsyncClient"]

DEFAULT_MAX_CONNECTIONS = 100
"""An AsyncClient's connections unless told otherwise (aiohttp's own default): many requests
at once is what it is for; `Client` keeps 10, one per thread that shares it."""


class AsyncClient(BaseClient):
    """A Clickatell Platform client for asyncio: one aiohttp session, many requests at once.

    Made with the same settings as `Client` (see `ClientConfig`), except that it keeps up to
    100 connections unless `max_connections` says otherwise; `http_client` is an
    `aiohttp.ClientSession` of your own to send through (`close()` leaves it open). Use it as
    `async with AsyncClient(...) as client:`, or `await client.close()`.
    """

    __slots__ = ("_exchange",)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        config: ClientConfig | None = None,
        integration: Integration | NotGiven = NOT_GIVEN,
        http_client: aiohttp.ClientSession | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        if settings.get("max_connections") is None and config is None:
            settings["max_connections"] = DEFAULT_MAX_CONNECTIONS
        super().__init__(api_key, config=config, integration=integration, **settings)
        self._exchange: AsyncExchange = _exchange_module().AsyncExchange(self._config, http_client)

    async def send(
        self,
        to: str | Iterable[str],
        content: str,
        *,
        timeout: TimeoutArg | None = None,
        total_timeout: float | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        integration: Integration | None = None,
        opt_outs: OptOutCheck | str | os.PathLike[str] | None = None,
        **options: Unpack[SendOptions],
    ) -> results.SendResult:
        """`Client.send`, awaited: the same checks, results, errors and retry rule.

        The requests of a send to more than 200 numbers go one after another, as with
        `Client`; send several messages at once with `asyncio.gather` or `send_many`.
        `opt_outs` is checked before the first request, with one blocking read of the store.
        """
        collector, requests = self._plan_send(
            to,
            content,
            timeout=timeout,
            total_timeout=total_timeout,
            retries=retries,
            extra_headers=extra_headers,
            integration=integration,
            options=options,
            opt_outs=opt_outs,
        )
        for request in requests:
            try:
                raw, entries = await self._exchange.send(request)
                collector.place(request, raw, entries)
            except ClickatellError as exc:
                exc.partial = collector.partial()
                raise
        return collector.result()

    async def send_many(
        self,
        recipients: Iterable[str | Recipient | BadRow],
        content: str | None = None,
        *,
        dry_run: bool = False,
        **options: Unpack[BulkOptions],
    ) -> BulkSummary:
        """`Client.send_many`, awaited, with `concurrency` requests in flight on this loop (16
        unless given; no thread per request). The same journal, resume, opt-outs and summary;
        `on_result` is called in the helper thread that reads the input. Cancelling the
        awaiting task stops the run: the `CancelledError` carries the summary so far as
        `bulk_summary`. `dry_run=True` counts the campaign in a helper thread, sending
        nothing (`bulk.DryRun`)."""
        from .bulk._async_engine import ConfigFace, send_many_async

        if dry_run:
            import asyncio

            from .bulk.dry_run import dry_run as count

            face = ConfigFace(self.config)
            return await asyncio.to_thread(count, face, recipients, content, **options)
        return await send_many_async(self, recipients, content, **options)

    async def balance(
        self,
        *,
        timeout: TimeoutArg | None = None,
        total_timeout: float | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> results.Balance:
        """`Client.balance`, awaited."""
        from . import results, wire

        request, call_timeout, deadline, policy = self._plan_look_up(
            wire.balance_request, timeout, total_timeout, retries, extra_headers
        )
        found, raw = await self._exchange.look_up(
            "balance look-up", request, wire.read_balance, call_timeout, deadline, policy
        )
        return results.Balance(found.amount, found.currency, raw)

    async def message_status(
        self,
        api_message_id: str,
        *,
        timeout: TimeoutArg | None = None,
        total_timeout: float | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> results.StatusResult:
        """`Client.message_status`, awaited."""
        from . import wire

        message_id = check_message_id(api_message_id)
        request, call_timeout, deadline, policy = self._plan_look_up(
            lambda headers: wire.status_request(message_id, headers),
            timeout,
            total_timeout,
            retries,
            extra_headers,
        )
        found, raw = await self._exchange.look_up(
            "status look-up", request, read_known_status, call_timeout, deadline, policy
        )
        return self._status_of(message_id, found, raw)

    async def close(self) -> None:
        """Close the session's connections; the client cannot send afterwards."""
        self._closed = True
        await self._exchange.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _exchange_module() -> ModuleType:
    """`async_exchange`, or an ImportError that says which extra brings aiohttp."""
    try:
        from . import async_exchange
    except ModuleNotFoundError as exc:
        if exc.name != "aiohttp" and not (exc.name or "").startswith("aiohttp."):
            raise
        raise ModuleNotFoundError(
            "AsyncClient needs aiohttp: pip install 'clickatell-sms[async]'", name=exc.name
        ) from exc
    return async_exchange
