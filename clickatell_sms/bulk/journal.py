"""The bulk journal: where a campaign remembers every batch before it is sent.

A bulk run that dies half-way must be resumable without sending anyone the same message twice,
and `POST /messages` cannot be asked "did you get that?" afterwards. So every batch is written
to the journal, with its recipients, *before* its request exists, and its outcome after the
answer:

    pending ──(committed right before the HTTP call)──▶ sending ──▶ answered | refused
                                                                      | failed | unknown

On resume, the state says what is safe:

* `answered` (accepted/rejected per recipient): never sent again, except recipients refused
  for a reason that is about the account rather than them (no credit): those were not sent.
* `refused`: the API refused the request as a whole (a revoked key, say): nothing was sent, so
  its rows are sent again.
* `pending`: written, but the send never started: its rows are sent again.
* `failed`: provably not sent (connection refused, 429/503 after the retries, run stopped):
  its rows are sent again.
* `sending` when the process died: the request may have gone out, so it becomes `unknown`,
  exactly like a request whose connection broke after it was written. Unknown batches are
  listed and kept; they are sent again only when the caller opts in, batch by batch.

A batch whose rows are sent again becomes `superseded` (kept as an audit trail), so the resumed
run journals those rows afresh in new batches.

This module is the storage interface: the row types, the errors, and `JournalStore` (what the
bulk engine calls, and all it calls). Two stores keep the same guarantees: `SQLiteJournal`
(`sqlite_journal`: one file, one host, the default) and `PostgresJournal` (`postgres_journal`:
psycopg 3, one campaign shared by the writers of many hosts, each writing its own shard).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

__all__ = [
    "BatchState",
    "BulkStorageError",
    "CampaignExistsError",
    "JournalBusyError",
    "JournalDamagedError",
    "JournalError",
    "JournalRow",
    "JournalStore",
    "JournalUnavailableError",
    "JournalWriteError",
    "Member",
    "OptOutsUnreadableError",
    "Row",
    "RowStatus",
    "UnknownBatch",
    "is_postgres_url",
]

BatchState = Literal["pending", "sending", "answered", "refused", "failed", "unknown", "superseded"]
RowStatus = Literal["accepted", "rejected", "failed", "unknown", "opted_out"]


# -- errors -----------------------------------------------------------------------------------


class JournalError(Exception):
    """The journal cannot be used as asked: it exists already, is missing, is another
    campaign's, is damaged, or is in use.

    `str()` says what to do in Python terms; `cli_message` says it in the command line's
    (`--resume FILE` rather than `resume=True`), and the CLI prints that one.
    """

    def __init__(self, message: str, *, cli: str | None = None) -> None:
        super().__init__(message)
        self.cli_message = message if cli is None else cli


class CampaignExistsError(JournalError):
    """A new campaign would send what an existing one sends: the same recipients, message and
    options, from the same account. Running a command twice must not send a campaign twice, so
    it is refused, naming the existing campaign (`campaign`): continue or watch that one, or
    ask for a new campaign on purpose (`new_campaign=True`, `--new-campaign`)."""

    def __init__(self, existing: str, *, campaign: str, python: str, cli: str) -> None:
        super().__init__(f"{existing}: {python}", cli=f"{existing}: {cli}")
        self.campaign = campaign
        self.existing = existing
        """Which campaign it repeats, and when it started."""


class JournalBusyError(JournalError):
    """Another process (or another run in this one) has the journal open: two writers on one
    campaign could send a batch twice, so the second is refused at once."""


class JournalUnavailableError(JournalError):
    """The journal's database cannot be reached or read right now (it is restarting, the
    network is down): nothing was done, and the same call may work later."""


class JournalDamagedError(JournalError):
    """The journal's bytes are not what was written (bit flips, a truncated copy) or half of it
    is missing (the write-ahead log of a run that was killed): resuming from it could send a
    batch twice, so it is refused."""


class BulkStorageError(Exception):
    """A bulk run could not write down what it did (its journal or its results file), so it
    stopped sending. Raised by `send_many` once the requests in flight are settled, with the
    summary of what was sent as `bulk_summary`: never read it as "nothing was sent"."""

    bulk_summary: object = None  # a BulkSummary, set by send_many


class JournalWriteError(BulkStorageError):
    """A write to the journal failed in the middle of a run (disk full, file size limit, the
    database went away). The run stops sending at once: whatever cannot be journalled must not
    be sent. `operation` says which write failed."""

    def __init__(self, location: str, operation: str, cause: BaseException) -> None:
        self.location = location
        self.operation = operation
        super().__init__(f"the journal {location} could not be written ({operation}): {cause}")


class OptOutsUnreadableError(BulkStorageError):
    """The opt-out store could not be read in the middle of a run (the database went away):
    the next batches might hold numbers that opted out, so nothing more is sent."""


# -- what is journalled -------------------------------------------------------------------------


class Member(NamedTuple):
    """A recipient of a batch whose outcome is not known yet."""

    position: int
    row: int
    to_input: str
    number: str
    dedupe_key: int | None

    def settled(
        self,
        status: RowStatus,
        api_message_id: str | None = None,
        error_code: int | None = None,
        error: str | None = None,
        description: str | None = None,
    ) -> Row:
        """This recipient's final status, to journal once the batch's fate is known."""
        return Row(
            self.position,
            self.row,
            self.to_input,
            self.number,
            self.dedupe_key,
            status,
            api_message_id,
            error_code,
            error,
            description,
        )


class Row(NamedTuple):
    """A recipient's final status, as journalled."""

    position: int
    row: int
    to_input: str
    number: str | None
    dedupe_key: int | None
    status: RowStatus
    api_message_id: str | None = None
    error_code: int | None = None
    error: str | None = None
    description: str | None = None
    duplicate_of: int | None = None


class JournalRow(NamedTuple):
    """A journalled row, as a resumed run reads it back."""

    position: int
    row: int
    to_input: str
    number: str | None
    status: RowStatus
    api_message_id: str | None
    error_code: int | None
    error: str | None
    description: str | None
    duplicate_of: int | None
    client_message_id: str | None


@dataclass(frozen=True, slots=True)
class UnknownBatch:
    """A request that may or may not have been sent: the caller has to decide."""

    client_message_id: str
    recipients: int
    content: str


# -- the interface ------------------------------------------------------------------------------


class JournalStore(Protocol):
    """What the bulk engine needs of a journal, and all it uses.

    Every method may be called from several sending threads at once. Writes raise
    `JournalWriteError` when they fail; reads of a damaged journal raise `JournalDamagedError`.
    """

    @property
    def campaign_id(self) -> str:
        """The campaign's random ID: the default prefix of its requests' clientMessageIds."""
        ...

    @property
    def scope(self) -> str:
        """What goes between the prefix and the batch number in a clientMessageId: empty for a
        whole campaign, `<shard>.` for one shard of a campaign spread over many writers."""
        ...

    @property
    def location(self) -> str:
        """Where it lives, for messages: a file path, or a database URL without its password."""
        ...

    @property
    def path(self) -> Path | None:
        """The file, for a journal that is one (None otherwise)."""
        ...

    @property
    def temporary(self) -> bool:
        """Deleted on close (a run that named no journal)."""
        ...

    def next_batch_id(self) -> int:
        """The id the next batch gets (ids keep increasing across resumed runs)."""
        ...

    def add(
        self,
        batch: tuple[int, str, str] | None,
        members: Sequence[Member],
        loose: Sequence[Row] = (),
    ) -> None:
        """Journal a batch `(id, client_message_id, content)` as pending with its `members`,
        and rows settled without a request (`loose`), in one transaction."""
        ...

    def remember(self, keys: Iterable[tuple[int, int]]) -> None:
        """Note recipients (dedupe key, row) that have had their message, or may have."""
        ...

    def recall(self, keys: Sequence[int]) -> dict[int, int]:
        """Of these keys, those remembered (key -> the row that had the message first)."""
        ...

    def mark_sending(self, batch_id: int) -> None:
        """Committed immediately before the request: from here on, a crash means 'unknown'."""
        ...

    def finish(
        self,
        batch_id: int,
        state: BatchState,
        rows: Sequence[Row],
        *,
        error_code: int | None = None,
        error: str | None = None,
    ) -> None:
        """The batch's outcome and each recipient's final status, in one write."""
        ...

    def prepare_resume(
        self, resend_unknown: bool | Iterable[str], retry_codes: Iterable[int] = ()
    ) -> list[UnknownBatch]:
        """Settle what an earlier run left behind (see the module docs); returns the requests
        still unknown. Then `iter_rows` gives the settled rows in input order."""
        ...

    def iter_rows(self, chunk: int = 2000) -> Iterator[JournalRow]:
        """Every settled row in input order (after `prepare_resume` or `read_all`)."""
        ...

    def read_all(self) -> Iterator[JournalRow]:
        """Every journalled row in input order, without changing the journal."""
        ...

    def unknown_batches(self) -> list[UnknownBatch]:
        """Every request whose outcome is unknown, oldest first."""
        ...

    def batch_states(self) -> dict[str, int]:
        """Batches per state."""
        ...

    def close(self) -> None:
        """Release the journal (and its lock); a file journal is left whole, in one file."""
        ...


def is_postgres_url(location: str | Path) -> bool:
    """Whether a journal location names a PostgreSQL database rather than a file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))
