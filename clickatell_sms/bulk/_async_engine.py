"""`AsyncClient.send_many`: the bulk engine with its requests on the caller's event loop.

The campaign logic is the threaded engine's own (`_engine._Run`): reading and normalising rows,
grouping them into batches, the journal and resume, repeats, the stop rule, the summary. It is
reused, not copied, so both engines keep the same semantics by construction. What differs is
where requests go: instead of a pool of `concurrency` threads each blocking on `Client.send`,
every batch is a task on the caller's loop awaiting `AsyncClient.send`, at most `concurrency`
at a time, so hundreds of requests can be in flight with no thread per request.

The reader (input, journal writes, counting, `on_result`, progress) runs in one helper thread,
as it blocks on files and SQLite; `on_result` is therefore called in that thread, in order.

Each batch is journalled as being sent before its request starts, and its outcome after, as in
the threaded engine: `BatchSender` maps the outcome (a result or an error) to row statuses and
journals them, handed here the outcome the awaited send already had. Cancelling the awaiting
task stops the run: batches not started are not sent (a resume sends them), and a batch whose
request was out is journalled `unknown`, never resent unless the caller names it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, Unpack

from ..errors import OutcomeUnknownError
from ._batches import Batch
from ._engine import _Run, open_opt_outs_check, open_outputs
from ._records import BadRow, BulkSummary, Recipient
from ._sender import BatchOutcome, BatchSender
from ._settings import DEFAULT_TASKS, BulkOptions, RunSettings
from .journal import JournalWriteError

if TYPE_CHECKING:
    from ..config import ClientConfig
    from ..results import SendResult

__all__ = ["ConfigFace", "send_many_async"]

_T = TypeVar("_T")


class AsyncMessageSender(Protocol):
    """What this engine needs of a client: its settings and `await send(numbers, content,
    **options)` with `Client.send`'s options, results and errors (`AsyncClient` is one)."""

    @property
    def config(self) -> ClientConfig: ...

    @property
    def send(self) -> Callable[..., Coroutine[Any, Any, SendResult]]: ...


class RunCancelled(KeyboardInterrupt):
    """Raised in the reader thread when the task awaiting the run was cancelled: the engine
    stops as it does for Ctrl-C (in-flight batches finished and journalled, then out)."""


async def send_many_async(
    client: AsyncMessageSender,
    recipients: Iterable[str | Recipient | BadRow],
    content: str | None = None,
    **options: Unpack[BulkOptions],
) -> BulkSummary:
    """`bulk.send_many`'s contract (see there), with `concurrency` requests in flight at most
    on the running loop (16 unless given); `on_result` is called in the reader thread."""
    face = ConfigFace(client.config)
    settings = RunSettings.check(face, content, options, default_concurrency=DEFAULT_TASKS)
    loop = asyncio.get_running_loop()
    with (
        open_opt_outs_check(settings) as opt_outs,
        open_outputs(settings) as (journal, writer, progress),
    ):
        run = _LoopRun(face, settings, journal, writer=writer, progress=progress, opt_outs=opt_outs)
        sender = _AsyncBatchSender(client, run, loop)
        run.sender = sender  # type: ignore[assignment]  # the async sender takes its place
        run.loop_pool = _LoopPool(loop, sender)
        return await run.run_on_loop(recipients)
    raise AssertionError("unreachable")  # a context manager could swallow exceptions, for mypy


class ConfigFace:
    """What the run reads of a client (its settings): the async client's, synchronously."""

    def __init__(self, config: ClientConfig) -> None:
        self._config = config

    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def send(self) -> Callable[..., SendResult]:
        raise AssertionError("the asyncio engine sends through _AsyncBatchSender")


class _LoopRun(_Run):
    """The threaded engine's run, with its pool replaced by tasks on the event loop."""

    loop_pool: _LoopPool

    def _make_pool(self) -> Any:
        return self.loop_pool

    async def run_on_loop(self, recipients: Iterable[str | Recipient | BadRow]) -> BulkSummary:
        cancelled = threading.Event()
        reader = asyncio.get_running_loop().run_in_executor(
            None, lambda: self.execute(_until(recipients, cancelled))
        )
        try:
            return await asyncio.shield(reader)
        except asyncio.CancelledError as exc:
            # Stop reading, stop starting batches, end those in flight (each journals itself),
            # then let the reader finish its books before the cancellation goes on.
            cancelled.set()
            self.stop.set()
            self.loop_pool.cancel_all()
            with contextlib.suppress(BaseException):
                await reader
            self.summary.stopped = self.summary.stopped or "interrupted"
            exc.bulk_summary = self.summary  # type: ignore[attr-defined]
            raise


def _until(items: Iterable[_T], cancelled: threading.Event) -> Iterator[_T]:
    for item in items:
        if cancelled.is_set():
            raise RunCancelled("the task awaiting send_many was cancelled")
        yield item


class _LoopPool:
    """`submit(send, batch)` as a task on the loop, seen from the reader thread as a Future."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sender: _AsyncBatchSender) -> None:
        self._loop = loop
        self._sender = sender
        self._tasks: set[asyncio.Task[BatchOutcome]] = set()

    def submit(
        self, send: Callable[[Batch], object], batch: Batch
    ) -> concurrent.futures.Future[BatchOutcome]:
        return asyncio.run_coroutine_threadsafe(self._track(batch), self._loop)

    async def _track(self, batch: Batch) -> BatchOutcome:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return await self._sender.send(batch)
        finally:
            self._tasks.discard(task)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to release: every batch was awaited by the run before this is called."""


class _Replay:
    """A client whose `send` returns, or raises, what an awaited send already did: so that
    `BatchSender` maps it to rows and journals it exactly as the threaded engine would."""

    def __init__(self, config: ClientConfig, outcome: SendResult | BaseException | None) -> None:
        self._config = config
        self._outcome = outcome

    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def send(self) -> Callable[..., SendResult]:
        return self._send

    def _send(self, *args: object, **kwargs: object) -> SendResult:
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None  # a stopped run's sender never sends
        return self._outcome


class _AsyncBatchSender:
    """One batch at a time per task, at most `concurrency` at once."""

    def __init__(
        self, client: AsyncMessageSender, run: _LoopRun, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._client = client
        self._run = run
        self._gate = asyncio.Semaphore(run.settings.concurrency)
        self._never = threading.Event()
        integration = run.settings.send_options.get("integration", client.config.integration)
        self._ids_on_the_wire = integration != "http"

    async def send(self, batch: Batch) -> BatchOutcome:
        try:
            await self._gate.acquire()
        except asyncio.CancelledError:
            return self._book(batch, None)  # cancelled while waiting its turn: never sent
        try:
            return await self._send_now(batch)
        finally:
            self._gate.release()

    async def _send_now(self, batch: Batch) -> BatchOutcome:
        run = self._run
        limiter = run.settings.limiter
        try:
            if not run.stop.is_set() and limiter is not None:
                await asyncio.to_thread(limiter.acquire, len(batch.rows), run.stop)
        except asyncio.CancelledError:
            return self._book(batch, None)
        if run.stop.is_set():
            return self._book(batch, None)  # not sent; a resume sends it
        try:
            run.journal.mark_sending(batch.id)  # before the request exists, as in the threads
        except JournalWriteError as exc:  # as BatchSender: not sent, the run stops
            final = [m.settled("failed", None, None, "not sent", str(exc)) for m in batch.rows]
            return BatchOutcome(batch, final, None, False, False, False, exc)
        try:
            outcome: SendResult | BaseException = await self._send(batch)
        except asyncio.CancelledError:
            outcome = OutcomeUnknownError(
                "cancelled while the request was out: it may have been sent; not resent",
                recipients=[m.number for m in batch.rows],
                client_message_id=batch.client_message_id,
            )
        except Exception as exc:  # the typed errors, mapped to rows by BatchSender
            outcome = exc
        return self._book(batch, outcome)

    def _send(self, batch: Batch) -> Coroutine[Any, Any, SendResult]:
        options: dict[str, Any] = dict(self._run.settings.send_options)
        if self._ids_on_the_wire:
            options["client_message_id"] = batch.client_message_id
        return self._client.send([m.number for m in batch.rows], batch.content, **options)

    def _book(self, batch: Batch, outcome: SendResult | BaseException | None) -> BatchOutcome:
        """Rows and journal for an outcome (None: the run stopped first, nothing was sent).

        `BatchSender` does the mapping and the journalling, as in the threaded engine: with a
        stopped run its `send` reports every row failed (not sent); otherwise its `_request`
        (the half of `send` after the batch is marked sending) books what the send gave.
        """
        run = self._run
        stopped = self._never
        if outcome is None:
            stopped = threading.Event()
            stopped.set()
        sender = BatchSender(
            _Replay(run.client.config, outcome),
            run.journal,
            send_options=run.settings.send_options,
            limiter=None,
            stop=stopped,
            summary=run.summary,
        )
        return sender.send(batch) if outcome is None else sender._request(batch)
