"""Sending to hundreds of thousands of numbers: streamed, batched, concurrent, journalled.

`send_many(client, recipients, content)` (also `Client.send_many`) reads recipients one at a
time from any iterable, so a million-row campaign costs the memory of a few hundred rows:

* Numbers are normalised as they are read; a bad one fails its own row (status `failed`, error
  `invalid`), never the batch.
* Rows are grouped by message text (several texts come from per-row content or templates) into
  requests of up to 200. A group is sent when full; when too many groups are open at once the
  largest is sent early, which bounds memory however many distinct texts there are.
* A recipient is sent a given text once per campaign (`unique=True`): a repeat, in the same
  request or 900,000 rows later, is reported `rejected` with error `duplicate` and the row of its
  first occurrence. The journal's unique index remembers what was sent, so this costs disk, not
  memory. `unique=False` sends every row (repeats within one request are still sent once, as the
  API requires).
* A bounded pool of threads shares the client's connection pool; the reader waits while
  `2 * concurrency` requests are queued or in flight (backpressure: input is never read far
  ahead). `rate_limit` caps recipients per second across all threads (a token bucket).
* Every batch is journalled before its request exists and its outcome after (see `journal`), so
  a run killed at any moment resumes (`resume=True`) without sending any row twice. Requests
  whose fate is unknown (the connection broke after the request was written) are listed in the
  summary and never sent again unless the caller names them in `resend_unknown`.
* After `stop_after` consecutive batches fail for account reasons (authentication errors 1, 7,
  108, account/integration not active 2, 3, 4, no credit 301), nothing more is sent: the rest of
  the input is still read and reported `failed` (not sent), so a resume sends it once the account
  is fixed.

Each row ends in exactly one terminal status: `accepted`, `rejected` (the API refused it, with
its code), `failed` (provably not sent) or `unknown` (may have been sent). The returned
`BulkSummary` counts them; per-row results go to `on_result` and/or an `output` file (CSV or
JSON lines), in the order the answers arrive.

A resumed run reports the whole campaign: rows journalled by earlier runs are reported again
(`earlier=True`), and sent again only when they provably were not sent (status `failed`, a request
refused as a whole, or a recipient refused for lack of credit).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib
import json
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Literal, NamedTuple

import msgspec

from .errors import (
    APIError,
    AuthenticationError,
    ClickatellError,
    OutcomeUnknownError,
    RateLimitError,
    TransportError,
    ValidationError,
)
from .journal import (
    BatchState,
    Journal,
    JournalRow,
    Member,
    Row,
    RowStatus,
    UnknownBatch,
)
from .numbers import normalize_number

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "ACCOUNT_ERROR_CODES",
    "STATUSES",
    "BadRow",
    "BulkResult",
    "BulkSummary",
    "Progress",
    "RateLimiter",
    "Recipient",
    "ResultWriter",
    "Status",
    "send_many",
]

logger = logging.getLogger("clickatell_sms.bulk")

Status = Literal["accepted", "rejected", "failed", "unknown"]
STATUSES: Final[tuple[Status, ...]] = ("accepted", "rejected", "failed", "unknown")

ACCOUNT_ERROR_CODES: Final = frozenset({1, 2, 3, 4, 7, 108, 301})
"""Errors that will repeat for every request until someone fixes the account or the key:
authentication failed (1), account or integration not active (2, 3, 4: legacy and One API),
IP lockdown (7), bad API key (108), no credit (301)."""

MAX_BATCH: Final = 200
_MAX_GROUPS: Final = 64
_LOOSE_ROWS: Final = 500  # final rows (invalid, repeats) journalled together
_SEND_OPTIONS: Final = frozenset(
    {
        "from_",
        "binary",
        "client_message_id",
        "scheduled_delivery_time",
        "user_data_header",
        "validity_period",
        "charset",
        "timeout",
        "retries",
        "extra_headers",
    }
)
# Options that do not change what the recipients receive, so a resume may change them.
_TRANSPORT_OPTIONS: Final = frozenset({"timeout", "retries", "extra_headers"})


# -- inputs and outputs -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient with, optionally, its own message text and the row it came from.

    `row` is how results refer to it (a CSV line number, a database key); by default it is the
    recipient's 0-based position in the input.
    """

    to: str
    content: str | None = None
    row: int | None = None


@dataclass(frozen=True, slots=True)
class BadRow:
    """An input row that cannot be sent, and why; reported `failed` (`invalid`) with its row."""

    to: str
    reason: str
    row: int | None = None


class BulkResult(msgspec.Struct, frozen=True, gc=False, omit_defaults=False):
    """The final status of one input row.

    `status` is one of accepted, rejected, failed, unknown. `error` is the API's error text, or
    one of the SDK's own: `invalid` (bad row, not sent), `duplicate` (a repeat, sent once, see
    `duplicate_of`), `not sent` (the request provably did not reach the API, or the run stopped),
    `outcome unknown`. `client_message_id` names the request that carried the row, for
    reconciling unknown outcomes with delivery callbacks. `earlier` marks a row journalled by an
    earlier run, reported again by a resumed one.
    """

    row: int
    to: str
    number: str | None
    status: Status
    api_message_id: str | None = None
    error_code: int | None = None
    error: str | None = None
    description: str | None = None
    client_message_id: str | None = None
    duplicate_of: int | None = None
    earlier: bool = False


@dataclass(slots=True)
class BulkSummary:
    """What a bulk run did: rows per terminal status, and where to look for details.

    `accepted + rejected + failed + unknown == total`, the number of input rows read.
    `invalid` (bad rows, part of `failed`) and `duplicates` (repeats, part of `rejected`) break
    two of them down; `earlier` is how many rows an earlier run had already settled (resume).
    `batches` counts the requests this run made. `unknown_batches` lists every request whose
    outcome is unknown, by `client_message_id`: check them (delivery callbacks, the portal)
    before choosing to send them again with `resend_unknown`.
    """

    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    unknown: int = 0
    invalid: int = 0
    duplicates: int = 0
    earlier: int = 0
    batches: int = 0
    duration: float = 0.0
    stopped: str | None = None
    journal: Path | None = None
    output: Path | None = None
    unknown_batches: list[UnknownBatch] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Rows read, each counted in exactly one status."""
        return self.accepted + self.rejected + self.failed + self.unknown

    @property
    def all_accepted(self) -> bool:
        """True when every row read was accepted (and at least one was read)."""
        return self.total > 0 and self.accepted == self.total

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI prints it with `--json`)."""
        rate = self.total / self.duration if self.duration > 0 else None
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "failed": self.failed,
            "unknown": self.unknown,
            "total": self.total,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "earlier": self.earlier,
            "batches": self.batches,
            "duration_s": round(self.duration, 3),
            "recipients_per_s": None if rate is None else round(rate, 1),
            "stopped": self.stopped,
            "journal": None if self.journal is None else str(self.journal),
            "output": None if self.output is None else str(self.output),
            "unknown_batches": [
                {"client_message_id": b.client_message_id, "recipients": b.recipients}
                for b in self.unknown_batches
            ],
        }


# -- rate limit ---------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket in recipients per second, shared by every sending thread.

    Implemented as a virtual schedule (GCRA): each request reserves its recipients' share of
    time, so the long-run rate is exact; `burst` recipients may go at once after a pause.
    """

    def __init__(self, per_second: float, burst: int) -> None:
        if not per_second > 0:
            raise ValidationError("rate_limit", "must be a number of recipients per second > 0")
        self._interval = 1.0 / per_second
        self._tolerance = burst / per_second
        self._tat = 0.0
        self._lock = threading.Lock()

    def acquire(self, count: int, stop: threading.Event | None = None) -> bool:
        """Wait until `count` recipients may go; False if `stop` was set while waiting."""
        with self._lock:
            now = time.monotonic()
            start = max(self._tat, now)
            self._tat = start + count * self._interval
            delay = self._tat - self._tolerance - now
        if delay <= 0:
            return True
        if stop is None:
            time.sleep(delay)
            return True
        return not stop.wait(delay)


# -- result files and progress ------------------------------------------------------------------

_CSV_COLUMNS: Final = (
    "row",
    "to",
    "number",
    "status",
    "api_message_id",
    "error_code",
    "error",
    "description",
    "client_message_id",
    "duplicate_of",
    "earlier",
)


class ResultWriter:
    """Streams results to a CSV or JSON-lines file (or standard output with '-') as they come."""

    def __init__(self, target: str | Path, fmt: Literal["csv", "jsonl"] | None = None) -> None:
        name = str(target)
        if fmt is None:
            suffix = Path(name).suffix.lower()
            if name == "-" or suffix in (".jsonl", ".ndjson", ".json"):
                fmt = "jsonl"
            elif suffix == ".csv":
                fmt = "csv"
            else:
                raise ValidationError(
                    "output", "must end in .csv or .jsonl (or give the format)", name
                )
        self.format = fmt
        self.path = None if name == "-" else Path(name)
        self._file: IO[str] = (
            sys.stdout if self.path is None else self.path.open("w", encoding="utf-8", newline="")
        )
        self._csv = None
        if fmt == "csv":
            self._csv = csv.writer(self._file)
            self._csv.writerow(_CSV_COLUMNS)
        self._encoder = msgspec.json.Encoder()

    def write(self, result: BulkResult) -> None:
        if self._csv is not None:
            self._csv.writerow(
                [
                    result.row,
                    result.to,
                    result.number or "",
                    result.status,
                    result.api_message_id or "",
                    "" if result.error_code is None else result.error_code,
                    result.error or "",
                    result.description or "",
                    result.client_message_id or "",
                    "" if result.duplicate_of is None else result.duplicate_of,
                    "1" if result.earlier else "",
                ]
            )
        else:
            self._file.write(self._encoder.encode(result).decode() + "\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if self.path is None:
            self._file.flush()
        else:
            self._file.close()


class Progress:
    """Progress on standard error: a tqdm bar when tqdm is installed (extra `progress`) and
    standard error is a terminal, else a plain line every `every` seconds."""

    def __init__(self, total: int | None, *, bar: bool | None = None, every: float = 10.0) -> None:
        self._bar: Any = None
        self._every = every
        self._last = time.monotonic()
        self._done = 0
        self._total = total
        use_bar = sys.stderr.isatty() if bar is None else bar
        if use_bar:
            try:  # an optional extra, untyped: imported by name so type checkers see Any
                tqdm = importlib.import_module("tqdm").tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(
                    total=total, unit="msg", unit_scale=True, file=sys.stderr, smoothing=0.05
                )

    def update(self, count: int, summary: BulkSummary) -> None:
        self._done += count
        if self._bar is not None:
            self._bar.update(count)
            now = time.monotonic()
            if now - self._last >= 0.5:
                self._last = now
                self._bar.set_postfix(
                    ok=summary.accepted,
                    rej=summary.rejected,
                    fail=summary.failed,
                    unk=summary.unknown,
                    refresh=False,
                )
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            of = f"/{self._total}" if self._total else ""
            print(
                f"bulk: {self._done}{of} rows: {summary.accepted} accepted, {summary.rejected}"
                f" rejected, {summary.failed} failed, {summary.unknown} unknown",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# -- the engine ---------------------------------------------------------------------------------


class _Pending(NamedTuple):
    """A row waiting in a group for its request."""

    position: int
    row: int
    to: str
    number: str
    key: int | None  # the dedupe key (None when repeats are allowed)


class _Group:
    """Rows with the same message text, filling up towards one request."""

    __slots__ = ("content", "digest", "rows", "seen")

    def __init__(self, content: str) -> None:
        self.content = content
        self.digest = hashlib.blake2b(content.encode(), digest_size=8).digest()
        self.rows: list[_Pending] = []
        self.seen: dict[str, int] = {}  # number -> row of its first occurrence in this group


class _Batch(NamedTuple):
    id: int
    client_message_id: str
    content: str
    rows: list[_Pending]


class _Done(NamedTuple):
    """What a sending thread reports back about one batch (already journalled)."""

    batch: _Batch
    rows: list[Row]
    account_error: str | None  # why the batch counts towards the stop rule, if it does
    accepted: bool  # at least one recipient accepted
    sent: bool  # a request was made
    unknown: bool  # the request's outcome is unknown


def send_many(
    client: Client,
    recipients: Iterable[str | Recipient | BadRow],
    content: str | None = None,
    *,
    concurrency: int = 4,
    rate_limit: float | None = None,
    journal: str | Path | None = None,
    resume: bool = False,
    resend_unknown: bool | Iterable[str] = False,
    on_result: Callable[[BulkResult], object] | None = None,
    progress: bool | Progress = False,
    output: str | Path | None = None,
    output_format: Literal["csv", "jsonl"] | None = None,
    unique: bool = True,
    stop_after: int | None = 3,
    batch_size: int = MAX_BATCH,
    journal_sync: Literal["normal", "full"] = "normal",
    identity: Mapping[str, str] | None = None,
    total: int | None = None,
    **send_options: Any,
) -> BulkSummary:
    """Send `content` (or each `Recipient`'s own) to every recipient; see the module docs.

    `recipients` is any iterable of numbers, `Recipient`s or `BadRow`s, read lazily. `journal`
    is the journal file: a new one must not exist yet; with `resume=True` it must, and the run
    continues it (same recipients, text and options, else `JournalError`). Without a journal a
    temporary one is used and deleted at the end. `resend_unknown` sends unknown requests of an
    earlier run again: True for all of them, or an iterable of their client message IDs.
    `identity` adds facts that identify the campaign (the CLI passes its input file's hash),
    checked on resume. `on_result` is called in the calling thread for every row, `output`
    (.csv, .jsonl, or '-' for stdout) gets every row, `progress` shows a bar or periodic lines
    on stderr (`total` rows, if known). `send_options` are `Client.send`'s: `from_`, `binary`,
    `scheduled_delivery_time`, `user_data_header`, `validity_period`, `charset`, `timeout`,
    `retries`, `extra_headers`; `client_message_id` becomes the prefix of each request's ID
    (`<prefix>-<batch number>`; by default the journal's random campaign ID).

    Raises `ValidationError` for bad arguments and `JournalError` for an unusable journal, both
    before anything is sent. If reading the input (or `on_result`) raises, or the run is
    interrupted, the requests in flight are finished and journalled first; then the exception
    propagates, with the summary so far as its `bulk_summary` attribute.
    """
    run = _Run(
        client,
        content,
        concurrency=concurrency,
        rate_limit=rate_limit,
        unique=unique,
        stop_after=stop_after,
        batch_size=batch_size,
        send_options=send_options,
    )
    with contextlib.ExitStack() as stack:
        # The journal first: a resume refused for another campaign must not touch `output`.
        opened = _open_journal(journal, resume, run.identity(identity), journal_sync)
        stack.callback(opened.close)
        writer = None
        if output is not None:
            writer = ResultWriter(output, output_format)
            stack.callback(writer.close)
        if progress is True:
            progress = Progress(total)
            stack.callback(progress.close)
        return run.execute(
            recipients,
            opened,
            writer=writer,
            progress=progress if isinstance(progress, Progress) else None,
            on_result=on_result,
            resume=resume,
            resend_unknown=resend_unknown,
        )
    raise AssertionError("unreachable")  # ExitStack could swallow exceptions, as far as mypy knows


def _open_journal(
    path: str | Path | None,
    resume: bool,
    identity: dict[str, str],
    sync: Literal["normal", "full"],
) -> Journal:
    if path is None:
        if resume:
            raise ValidationError("resume", "needs the journal file of the run to continue")
        folder = Path(tempfile.mkdtemp(prefix="clickatell-bulk-"))
        return Journal.create(folder / "journal.sqlite", identity, sync=sync, temporary=True)
    if resume:
        return Journal.resume(path, identity, sync=sync)
    return Journal.create(path, identity, sync=sync)


class _Run:
    """One call of `send_many`: the reader (the calling thread) and the senders (a pool).

    Only the reader touches groups, counts, outputs and callbacks; the senders only send and
    journal, and hand their outcome back through futures. So results and `on_result` need no
    locks, and the journal's own lock is the only one shared.
    """

    def __init__(
        self,
        client: Client,
        content: str | None,
        *,
        concurrency: int,
        rate_limit: float | None,
        unique: bool,
        stop_after: int | None,
        batch_size: int,
        send_options: dict[str, Any],
    ) -> None:
        if content is not None and (not isinstance(content, str) or not content):
            raise ValidationError("content", "must be a non-empty string (or None)", content)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError("concurrency", "must be an int >= 1", concurrency)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise ValidationError("batch_size", f"must be an int from 1 to {MAX_BATCH}", batch_size)
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValidationError("batch_size", f"must be from 1 to {MAX_BATCH}", batch_size)
        if stop_after is not None and (
            isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1
        ):
            raise ValidationError("stop_after", "must be an int >= 1, or None", stop_after)
        unknown_options = set(send_options) - _SEND_OPTIONS
        if unknown_options:
            raise TypeError(
                f"send_many() got unexpected options: {', '.join(sorted(unknown_options))}"
            )
        prefix = send_options.pop("client_message_id", None)
        if prefix is not None and (
            not isinstance(prefix, str) or not prefix or any(c.isspace() for c in prefix)
        ):
            raise ValidationError("client_message_id", "must be a prefix without spaces", prefix)
        if concurrency > client.config.max_connections:
            logger.warning(
                "concurrency %d is above the client's max_connections %d: connections beyond"
                " the pool are opened and closed for every request",
                concurrency,
                client.config.max_connections,
            )
        self.client = client
        self.content = content
        self.concurrency = concurrency
        self.unique = unique
        self.stop_after = stop_after
        self.send_options = send_options
        self.prefix: str | None = prefix
        self.limiter: RateLimiter | None = None
        if rate_limit is not None:
            if isinstance(rate_limit, bool) or not isinstance(rate_limit, int | float):
                raise ValidationError("rate_limit", "must be recipients per second", rate_limit)
            # One request never carries more than a second's worth of recipients.
            batch_size = max(1, min(batch_size, int(rate_limit)))
            self.limiter = RateLimiter(rate_limit, batch_size)
        self.batch_size = batch_size
        self.summary = BulkSummary()
        self.stop = threading.Event()
        self.groups: dict[str, _Group] = {}
        self.loose: list[Row] = []  # final rows waiting to be journalled with the next batch
        self.inflight: dict[Future[_Done], _Batch] = {}
        self.inflight_keys: dict[int, int] = {}  # dedupe key -> row, for batches in flight
        self.account_errors = 0  # consecutive
        self.next_id = 1
        self.writer: ResultWriter | None = None
        self.progress: Progress | None = None
        self.on_result: Callable[[BulkResult], object] | None = None

    def identity(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        """What makes a campaign the same campaign: checked when a journal is resumed."""
        options = {
            name: repr(value)
            for name, value in sorted(self.send_options.items())
            if name not in _TRANSPORT_OPTIONS and value is not None
        }
        facts = {
            "content": "" if self.content is None else _digest(self.content),
            "options": json.dumps(options, sort_keys=True),
            "unique": str(self.unique),
        }
        facts.update(extra or {})
        return facts

    # -- the reader ---------------------------------------------------------------------------

    def execute(
        self,
        recipients: Iterable[str | Recipient | BadRow],
        journal: Journal,
        *,
        writer: ResultWriter | None,
        progress: Progress | None,
        on_result: Callable[[BulkResult], object] | None,
        resume: bool,
        resend_unknown: bool | Iterable[str],
    ) -> BulkSummary:
        self.journal = journal
        self.writer = writer
        self.progress = progress
        self.on_result = on_result
        summary = self.summary
        summary.journal = None if journal.temporary else journal.path
        summary.output = None if writer is None else writer.path
        started = time.perf_counter()
        earlier: Iterator[JournalRow] = iter(())
        if resume:
            summary.unknown_batches = journal.prepare_resume(resend_unknown, ACCOUNT_ERROR_CODES)
            earlier = journal.iter_rows()
        self.next_id = journal.next_batch_id()
        self.prefix = self.prefix or journal.campaign_id
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="clickatell-bulk")
        try:
            self._read(recipients, earlier)
            self._flush_all()
            self._wait(0)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                summary.stopped = "interrupted"
            self.stop.set()
            self._wait(0, raising=False)
            if self.loose:  # final rows only; groups not yet journalled are simply re-read
                with contextlib.suppress(Exception):
                    journal.add(None, (), self.loose)
            summary.duration = time.perf_counter() - started
            exc.bulk_summary = summary  # type: ignore[attr-defined]
            raise
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
            if writer is not None:
                writer.flush()
        summary.duration = time.perf_counter() - started
        return summary

    def _read(
        self, recipients: Iterable[str | Recipient | BadRow], earlier: Iterator[JournalRow]
    ) -> None:
        next_earlier = next(earlier, None)
        region = self.client.config.default_region
        unique = self.unique
        default_content = self.content
        groups = self.groups
        batch_size = self.batch_size
        for position, item in enumerate(recipients):
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
                group = groups[text] = _Group(text)
            key = None
            if unique:
                first = group.seen.get(number)
                if first is not None:
                    self._repeat(position, row, to, number, first)
                    continue
                group.seen[number] = row
                key = _dedupe_key(number, group.digest)
            group.rows.append(_Pending(position, row, to, number, key))
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
        summary = self.summary
        summary.earlier += 1
        if row.error == "duplicate":
            summary.duplicates += 1
        elif row.error == "invalid":
            summary.invalid += 1
        self._emit(
            row.row,
            row.to_input,
            row.number,
            row.status,
            row.api_message_id,
            row.error_code,
            row.error,
            row.description,
            row.client_message_id,
            row.duplicate_of,
            earlier=True,
        )
        if self.progress is not None:
            self.progress.update(1, self.summary)

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
    ) -> None:
        """A row settled without a request: a bad row (failed) or a repeat (rejected)."""
        if error == "invalid":
            self.summary.invalid += 1
        else:
            self.summary.duplicates += 1
        self.loose.append(
            Row(
                position,
                row,
                to,
                number,
                None,
                status,
                None,
                None,
                error,
                description,
                duplicate_of,
            )
        )
        self._emit(row, to, number, status, None, None, error, description, None, duplicate_of)
        if len(self.loose) >= _LOOSE_ROWS:
            self.journal.add(None, (), self.loose)
            self.loose = []
        if self.progress is not None:
            self.progress.update(1, self.summary)

    def _repeat(self, position: int, row: int, to: str, number: str, first: int) -> None:
        description = f"same recipient and message as row {first}; sent once"
        self._final(position, row, to, number, "rejected", "duplicate", description, first)

    def _flush_all(self) -> None:
        for group in list(self.groups.values()):
            self._flush(group)
        if self.loose:
            self.journal.add(None, (), self.loose)
            self.loose = []

    def _flush(self, group: _Group) -> None:
        """Journal the group's rows as one pending batch and queue its request."""
        del self.groups[group.content]
        rows = group.rows
        if self.unique:
            rows = self._drop_repeats(rows)
        if not rows:
            return
        batch_id = self.next_id
        self.next_id += 1
        batch = _Batch(batch_id, f"{self.prefix}-{batch_id}", group.content, rows)
        if self.stop.is_set():
            self._not_sent(batch)
            return
        members = [Member(p.position, p.row, p.to, p.number, p.key) for p in rows]
        self.journal.add((batch.id, batch.client_message_id, batch.content), members, self.loose)
        self.loose = []
        self._wait(2 * self.concurrency - 1)
        for p in rows:
            if p.key is not None:
                self.inflight_keys[p.key] = p.row
        self.inflight[self.pool.submit(self._send, batch)] = batch

    def _drop_repeats(self, rows: list[_Pending]) -> list[_Pending]:
        """Rows whose recipient already had this message, in flight or journalled, are repeats."""
        keys = [p.key for p in rows if p.key is not None]
        inflight = self.inflight_keys
        sent = self.journal.recall(keys)
        if not sent and inflight.keys().isdisjoint(keys):
            return rows
        keep = []
        for p in rows:
            first = None if p.key is None else sent.get(p.key, inflight.get(p.key))
            if first is None:
                keep.append(p)
            else:
                self._repeat(p.position, p.row, p.to, p.number, first)
        return keep

    def _not_sent(self, batch: _Batch) -> None:
        """A batch the stopped run does not send: failed, and not journalled (resume sends it)."""
        reason = f"not sent: {self.summary.stopped or 'the run stopped'}"
        for p in batch.rows:
            self._emit(p.row, p.to, p.number, "failed", None, None, "not sent", reason, None, None)
        if self.progress is not None:
            self.progress.update(len(batch.rows), self.summary)

    # -- completions (in the reader's thread) -------------------------------------------------

    def _wait(self, limit: int, *, raising: bool = True) -> None:
        """Handle finished batches until at most `limit` are in flight."""
        inflight = self.inflight
        if not inflight:
            return
        done = {future for future in inflight if future.done()}
        while True:
            for future in done:
                batch = inflight.pop(future)
                try:
                    outcome = future.result()
                except BaseException:
                    if raising:
                        raise
                    logger.exception("batch %s failed inside the SDK", batch.client_message_id)
                    continue
                self._handle(outcome)
            if len(inflight) <= limit:
                return
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)

    def _handle(self, done: _Done) -> None:
        summary = self.summary
        batch = done.batch
        if done.sent:
            summary.batches += 1
        if done.unknown:
            summary.unknown_batches.append(
                UnknownBatch(batch.client_message_id, len(batch.rows), batch.content)
            )
        if self.unique:
            self._settle_keys(done.rows)
        for r in done.rows:
            self._emit(
                r.row,
                r.to_input,
                r.number,
                r.status,
                r.api_message_id,
                r.error_code,
                r.error,
                r.description,
                batch.client_message_id if done.sent else None,
                None,
            )
        if self.progress is not None:
            self.progress.update(len(done.rows), summary)
        if done.accepted:
            self.account_errors = 0
        elif done.account_error is not None:
            self.account_errors += 1
            limit = self.stop_after
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

    def _emit(
        self,
        row: int,
        to: str,
        number: str | None,
        status: Status,
        api_message_id: str | None,
        error_code: int | None,
        error: str | None,
        description: str | None,
        client_message_id: str | None,
        duplicate_of: int | None,
        *,
        earlier: bool = False,
    ) -> None:
        summary = self.summary
        if status == "accepted":
            summary.accepted += 1
        elif status == "rejected":
            summary.rejected += 1
        elif status == "failed":
            summary.failed += 1
        else:
            summary.unknown += 1
        if self.writer is None and self.on_result is None:
            return
        result = BulkResult(
            row,
            to,
            number,
            status,
            api_message_id,
            error_code,
            error,
            description,
            client_message_id,
            duplicate_of,
            earlier,
        )
        if self.writer is not None:
            self.writer.write(result)
        if self.on_result is not None:
            self.on_result(result)

    # -- the senders (pool threads) -------------------------------------------------------------

    def _send(self, batch: _Batch) -> _Done:
        """Send one batch and journal its outcome; API failures become statuses, never raise."""
        rows = batch.rows
        limiter = self.limiter
        if self.stop.is_set() or (
            limiter is not None and not limiter.acquire(len(rows), self.stop)
        ):
            reason = f"not sent: {self.summary.stopped or 'the run stopped'}"
            return self._all(batch, "failed", "failed", None, "not sent", reason, sent=False)
        self.journal.mark_sending(batch.id)
        try:
            result = self.client.send(
                [p.number for p in rows],
                batch.content,
                client_message_id=batch.client_message_id,
                **self.send_options,
            )
        except OutcomeUnknownError as exc:
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", str(exc))
        except TransportError as exc:
            return self._all(batch, "failed", "failed", None, "not sent", str(exc))
        except APIError as exc:
            if isinstance(exc, RateLimitError) or exc.status in (429, 503):
                return self._all(batch, "failed", "failed", exc.error_code, "not sent", str(exc))
            account = None
            if isinstance(exc, AuthenticationError) or exc.error_code in ACCOUNT_ERROR_CODES:
                account = _describe(exc.error_code, exc.error or str(exc))
            return self._all(
                batch,
                "refused",
                "rejected",
                exc.error_code,
                exc.error or "refused",
                exc.description or str(exc),
                account_error=account,
            )
        except ValidationError as exc:
            return self._all(batch, "failed", "failed", None, "invalid", str(exc))
        except ClickatellError as exc:
            return self._all(batch, "failed", "failed", None, "not sent", str(exc))
        except Exception as exc:  # a bug: the request may or may not have gone out
            logger.exception("unexpected error sending batch %s", batch.client_message_id)
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", repr(exc))
        if len(result) != len(rows):  # never expected; unsafe to guess which row is which
            problem = f"the answer had {len(result)} results for {len(rows)} recipients"
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", problem)
        final: list[Row] = []
        accepted = False
        account_error = None
        for p, message in zip(rows, result, strict=True):
            if message.accepted:
                accepted = True
                final.append(
                    Row(
                        p.position,
                        p.row,
                        p.to,
                        p.number,
                        p.key,
                        "accepted",
                        message.api_message_id,
                    )
                )
                continue
            code = message.error_code
            if code in ACCOUNT_ERROR_CODES and account_error is None:
                account_error = _describe(code, message.error or message.description or "")
            final.append(
                Row(
                    p.position,
                    p.row,
                    p.to,
                    p.number,
                    p.key,
                    "rejected",
                    None,
                    code,
                    message.error or "rejected",
                    message.description,
                )
            )
        self.journal.finish(batch.id, "answered", final)
        return _Done(batch, final, None if accepted else account_error, accepted, True, False)

    def _all(
        self,
        batch: _Batch,
        state: BatchState,
        status: RowStatus,
        error_code: int | None,
        error: str,
        description: str,
        *,
        sent: bool = True,
        account_error: str | None = None,
    ) -> _Done:
        """Every row of the batch ends in the same status: journal it and report it."""
        final = [
            Row(
                p.position,
                p.row,
                p.to,
                p.number,
                p.key,
                status,
                None,
                error_code,
                error,
                description,
            )
            for p in batch.rows
        ]
        self.journal.finish(batch.id, state, final, error_code=error_code, error=description)
        return _Done(batch, final, account_error, False, sent, status == "unknown")


def _dedupe_key(number: str, digest: bytes) -> int:
    """A 64-bit key for (number, message): what the journal indexes to recognise repeats.

    A collision (odds about 1 in 10^7 for a million rows) would report a row as a repeat and
    not send it: the safe direction.
    """
    value = hashlib.blake2b(number.encode(), digest_size=8, key=digest).digest()
    return int.from_bytes(value, "big", signed=True)


def _describe(code: int | None, text: str) -> str:
    return f"error {code}: {text}" if code is not None else text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
