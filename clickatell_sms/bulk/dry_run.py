"""A dry run: a campaign read, checked, batched and priced exactly as `send_many` would, and
nothing sent.

It is the engine itself (`_engine._Run`: the same reading and normalising of rows, the same
repeats, the same opt-out check where batches are formed, the same grouping into requests)
with two parts swapped: the sender checks each request's message as `Client.send` does before
sending (`options.check_message`: parts, encoding, options) and then counts it instead of
sending it; the journal only remembers which recipients a batch already holds (its scratch
database, deleted at the end), so memory stays flat and no journal file is made. So the counts
and the parts of a dry run are those of the real run by construction, not by imitation, and it
needs no API key: only the client's settings (region, format, integration).

What it cannot know is what the API will refuse (a number out of coverage, an account out of
credit): the parts it predicts are those of every row it would send, which is what the API
charges when it accepts them all.
"""

from __future__ import annotations

import bisect
import os
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Unpack

from ..errors import ValidationError
from ..opt_outs.store import OptOutCheck
from ..options import check_message
from ._batches import Batch
from ._engine import _Run, open_opt_outs_check
from ._progress import Progress, ProgressSink
from ._records import BadRow, BulkSummary, Recipient, Status
from ._scratch import _Bloom
from ._sender import BatchBook, BatchOutcome, BatchPool, Configured
from ._settings import BulkOptions, RunSettings
from .journal import BatchState, JournalRow, JournalStore, Member, Row, UnknownBatch

if TYPE_CHECKING:
    from ..config import ClientConfig

__all__ = ["INVALID_SHOWN", "DryRun", "InvalidRow", "dry_run"]

INVALID_SHOWN: Final = 20
"""How many invalid rows a dry run lists, with their line and reason (all are counted)."""
_RUN: Final = 50_000  # keys held in memory before they go, sorted, to the file
_PAGE: Final = 256  # keys per page of a run (2 KiB): one read finds a key in its run
_WRITERS: Final = ("journal", "resume", "resend_unknown", "output", "output_format", "on_result")


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A row a run would not send because it is bad: its row (a CSV line), input and reason."""

    row: int
    to: str
    reason: str


@dataclass(slots=True)
class DryRun(BulkSummary):
    """What a campaign would do: the `BulkSummary` its real run would have if the API took every
    message sent to it, and the breakdown a summary does not give.

    As a summary: `accepted` are the rows it would send (`recipients`), `batches` its requests
    (`requests`), `parts` what those cost; `failed` are only the `invalid` rows, `rejected` only
    the `duplicates`, `opted_out` the numbers skipped; nothing is `unknown`. So `rows` =
    `recipients` + `invalid` + `duplicates` + `opted_out`, and `to_dict()` of the real run's
    summary can be compared with this one's, count by count.

    The breakdown: `encodings` (rows it would send, by encoding), `parts_per_message` (rows by
    their number of parts), `invalid_rows` (the first `INVALID_SHOWN` invalid rows, with their
    line and reason), `rate_limit` (for `seconds`) and `opt_outs` (the store checked; None:
    none).
    """

    encodings: dict[str, int] = field(default_factory=dict)
    parts_per_message: dict[int, int] = field(default_factory=dict)
    invalid_rows: list[InvalidRow] = field(default_factory=list)
    rate_limit: float | None = None
    opt_outs: str | None = None

    @property
    def rows(self) -> int:
        """Rows read (`total`)."""
        return self.total

    @property
    def valid(self) -> int:
        """Rows that are not invalid (repeats and opted-out numbers included)."""
        return self.total - self.invalid

    @property
    def recipients(self) -> int:
        """Rows it would send (`accepted`)."""
        return self.accepted

    @property
    def requests(self) -> int:
        """Requests it would make (`batches`)."""
        return self.batches

    @property
    def seconds(self) -> float | None:
        """How long sending would take at `rate_limit` (None without one: then it depends on
        the API's answers, about 100,000 recipients a second on this project's benchmark)."""
        return None if not self.rate_limit else self.recipients / self.rate_limit

    def cost(self, price_per_part: Decimal | int | str) -> Decimal:
        """`parts` at `price_per_part` (your rate per part, in your billing currency)."""
        return Decimal(price_per_part) * self.parts

    def to_dict(self, price_per_part: Decimal | int | str | None = None) -> dict[str, Any]:
        """The real run's summary keys (`BulkSummary.to_dict`) and the dry run's own
        (`bulk --dry-run --json`); `cost` with a price per part."""
        seconds = self.seconds
        return {
            **BulkSummary.to_dict(self),
            "dry_run": True,
            "rows": self.rows,
            "valid": self.valid,
            "invalid_rows": [
                {"row": r.row, "to": r.to, "reason": r.reason} for r in self.invalid_rows
            ],
            "opt_outs": self.opt_outs,
            "recipients": self.recipients,
            "requests": self.requests,
            "encodings": dict(self.encodings),
            "parts_per_message": {str(k): v for k, v in sorted(self.parts_per_message.items())},
            "rate_limit": self.rate_limit,
            "seconds_at_rate_limit": None if seconds is None else round(seconds, 1),
            "price_per_part": None if price_per_part is None else str(price_per_part),
            "cost": None if price_per_part is None else str(self.cost(price_per_part)),
        }


def dry_run(
    client: Configured,
    recipients: Iterable[str | Recipient | BadRow],
    content: str | None = None,
    **options: Unpack[BulkOptions],
) -> DryRun:
    """`send_many(client, recipients, content, dry_run=True, ...)`: the campaign counted, not
    sent (see the module docs). Takes `send_many`'s keywords, except those that would write
    something (journal, resume, output, on_result: a `ValidationError` names them). Only the
    client's settings are used; nothing is sent, so any key will do."""
    given = [name for name in _WRITERS if options.get(name) not in (None, False)]
    if given:
        raise ValidationError("dry_run", f"writes nothing: leave out {', '.join(given)}")
    settings = RunSettings.check(client, content, options)
    started = time.perf_counter()
    with open_opt_outs_check(settings) as opt_outs:
        journal = _Memory()
        progress = _progress_sink(settings)
        try:
            run = _DryRun(client.config, settings, journal, progress=progress, opt_outs=opt_outs)
            run.execute(recipients)
        finally:
            journal.close()
            if isinstance(progress, Progress):
                progress.close()
    found = run.found
    found.rate_limit = _per_second(settings)
    found.opt_outs = None if opt_outs is None else opt_outs.location
    found.duration = time.perf_counter() - started
    return found


def _progress_sink(settings: RunSettings) -> ProgressSink | None:
    if settings.progress is True:
        return Progress(settings.total)
    return None if settings.progress is False else settings.progress


def _per_second(settings: RunSettings) -> float | None:
    limiter = settings.limiter
    return None if limiter is None else float(getattr(limiter, "per_second", 0.0)) or None


class _DryRun(_Run):
    """The engine's run with a pool that checks and counts, on the reader's own thread."""

    def __init__(
        self,
        config: ClientConfig,
        settings: RunSettings,
        journal: JournalStore,
        *,
        progress: ProgressSink | None,
        opt_outs: OptOutCheck | None,
    ) -> None:
        self.found = DryRun()  # the run counts into the dry run's own summary
        super().__init__(
            config, settings, journal, self._checks, writer=None, progress=progress,
            opt_outs=opt_outs, summary=self.found,
        )  # fmt: skip

    def _checks(self, book: BatchBook) -> BatchPool:
        """The pool: every batch checked and counted as it is handed over (nothing to book:
        the dry run's journal is its memory)."""
        return _Inline(_Checker(self))

    def _handle(self, done: BatchOutcome) -> None:
        super()._handle(done)
        counted = sum(1 for r in done.rows if r.status == "accepted")
        if counted:
            estimate = self.estimate(done.batch.content)
            self.found.encodings[estimate.encoding] = (
                self.found.encodings.get(estimate.encoding, 0) + counted
            )
            self.found.parts_per_message[estimate.parts] = (
                self.found.parts_per_message.get(estimate.parts, 0) + counted
            )

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
        """A row settled without a request; the first invalid ones are kept for the report
        (those of a request the check refused are kept by `_Checker`)."""
        if error == "invalid":
            self.note_invalid(row, to, description)
        super()._final(position, row, to, number, status, error, description, duplicate_of, key)

    def note_invalid(self, row: int, to: str, reason: str) -> None:
        if len(self.found.invalid_rows) < INVALID_SHOWN:
            self.found.invalid_rows.append(InvalidRow(row, to, reason))


class _Checker:
    """The dry run's sender: a request's message checked as `Client.send` checks it
    before sending (a refusal fails its rows `invalid`, as a real run's would), then counted
    as sent and every recipient as taken."""

    def __init__(self, run: _DryRun) -> None:
        self._run = run
        self._config = run.config
        settings = run.settings
        integration = settings.send_options.get("integration", self._config.integration)
        self._http = integration == "http"
        self._fields = settings.spec_fields()

    def send(self, batch: Batch) -> BatchOutcome:
        fields = dict(self._fields)
        if not self._http:
            fields["client_message_id"] = batch.client_message_id
        try:
            check_message(self._config, batch.content, fields, http=self._http)
        except ValidationError as exc:
            rows = [m.settled("failed", None, None, "invalid", str(exc)) for m in batch.rows]
            for m in batch.rows:
                self._run.note_invalid(m.row, m.to_input, str(exc))
            return BatchOutcome(batch, rows, None, False, False, False)
        rows = [m.settled("accepted") for m in batch.rows]
        return BatchOutcome(batch, rows, None, True, True, False)


class _Inline:
    """The pool, as the reader's own thread: a batch is counted when it is handed over."""

    def __init__(self, checker: _Checker) -> None:
        self._checker = checker

    def submit(self, batch: Batch) -> Future[BatchOutcome]:
        future: Future[BatchOutcome] = Future()
        future.set_result(self._checker.send(batch))
        return future

    def cancel(self) -> None:
        """Nothing is in flight: every batch is done when handed over."""

    def close(self) -> None:
        """Nothing runs elsewhere."""


class _Runs:
    """Which dedupe keys were remembered (and the row of each), exactly, in memory that does
    not grow with the campaign: the newest in a dict; every `_RUN` of them sorted into a run
    of a temporary file (keys, then rows, 8 octets each), with every `_PAGE`-th key kept to find
    a key's page; the journal's Bloom filter in front, so a run is read only for a repeat or a
    rare false alarm. The journal's scratch table does the same job with a B-tree insert per
    key; a dry run, which does nothing else, spent a sixth of its time there."""

    def __init__(self) -> None:
        # Open as long as the run is; `close` ends it (and the system deletes it then).
        self._file = tempfile.TemporaryFile()  # noqa: SIM115
        self._recent: dict[int, int] = {}
        self._runs: list[tuple[int, int, list[int]]] = []  # (offset, keys, every _PAGE-th key)
        self._bloom = _Bloom()
        self._end = 0

    def add(self, keys: Iterable[tuple[int, int]]) -> None:
        recent = self._recent
        pairs = list(keys)
        for key, row in pairs:
            recent.setdefault(key, row)
        self._bloom.add(key for key, _ in pairs)
        if len(recent) >= _RUN:
            self._spill()

    def _spill(self) -> None:
        ordered = sorted(self._recent)
        rows = array("q", map(self._recent.__getitem__, ordered))
        packed = array("q", ordered)
        fd = self._file.fileno()
        os.pwrite(fd, packed.tobytes() + rows.tobytes(), self._end)
        self._runs.append((self._end, len(ordered), ordered[::_PAGE]))
        self._end += 16 * len(ordered)
        self._recent = {}

    def find(self, keys: Sequence[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for key in self._bloom.maybe(keys):
            row = self._recent.get(key)
            if row is None:
                row = self._search(key)
            if row is not None:
                found[key] = row
        return found

    def _search(self, key: int) -> int | None:
        fd = self._file.fileno()
        for offset, count, fences in self._runs:  # oldest first: the first occurrence wins
            page = bisect.bisect_right(fences, key) - 1
            if page < 0:
                continue
            start = page * _PAGE
            size = min(_PAGE, count - start)
            keys = array("q", os.pread(fd, 8 * size, offset + 8 * start))
            at = bisect.bisect_left(keys, key)
            if at < size and keys[at] == key:
                (row,) = array("q", os.pread(fd, 8, offset + 8 * (count + start + at)))
                return row
        return None

    def close(self) -> None:
        self._file.close()


class _Memory:
    """A journal that writes nothing: it remembers the recipients batches hold (for repeats,
    `_Runs`) until it is closed, and forgets everything else."""

    campaign_id: Final = "dry-run"
    scope: Final = ""
    location: Final = "(a dry run: no journal)"
    path: Final[Path | None] = None
    temporary: Final = True

    def __init__(self) -> None:
        self._scratch = _Runs()

    def next_batch_id(self) -> int:
        return 1

    def add(self, batch: object, members: Sequence[Member], loose: Sequence[Row] = ()) -> None:
        """Nothing to write."""

    def remember(self, keys: Iterable[tuple[int, int]]) -> None:
        self._scratch.add(keys)

    def recall(self, keys: Sequence[int]) -> dict[int, int]:
        return self._scratch.find(keys)

    def mark_sending(self, batch_id: int) -> None:
        """Nothing is sent."""

    def finish(
        self,
        batch_id: int,
        state: BatchState,
        rows: Sequence[Row],
        *,
        error_code: int | None = None,
        error: str | None = None,
    ) -> None:
        """Nothing to write."""

    def prepare_resume(
        self, resend_unknown: bool | Iterable[str], retry_codes: Iterable[int] = ()
    ) -> list[UnknownBatch]:
        return []

    def iter_rows(self, chunk: int = 2000) -> Iterator[JournalRow]:
        return iter(())

    def read_all(self) -> Iterator[JournalRow]:
        return iter(())

    def unknown_batches(self) -> list[UnknownBatch]:
        return []

    def batch_states(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        self._scratch.close()
