"""`send_many`: the reader that turns input rows into batches, and the pool that sends them.

The calling thread reads the input, settles the rows that need no request (bad rows, repeats),
fills groups, journals each full group as a batch and hands it to the pool; it also handles
every batch the pool finishes. So all counting, reporting and deciding happens in one thread.
The run knows the pool only by its interface (`_sender.BatchPool`): here, threads each
blocking on `Client.send`; the asyncio engine (`_async_engine`) gives it tasks on the caller's
loop, and the dry run (`dry_run`) a check on the reader's own thread.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Final, Unpack

from ..encoding import Estimate, estimate
from ..errors import ValidationError
from ..numbers import normalize_number
from ..opt_outs.store import OptOut, OptOutCheck, OptOutStoreError
from ..options import udh_bytes
from ._batches import Batch, Group
from ._progress import Progress, ProgressSink
from ._records import BadRow, BulkResult, BulkSummary, Recipient, Status
from ._result_writer import ResultWriter
from ._sender import (
    ACCOUNT_ERROR_CODES,
    BatchBook,
    BatchOutcome,
    BatchPool,
    BatchSender,
    not_sent_reason,
)
from ._settings import DEFAULT_THREADS, BulkOptions, RunSettings
from .journal import (
    BulkStorageError,
    JournalError,
    JournalRow,
    JournalStore,
    JournalWriteError,
    Member,
    OptOutsUnreadableError,
    Row,
    UnknownBatch,
    is_postgres_url,
)
from .sqlite_journal import SQLiteJournal

if TYPE_CHECKING:
    from ..config import ClientConfig
    from ._sender import MessageSender

__all__ = [
    "PoolFactory",
    "RunInterrupted",
    "open_opt_outs_check",
    "open_outputs",
    "opened_run",
    "send_many",
]

logger = logging.getLogger("clickatell_sms.bulk")

_MAX_GROUPS: Final = 64
_LOOSE_ROWS: Final = 500  # final rows (invalid, repeats) journalled together
_ESTIMATES: Final = 256  # texts whose parts are remembered (a template makes one per name)


def send_many(
    client: MessageSender,
    recipients: Iterable[str | Recipient | BadRow],
    content: str | None = None,
    **options: Unpack[BulkOptions],
) -> BulkSummary:
    """The campaign sent: `bulk.send_many` without `dry_run` (its docs say the rest)."""
    settings = RunSettings.check(client, content, options, default_concurrency=DEFAULT_THREADS)

    def threads(book: BatchBook) -> BatchPool:
        return _Threads(BatchSender(client, book, settings.limiter), settings.concurrency)

    with opened_run(client.config, settings, threads) as run:
        summary = run.execute(recipients)
    return summary


@contextlib.contextmanager
def opened_run(config: ClientConfig, settings: RunSettings, pool: PoolFactory) -> Iterator[_Run]:
    """A run of either engine with its opt-out store, journal, results file and progress
    display open (in that order), each closed when the run ends if opened here."""
    with (
        open_opt_outs_check(settings) as opt_outs,
        open_outputs(settings) as (journal, writer, progress),
    ):
        yield _Run(
            config, settings, journal, pool, writer=writer, progress=progress, opt_outs=opt_outs
        )


PoolFactory = Callable[[BatchBook], BatchPool]
"""Makes a run's pool around the run's `BatchBook` (an engine's choice of where batches go)."""


class RunInterrupted(Exception):
    """Raised in the reader to stop the run from outside (the asyncio engine's task was
    cancelled): the run ends as for Ctrl-C, its batches in flight finished and journalled."""


class _Threads:
    """The threaded engine's pool: `concurrency` threads, each blocking on one batch's send."""

    def __init__(self, sender: BatchSender, concurrency: int) -> None:
        self._sender = sender
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="clickatell-bulk")

    def submit(self, batch: Batch) -> Future[BatchOutcome]:
        return self._executor.submit(self._sender.send, batch)

    def cancel(self) -> None:
        """A thread's request cannot be cut short; the run's stop keeps the rest from sending."""

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def open_opt_outs_check(settings: RunSettings) -> Iterator[OptOutCheck | None]:
    """The opt-out store a run checks its batches against (None: `opt_outs=False`), opened
    before anything else of the run, so that a store that cannot be read leaves nothing behind
    (a `ValidationError` naming `opt_outs`); closed at the end if opened here."""
    given = settings.opt_outs
    if given is False:
        yield None
        return
    if given is not None and not isinstance(given, str | Path):
        yield given  # an open store: the caller's
        return
    # The store's backends load with the store: a run with opt_outs=False or its own store
    # never opens one.
    from ..opt_outs import open_opt_outs

    try:
        store = open_opt_outs(given)
    except OptOutStoreError as exc:
        raise ValidationError("opt_outs", f"cannot be used: {exc}", str(given)) from None
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def open_outputs(
    settings: RunSettings,
) -> Iterator[tuple[JournalStore, ResultWriter | None, ProgressSink | None]]:
    """A run's journal, results file and progress display, opened in that order (a resume
    refused for another campaign must not touch `output`); what is opened here for the run is
    closed when it ends (the results file by the run itself)."""
    with contextlib.ExitStack() as stack:
        journal = settings.journal
        if isinstance(journal, str | Path | None):
            journal = _open_journal(journal, settings)
            stack.callback(journal.close)
        writer = None
        if settings.output is not None:
            try:
                writer = ResultWriter(settings.output, settings.output_format)
            except BaseException:
                # Nothing was sent: a journal made for this run would only stand in the way
                # of the corrected command ("exists already").
                if isinstance(journal, SQLiteJournal) and not settings.resume:
                    stack.pop_all()
                    journal.discard()
                raise
        sink: ProgressSink | None = None
        if settings.progress is True:
            sink = Progress(settings.total)
            stack.callback(sink.close)
        elif settings.progress is not False:
            sink = settings.progress
        yield journal, writer, sink


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM (Ctrl-C, and the CLI's stop) until the block is done.

    The reader's bookkeeping must not be cut in half: the signal's handler runs right after the
    block, where the run stops cleanly. Only the main thread receives them, so elsewhere this
    does nothing. (Two handler swaps per batch: about 2 microseconds.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {
        number: signal.signal(number, lambda number, _frame: caught.append(number))
        for number in _DEFERRED_SIGNALS
        if signal.getsignal(number) not in (signal.SIG_DFL, signal.SIG_IGN, None)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if caught:
            signal.raise_signal(caught[0])


_DEFERRED_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


def _open_journal(path: str | Path | None, settings: RunSettings) -> JournalStore:
    resume, sync, account = settings.resume, settings.journal_sync, settings.account
    identity = settings.identity()
    if path is None:
        if resume:
            raise ValidationError("resume", "needs the journal file of the run to continue")
        folder = Path(tempfile.mkdtemp(prefix="clickatell-bulk-"))
        location = folder / "journal.sqlite"
        return SQLiteJournal.create(location, identity, sync=sync, temporary=True, account=account)
    if is_postgres_url(path):
        raise JournalError(
            "a PostgreSQL journal holds a campaign spread over workers: run it with"
            " clickatell_sms.bulk.cluster.run_campaign",
            cli="a PostgreSQL journal needs --celery BROKER_URL (the campaign runs on workers)",
        )
    if resume:
        return SQLiteJournal.resume(path, identity, sync=sync, account=account)
    return SQLiteJournal.create(path, identity, sync=sync, account=account)


class _Run:
    """One call of `send_many`: the reader (the calling thread) and the senders (a pool).

    Only the reader touches groups, counts, outputs and callbacks; the senders only send and
    journal, and hand their outcome back through futures. So results and `on_result` need no
    locks, and the journal's own lock is the only one shared.
    """

    def __init__(
        self,
        config: ClientConfig,
        settings: RunSettings,
        journal: JournalStore,
        pool: PoolFactory,
        *,
        writer: ResultWriter | None,
        progress: ProgressSink | None,
        opt_outs: OptOutCheck | None = None,
        summary: BulkSummary | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.opt_outs = opt_outs
        self.journal = journal
        self.writer = writer
        self.progress = progress
        self.on_result = settings.on_result
        self.prefix = f"{settings.prefix or journal.campaign_id}-{journal.scope}"
        self.summary = BulkSummary() if summary is None else summary
        self.failure: BulkStorageError | None = None  # the first failed journal/results write
        self.stop = threading.Event()
        self.book = BatchBook(
            journal,
            send_options=settings.send_options,
            config=config,
            stop=self.stop,
            summary=self.summary,
        )
        self.groups: dict[str, Group] = {}
        self.loose: list[Row] = []  # final rows waiting to be journalled with the next batch
        self.inflight: dict[Future[BatchOutcome], Batch] = {}
        self.inflight_keys: dict[int, int] = {}  # dedupe key -> row, for batches in flight
        self.account_errors = 0  # consecutive
        self.next_id = 1
        options = settings.send_options
        self._binary = options.get("binary") is True
        self._header = udh_bytes(options.get("user_data_header"))
        self._estimates: dict[str, Estimate] = {}
        self.pool = pool(self.book)  # last: a pool may read the run's settings

    # -- the reader ---------------------------------------------------------------------------

    def execute(self, recipients: Iterable[str | Recipient | BadRow]) -> BulkSummary:
        journal = self.journal
        summary = self.summary
        summary.journal = None if journal.temporary else journal.path
        summary.output = None if self.writer is None else self.writer.path
        started = time.perf_counter()
        earlier: Iterator[JournalRow] = iter(())
        if self.settings.resume:
            summary.unknown_batches = journal.prepare_resume(
                self.settings.resend_unknown, ACCOUNT_ERROR_CODES
            )
            earlier = journal.iter_rows()
        self.next_id = journal.next_batch_id()
        try:
            self._read(recipients, earlier)
            self._flush_all()
            self._wait(0)
            self._close_writer()
            if self.failure is not None:
                raise self.failure
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | RunInterrupted):
                summary.stopped = "interrupted"
            elif isinstance(exc, BulkStorageError):
                self._fail(exc)
            self.stop.set()
            self._wait(0, stopping=exc)
            if self.loose and not isinstance(self.failure, JournalWriteError):
                # final rows only; groups not yet journalled are simply re-read
                with contextlib.suppress(Exception):
                    journal.add(None, (), self.loose)
            self._close_writer(quietly=True)
            summary.duration = time.perf_counter() - started
            self._finish_progress()
            exc.bulk_summary = summary  # type: ignore[attr-defined]
            raise
        finally:
            self.pool.close()
        summary.duration = time.perf_counter() - started
        self._finish_progress()
        return summary

    def _fail(self, failure: BulkStorageError) -> None:
        """A journal or results write failed: stop sending, and say so in the summary."""
        self.stop.set()
        if self.failure is not None:
            return
        self.failure = failure
        self.summary.stopped = f"{failure}; nothing more was sent"
        logger.error("bulk: %s; nothing more is sent", failure)

    def _close_writer(self, *, quietly: bool = False) -> None:
        writer, self.writer = self.writer, None
        if writer is None:
            return
        if quietly or self.failure is not None:
            writer.abandon()
            return
        writer.close()  # ResultsWriteError if its last rows cannot be written

    def _finish_progress(self) -> None:
        if self.progress is not None:
            self.progress.finish(self.summary)

    def _read(
        self, recipients: Iterable[str | Recipient | BadRow], earlier: Iterator[JournalRow]
    ) -> None:
        next_earlier = next(earlier, None)
        region = self.config.default_region
        unique = self.settings.unique
        default_content = self.settings.content
        groups = self.groups
        batch_size = self.settings.batch_size
        for position, item in enumerate(recipients):
            if self.failure is not None:
                raise self.failure
            if next_earlier is not None and next_earlier.position == position:
                self._replay(next_earlier, item)
                next_earlier = next(earlier, None)
                continue
            if isinstance(item, str):
                to, text, row = item, default_content, position
            elif isinstance(item, Recipient):
                to, row = item.to, position if item.row is None else item.row
                text = default_content if item.content is None else item.content
            elif isinstance(item, BadRow):
                row = position if item.row is None else item.row
                self._final(position, row, item.to, None, "failed", "invalid", item.reason)
                continue
            else:
                problem = f"is a {type(item).__name__}, not a number or a Recipient"
                self._final(position, position, repr(item), None, "failed", "invalid", problem)
                continue
            if not text:
                problem = "no message: give content, or a content for this recipient"
                self._final(position, row, to, None, "failed", "invalid", problem)
                continue
            try:
                number = normalize_number(to, default_region=region)
            except ValidationError as exc:
                self._final(position, row, to, None, "failed", "invalid", exc.problem)
                continue
            group = groups.get(text)
            if group is None:
                if len(groups) >= _MAX_GROUPS:
                    self._flush(max(groups.values(), key=lambda g: len(g.rows)))
                group = groups[text] = Group(text)
            key = None
            if unique:
                first = group.seen.get(number)
                if first is not None:
                    self._repeat(position, row, to, number, first)
                    continue
                group.seen[number] = row
                key = group.key(number)
            group.rows.append(Member(position, row, to, number, key))
            if len(group.rows) >= batch_size:
                self._flush(group)
        while next_earlier is not None:  # journalled rows beyond the input's end
            logger.warning(
                "the journal has rows past the end of the input (row %s)", next_earlier.row
            )
            self._replay(next_earlier, None)
            next_earlier = next(earlier, None)

    def _replay(self, row: JournalRow, item: object) -> None:
        """Report a row an earlier run settled, after checking the input still has it there."""
        given = item if isinstance(item, str) else getattr(item, "to", None)
        if item is not None and given != row.to_input:
            raise ValidationError(
                "recipients",
                f"row {row.row} is not the recipient the journal recorded at that position;"
                " resume with the same input",
            )
        self.summary.earlier += 1
        self._emit(row, row.client_message_id, earlier=True)
        self._advance(1)

    def _final(
        self,
        position: int,
        row: int,
        to: str,
        number: str | None,
        status: Status,
        error: str,
        description: str,
        duplicate_of: int | None = None,
        key: int | None = None,
    ) -> None:
        """A row settled without a request: a bad row (failed), a repeat (rejected) or a number
        that opted out (`key`: its dedupe key, so that a resume knows its repeats)."""
        settled = Row(
            position, row, to, number, key, status, None, None, error, description, duplicate_of
        )
        self.loose.append(settled)
        self._emit(settled, None)
        if len(self.loose) >= _LOOSE_ROWS:
            self.journal.add(None, (), self.loose)
            self.loose = []
        self._advance(1)

    def _repeat(self, position: int, row: int, to: str, number: str, first: int) -> None:
        description = f"same recipient and message as row {first}; sent once"
        self._final(position, row, to, number, "rejected", "duplicate", description, first)

    def _flush_all(self) -> None:
        for group in list(self.groups.values()):
            self._flush(group)
        if self.loose:
            self.journal.add(None, (), self.loose)
            self.loose = []

    def _flush(self, group: Group) -> None:
        """Journal the group's rows as one pending batch and queue its request, once there is
        room for it in flight: its rows are checked for repeats and opt-outs then, as late as
        the reader can, so an opt-out recorded meanwhile still keeps its number out."""
        del self.groups[group.content]
        self._wait(2 * self.settings.concurrency - 1)
        rows = group.rows
        if self.settings.unique:
            rows = self._drop_repeats(rows)
        rows = self._drop_opted_out(rows)
        if not rows:
            return
        batch_id = self.next_id
        self.next_id += 1
        batch = Batch(batch_id, f"{self.prefix}{batch_id}", group.content, rows)
        if self.stop.is_set():
            self._not_sent(batch)
            return
        try:
            self.journal.add((batch.id, batch.client_message_id, batch.content), rows, self.loose)
        except JournalWriteError as exc:
            self._fail(exc)
            self._not_sent(batch)
            raise
        self.loose = []
        for m in rows:
            if m.dedupe_key is not None:
                self.inflight_keys[m.dedupe_key] = m.row
        with interrupts_deferred():  # a batch sent but not in flight would miss the summary
            self.inflight[self.pool.submit(batch)] = batch

    def _drop_repeats(self, rows: list[Member]) -> list[Member]:
        """Rows whose recipient already had this message, in flight or journalled, are repeats."""
        keys = [m.dedupe_key for m in rows if m.dedupe_key is not None]
        inflight = self.inflight_keys
        sent = self.journal.recall(keys)
        if not sent and inflight.keys().isdisjoint(keys):
            return rows
        keep = []
        for m in rows:
            key = m.dedupe_key
            first = None if key is None else sent.get(key, inflight.get(key))
            if first is None:
                keep.append(m)
            else:
                self._repeat(m.position, m.row, m.to_input, m.number, first)
        return keep

    def _drop_opted_out(self, rows: list[Member]) -> list[Member]:
        """Rows whose number is opted out in the store now are settled `opted_out`, unsent
        (with `ignore_opt_outs`, counted and kept). A later repeat of such a number is then a
        repeat, as of any row. A store that cannot be read stops the run."""
        if self.opt_outs is None or not rows:
            return rows
        try:
            found = self.opt_outs.opted_out([m.number for m in rows])
        except OptOutStoreError as exc:
            failure = OptOutsUnreadableError(f"the opt-out store could not be read: {exc}")
            self._fail(failure)
            self._not_sent_rows(rows)
            raise failure from exc
        if not found:
            return rows
        if self.settings.ignore_opt_outs:
            self.summary.opt_outs_ignored += sum(m.number in found for m in rows)
            return rows
        keep: list[Member] = []
        for m in rows:
            record = found.get(m.number)
            if record is None:
                keep.append(m)
            else:
                self._opted_out(m, record)
        skipped = [
            (m.dedupe_key, m.row) for m in rows if m.number in found and m.dedupe_key is not None
        ]
        if skipped:
            self.journal.remember(skipped)
        return keep

    def _opted_out(self, m: Member, record: OptOut) -> None:
        description = f"not sent: the number {record.describe()}"
        self._final(
            m.position, m.row, m.to_input, m.number, "opted_out", "opted out", description,
            key=m.dedupe_key,
        )  # fmt: skip

    def _not_sent(self, batch: Batch) -> None:
        """A batch the stopped run does not send: failed, and not journalled (resume sends it)."""
        self._not_sent_rows(batch.rows)

    def _not_sent_rows(self, rows: list[Member]) -> None:
        reason = not_sent_reason(self.summary.stopped)
        for m in rows:
            self._emit(m.settled("failed", error="not sent", description=reason), None)
        self._advance(len(rows))

    # -- completions (in the reader's thread) -------------------------------------------------

    def _wait(self, limit: int, *, stopping: BaseException | None = None) -> None:
        """Handle finished batches until at most `limit` are in flight. While `stopping` ends
        the run, a batch that raised is logged instead (once per kind: a rate limiter whose
        Redis is away fails every batch the same way), and the rest are still handled."""
        inflight = self.inflight
        if not inflight:
            return
        # Finished batches are handled in the order they were sent (`inflight` keeps it), not
        # a set's: the summary's lists (unknown batches) then come out as a resume lists them.
        done = [future for future in inflight if future.done()]
        while True:
            for future in done:
                # Out of flight and into the summary as one step: Ctrl-C between the two would
                # leave a journalled batch that the stopped run's summary does not count.
                with interrupts_deferred():
                    batch = inflight.pop(future)
                    try:
                        outcome = future.result()
                    except BaseException as error:
                        if stopping is None:
                            raise
                        if type(error) is not type(stopping):
                            logger.exception(
                                "batch %s failed inside the SDK", batch.client_message_id
                            )
                        continue
                    self._handle(outcome)
            if len(inflight) <= limit:
                return
            finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
            done = [future for future in inflight if future in finished]

    def _handle(self, done: BatchOutcome) -> None:
        summary = self.summary
        batch = done.batch
        if done.journal_failure is not None:
            self._fail(done.journal_failure)
            if done.sent and not done.unknown:
                summary.unjournalled.append(batch.client_message_id)
        if done.sent:
            summary.batches += 1
            summary.sent += len(batch.rows)
            accepted = sum(1 for r in done.rows if r.status == "accepted")
            if accepted:
                summary.parts += accepted * self.estimate(batch.content).parts
        if done.unknown:
            summary.unknown_batches.append(
                UnknownBatch(batch.client_message_id, len(batch.rows), batch.content)
            )
        if self.settings.unique:
            try:
                self._settle_keys(done.rows)
            except JournalWriteError as exc:
                self._fail(exc)
        client_message_id = batch.client_message_id if done.sent else None
        for r in done.rows:
            self._emit(r, client_message_id)
        self._advance(len(done.rows))
        if done.accepted:
            self.account_errors = 0
        elif done.account_error is not None:
            self.account_errors += 1
            limit = self.settings.stop_after
            if limit is not None and self.account_errors >= limit and not self.stop.is_set():
                summary.stopped = (
                    f"stopped after {self.account_errors} consecutive account errors"
                    f" (last: {done.account_error})"
                )
                logger.error("bulk: %s; nothing more is sent", summary.stopped)
                self.stop.set()

    def _settle_keys(self, rows: list[Row]) -> None:
        """Keys leave the in-flight set; those whose message may have gone out are remembered.

        A recipient whose row failed (or was refused for lack of credit) has not had the
        message, so a later repeat of it is sent rather than reported as a repeat.
        """
        inflight = self.inflight_keys
        remember = []
        for r in rows:
            key = r.dedupe_key
            if key is None:
                continue
            inflight.pop(key, None)
            if r.status == "failed" or (
                r.status == "rejected" and r.error_code in ACCOUNT_ERROR_CODES
            ):
                continue
            remember.append((key, r.row))
        if remember:
            self.journal.remember(remember)

    # -- reporting (in the reader's thread) -----------------------------------------------------

    def _emit(
        self, r: Row | JournalRow, client_message_id: str | None, *, earlier: bool = False
    ) -> None:
        """Count a settled row, and hand it to the output file and `on_result`."""
        summary = self.summary
        status = r.status
        if status == "accepted":
            summary.accepted += 1
        elif status == "rejected":
            summary.rejected += 1
            if r.error == "duplicate":
                summary.duplicates += 1
        elif status == "failed":
            summary.failed += 1
            if r.error == "invalid":
                summary.invalid += 1
        elif status == "opted_out":
            summary.opted_out += 1
        else:
            summary.unknown += 1
        if self.writer is None and self.on_result is None:
            return
        result = BulkResult(
            r.row,
            r.to_input,
            r.number,
            status,
            r.api_message_id,
            r.error_code,
            r.error,
            r.description,
            client_message_id,
            r.duplicate_of,
            earlier,
        )
        if self.writer is not None:
            try:
                self.writer.write(result)
            except BulkStorageError as exc:
                self._fail(exc)
                self._close_writer(quietly=True)
        if self.on_result is not None:
            self.on_result(result)

    def estimate(self, content: str) -> Estimate:
        """The parts of a batch's text, as the client counts them before sending (and the API
        charges them): remembered for the last few hundred texts."""
        known = self._estimates.get(content)
        if known is None:
            if len(self._estimates) >= _ESTIMATES:
                self._estimates.clear()
            known = self._estimates[content] = estimate(
                content, binary=self._binary, user_data_header=self._header
            )
        return known

    def _advance(self, rows: int) -> None:
        if self.progress is not None:
            self.progress.update(rows, self.summary)
