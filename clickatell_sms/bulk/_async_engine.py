"""`AsyncClient.send_many`: the bulk engine with its requests on the caller's event loop.

The campaign logic is the threaded engine's own (`_engine._Run`): reading and normalising rows,
grouping them into batches, the journal and resume, repeats, the stop rule, the summary. It is
reused, not copied, so both engines keep the same semantics by construction. What differs is
the run's pool (`_sender.BatchPool`): instead of `concurrency` threads each blocking on
`Client.send`, every batch is a task on the caller's loop awaiting `AsyncClient.send`, at most
`concurrency` at a time, so hundreds of requests can be in flight with no thread per request.

The reader (input, journal writes, counting, `on_result`, progress) runs in one helper thread,
as it blocks on files and SQLite; `on_result` is therefore called in that thread, in order.

Each batch is journalled as being sent before its request starts, and its outcome after, by the
run's `BatchBook`, as in the threaded engine. Cancelling the awaiting task stops the run:
batches not started are not sent (a resume sends them), and a batch whose request was out is
journalled `unknown`, never resent unless the caller names it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar, Unpack

from ..errors import OutcomeUnknownError
from ._batches import Batch
from ._engine import RunInterrupted, _Run, opened_run
from ._records import BadRow, BulkSummary, Recipient
from ._sender import BatchBook, BatchOutcome, BatchPool, Configured
from ._settings import DEFAULT_TASKS, BulkOptions, RunSettings

if TYPE_CHECKING:
    from ..results import SendResult

__all__ = ["AsyncMessageSender", "send_many_async"]

_T = TypeVar("_T")


class AsyncMessageSender(Configured, Protocol):
    """What this engine needs of a client: its settings and `await send(numbers, content,
    **options)` with `Client.send`'s options, results and errors (`AsyncClient` is one)."""

    @property
    def send(self) -> Callable[..., Awaitable[SendResult]]: ...


async def send_many_async(
    client: AsyncMessageSender,
    recipients: Iterable[str | Recipient | BadRow],
    content: str | None = None,
    **options: Unpack[BulkOptions],
) -> BulkSummary:
    """`bulk.send_many`'s contract (see there), with `concurrency` requests in flight at most
    on the running loop (16 unless given); `on_result` is called in the reader thread."""
    settings = RunSettings.check(client, content, options, default_concurrency=DEFAULT_TASKS)
    loop = asyncio.get_running_loop()

    def tasks(book: BatchBook) -> BatchPool:
        return _LoopPool(loop, _AsyncBatchSender(client, book, settings))

    with opened_run(client.config, settings, tasks) as run:
        summary = await _run_on_loop(run, recipients)
    return summary


async def _run_on_loop(run: _Run, recipients: Iterable[str | Recipient | BadRow]) -> BulkSummary:
    """The run's reader in a helper thread, awaited; a cancellation stops the run first."""
    cancelled = threading.Event()
    reader = asyncio.get_running_loop().run_in_executor(
        None, lambda: run.execute(_until(recipients, cancelled))
    )
    try:
        return await asyncio.shield(reader)
    except asyncio.CancelledError as exc:
        # Stop reading, stop starting batches, end those in flight (each journals itself),
        # then let the reader finish its books before the cancellation goes on.
        cancelled.set()
        run.stop.set()
        run.pool.cancel()
        with contextlib.suppress(BaseException):
            await reader
        run.summary.stopped = run.summary.stopped or "interrupted"
        exc.bulk_summary = run.summary  # type: ignore[attr-defined]
        raise


def _until(items: Iterable[_T], cancelled: threading.Event) -> Iterator[_T]:
    for item in items:
        if cancelled.is_set():
            raise RunInterrupted("the task awaiting send_many was cancelled")
        yield item


class _LoopPool:
    """The asyncio engine's pool: each batch a task on the loop, seen from the reader thread as
    a Future."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sender: _AsyncBatchSender) -> None:
        self._loop = loop
        self._sender = sender
        self._tasks: set[asyncio.Task[BatchOutcome]] = set()

    def submit(self, batch: Batch) -> concurrent.futures.Future[BatchOutcome]:
        return asyncio.run_coroutine_threadsafe(self._track(batch), self._loop)

    async def _track(self, batch: Batch) -> BatchOutcome:
        task = asyncio.current_task()
        assert task is not None  # a coroutine run by run_coroutine_threadsafe runs in a task
        self._tasks.add(task)
        try:
            return await self._sender.send(batch)
        finally:
            self._tasks.discard(task)

    def cancel(self) -> None:
        """Cancel every task (from the loop's thread): each books its batch, not sent or, if
        its request was out, unknown."""
        for task in list(self._tasks):
            task.cancel()

    def close(self) -> None:
        """Nothing to release: every batch was awaited by the run before this is called."""


class _AsyncBatchSender:
    """The asyncio engine's sender: one batch per task, at most `concurrency` at once, booked
    by the run's `BatchBook` as the threaded sender's are."""

    def __init__(self, client: AsyncMessageSender, book: BatchBook, settings: RunSettings) -> None:
        self._client = client
        self._book = book
        self._limiter = settings.limiter
        self._gate = asyncio.Semaphore(settings.concurrency)

    async def send(self, batch: Batch) -> BatchOutcome:
        try:
            await self._gate.acquire()
        except asyncio.CancelledError:
            return self._book.not_sent(batch)  # cancelled while waiting its turn
        try:
            return await self._send_now(batch)
        finally:
            self._gate.release()

    async def _send_now(self, batch: Batch) -> BatchOutcome:
        book, limiter = self._book, self._limiter
        try:
            if not book.stop.is_set() and limiter is not None:
                await asyncio.to_thread(limiter.acquire, len(batch.rows), book.stop)
        except asyncio.CancelledError:
            return book.not_sent(batch)
        if book.stop.is_set():
            return book.not_sent(batch)  # a resume sends it
        failed = book.start(batch)  # journalled sending before the request exists
        if failed is not None:
            return failed
        numbers, content, options = book.request(batch)
        outcome: SendResult | Exception
        try:
            outcome = await self._client.send(numbers, content, **options)
        except asyncio.CancelledError:
            outcome = OutcomeUnknownError(
                "cancelled while the request was out: it may have been sent; not resent",
                recipients=numbers,
                client_message_id=batch.client_message_id,
            )
        except Exception as exc:  # booked as a status: one bad request never stops a campaign
            outcome = exc
        return book.settle(batch, outcome)
