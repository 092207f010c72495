"""The journal's state machine over any SQL database: what SQLite and PostgreSQL share.

Layout, chosen for speed: a batch's recipients are packed (msgpack) into its own row, first as
members, then as final results, so journalling 200 recipients costs two small row writes and
three commits, not 200 row inserts (which measured slower than sending them). Rows settled
without a request (bad rows, repeats) are packed in chunks into `loose`. Every packed value is
stored with its CRC-32, checked when it is read back: a bit flip inside a value would otherwise
decode into a wrong number or status, and a resume could send a batch twice. A resumed run
unpacks everything once into its scratch database, ordered by input position (`iter_rows`).

A store gives its connection, how it runs a transaction, which of its errors mean "the database
failed", and the scope of its rows (a SQLite file holds one campaign; a PostgreSQL table holds
every shard of every campaign, so each statement names its campaign and shard).
"""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

import msgspec

from ._scratch import Scratch
from .journal import (
    BatchState,
    JournalDamagedError,
    JournalError,
    JournalRow,
    JournalUnavailableError,
    JournalWriteError,
    Member,
    Row,
    UnknownBatch,
)

__all__ = ["DAMAGED_ADVICE", "PackedJournal"]

_STOPPED_SENDING: Final = "the run stopped while this request was being sent; it may have been sent"
DAMAGED_ADVICE: Final = (
    "keep it as it is for reference, and do not resume from it: restore a copy if you have one;"
    " otherwise the requests it recorded may have been sent (check the clientMessageIds in your"
    " delivery callbacks or the portal) before starting a new journal with the rows not sent"
)

_pack = msgspec.msgpack.Encoder().encode
_decode_members = msgspec.msgpack.Decoder(list[Member]).decode
_decode_rows = msgspec.msgpack.Decoder(list[Row]).decode


class PackedJournal(ABC):
    """The journal's operations (see `journal.JournalStore`) in portable SQL.

    Statements are written with `?` placeholders and run through `_run`/`_run_many`; `_where`
    restricts each to the store's scope, and `_scope_columns`/`_scope` fill it on insert.
    """

    _batches: ClassVar[str] = "batches"
    _loose: ClassVar[str] = "loose"
    _scope_columns: ClassVar[str] = ""  # e.g. "campaign_id, shard, "

    def __init__(
        self,
        *,
        campaign_id: str,
        location: str,
        path: Path | None = None,
        temporary: bool = False,
        scope: str = "",
        where: str = "1 = 1",
        scope_values: tuple[Any, ...] = (),
    ) -> None:
        self._campaign_id = campaign_id
        self._scope_label = scope
        self._location = location
        self._path = path
        self._temporary = temporary
        self._where = where
        self._scope = scope_values
        self._marks = "?, " * len(scope_values)
        self._lock = threading.Lock()  # the database connection
        self._scratch_lock = threading.Lock()
        self._scratch = Scratch()
        self._closed = False

    # -- what the store provides --------------------------------------------------------------

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Execute one statement (autocommit unless inside `_transaction`); a cursor."""

    @abstractmethod
    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _transaction(self) -> contextlib.AbstractContextManager[None]: ...

    @abstractmethod
    def _stream(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, without holding them all in memory."""

    @abstractmethod
    def _failures(self) -> tuple[type[BaseException], ...]:
        """The exceptions that mean the database (or its disk) failed."""

    @abstractmethod
    def _note_resumed(self, now: float) -> None:
        """Record that a run resumed the journal (inside the resume's transaction)."""

    def _abandon(self) -> None:  # noqa: B027 (a hook: nothing to do for most stores)
        """After a step failed or was interrupted: end what it left open on the connection (a
        transaction it began), so that the next step does not run inside it."""

    # -- properties of JournalStore -----------------------------------------------------------

    @property
    def campaign_id(self) -> str:
        return self._campaign_id

    @property
    def scope(self) -> str:
        return self._scope_label

    @property
    def location(self) -> str:
        return self._location

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def temporary(self) -> bool:
        return self._temporary

    # -- errors -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _failing_as(self, make: Callable[[BaseException], Exception]) -> Iterator[None]:
        """The database's (or the disk's) failures in the body become `make(failure)`; and
        whatever ends the body early leaves nothing open on the connection (see `_abandon`).

        That last is here, around the steps, because Ctrl-C can cut a transaction off where no
        code inside it runs again: Python delivers signals at the start of a function, such as
        the `__exit__` that would commit. The interrupt then comes out through here."""
        failures: tuple[type[BaseException], ...] = (*self._failures(), OSError)
        try:
            yield
        except BaseException as exc:
            self._abandon()
            if isinstance(exc, failures) and not isinstance(exc, JournalError):
                raise make(exc) from exc
            raise

    def _writing(self, operation: str) -> contextlib.AbstractContextManager[None]:
        return self._failing_as(lambda exc: JournalWriteError(self._location, operation, exc))

    def _reading(self, what: str) -> contextlib.AbstractContextManager[None]:
        return self._failing_as(
            lambda exc: JournalUnavailableError(f"{self._location}: cannot read {what}: {exc}")
        )

    def _damaged(self, what: str) -> JournalDamagedError:
        message = f"{self._location} is damaged: {what}; {DAMAGED_ADVICE}"
        return JournalDamagedError(message)

    def _members(self, blob: bytes, crc: int | None, batch: object) -> list[Member]:
        if crc is None or zlib.crc32(blob) != crc:
            raise self._damaged(f"the recipients of batch {batch} fail their checksum")
        try:
            return _decode_members(blob)
        except msgspec.MsgspecError:
            raise self._damaged(f"the recipients of batch {batch} do not decode") from None

    def _rows(self, blob: bytes, crc: int | None, what: str) -> list[Row]:
        if crc is None or zlib.crc32(blob) != crc:
            raise self._damaged(f"the results of {what} fail their checksum")
        try:
            return _decode_rows(blob)
        except msgspec.MsgspecError:
            raise self._damaged(f"the results of {what} do not decode") from None

    # -- the reader: batches and settled rows, before anything is sent ----------------------

    def next_batch_id(self) -> int:
        with self._lock, self._reading("its batches"):
            (last,) = self._run(
                f"SELECT COALESCE(MAX(id), 0) FROM {self._batches} WHERE {self._where}",
                self._scope,
            ).fetchone()
        return int(last) + 1

    def add(
        self,
        batch: tuple[int, str, str] | None,
        members: Sequence[Member],
        loose: Sequence[Row] = (),
    ) -> None:
        now = time.time()
        with self._lock, self._writing("a new batch"), self._transaction():
            if batch is not None:
                packed = _pack(members)
                self._run(
                    f"INSERT INTO {self._batches} ({self._scope_columns}id, client_message_id,"
                    " content, size, state, members, members_crc, created_at, updated_at)"
                    f" VALUES ({self._marks}?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                    (*self._scope, *batch, len(members), packed, zlib.crc32(packed), now, now),
                )
            if loose:
                packed = _pack(loose)
                self._run(
                    f"INSERT INTO {self._loose} ({self._scope_columns}rows, rows_crc, created_at)"
                    f" VALUES ({self._marks}?, ?, ?)",
                    (*self._scope, packed, zlib.crc32(packed), now),
                )

    # -- repeats ------------------------------------------------------------------------------

    def remember(self, keys: Iterable[tuple[int, int]]) -> None:
        with self._scratch_lock, self._writing("the repeats"):
            self._scratch.add(keys)

    def recall(self, keys: Sequence[int]) -> dict[int, int]:
        with self._scratch_lock, self._reading("the repeats"):
            return self._scratch.find(keys)

    # -- the senders --------------------------------------------------------------------------

    def mark_sending(self, batch_id: int) -> None:
        with self._lock, self._writing("a batch marked sending"):
            self._run(
                f"UPDATE {self._batches} SET state = 'sending', updated_at = ?"
                f" WHERE {self._where} AND id = ?",
                (time.time(), *self._scope, batch_id),
            )

    def finish(
        self,
        batch_id: int,
        state: BatchState,
        rows: Sequence[Row],
        *,
        error_code: int | None = None,
        error: str | None = None,
    ) -> None:
        packed = _pack(rows)
        with self._lock, self._writing("a batch's outcome"):
            self._run(
                f"UPDATE {self._batches} SET state = ?, members = NULL, members_crc = NULL,"
                " results = ?, results_crc = ?, error_code = ?, error = ?, updated_at = ?"
                f" WHERE {self._where} AND id = ?",
                (
                    state,
                    packed,
                    zlib.crc32(packed),
                    error_code,
                    error,
                    time.time(),
                    *self._scope,
                    batch_id,
                ),
            )

    # -- resuming -----------------------------------------------------------------------------

    def prepare_resume(
        self, resend_unknown: bool | Iterable[str], retry_codes: Iterable[int] = ()
    ) -> list[UnknownBatch]:
        """Settle what an earlier run left behind; returns the requests still unknown.

        Batches caught `sending` become `unknown`. Pending, refused and failed batches, and the
        unknown ones the caller chose to send again (all with True, or those client message
        IDs), are superseded, so their rows are sent afresh; so are single rows that failed,
        or were rejected with one of `retry_codes`. Then the settled rows are unpacked in input
        order for `iter_rows`, and their keys remembered.
        """
        now = time.time()
        with self._lock:
            with self._writing("the resume's changes"), self._transaction():
                self._settle_caught_sending(now)
                self._supersede(self._to_resend(resend_unknown), now)
                self._note_resumed(now)
            codes = frozenset(retry_codes)

            def settled(row: Row) -> bool:
                """Not a row that failed, or was refused with one of `retry_codes`: those
                were not sent, so they are read again and sent."""
                return row.status != "failed" and not (
                    row.status == "rejected" and row.error_code in codes
                )

            self._fill_scratch("state IN ('answered', 'unknown')", settled)
        with self._scratch_lock:
            self._scratch.load_seen_from_settled()
        return self.unknown_batches()

    def _settle_caught_sending(self, now: float) -> None:
        """Batches an earlier run left `sending` become `unknown`, each row with them: the
        request may have reached the API."""
        batches, where, scope = self._batches, self._where, self._scope
        caught = self._run(
            f"SELECT id, members, members_crc FROM {batches} WHERE {where} AND state = 'sending'",
            scope,
        ).fetchall()
        for batch_id, members, crc in caught:
            rows = [
                m.settled("unknown", error="outcome unknown", description=_STOPPED_SENDING)
                for m in self._members(bytes(members), crc, batch_id)
            ]
            packed = _pack(rows)
            self._run(
                f"UPDATE {batches} SET state = 'unknown', members = NULL,"
                " members_crc = NULL, results = ?, results_crc = ?, error = ?,"
                f" updated_at = ? WHERE {where} AND id = ?",
                (packed, zlib.crc32(packed), _STOPPED_SENDING, now, *scope, batch_id),
            )

    def _to_resend(self, resend_unknown: bool | Iterable[str]) -> list[int]:
        """The unknown batches the caller chose to send again: all (True), none (False), or
        those client message IDs, each of which must name an unknown request (`JournalError`)."""
        chosen = None if isinstance(resend_unknown, bool) else set(resend_unknown)
        unknown = {
            str(cmid): int(batch_id)
            for cmid, batch_id in self._run(
                f"SELECT client_message_id, id FROM {self._batches}"
                f" WHERE {self._where} AND state = 'unknown'",
                self._scope,
            ).fetchall()
        }
        if chosen is not None and chosen - set(unknown):
            names = ", ".join(sorted(chosen - set(unknown)))
            raise JournalError(
                f"not an unknown request of this journal: {names}",
                cli=f"--resend-unknown: not an unknown request of this journal: {names}",
            )
        if resend_unknown is True:
            return list(unknown.values())
        return [unknown[cmid] for cmid in sorted(chosen or ())]

    def _supersede(self, resend: list[int], now: float) -> None:
        """The batches whose rows are sent afresh: those in `resend`, and every pending,
        refused or failed one."""
        batches, where, scope = self._batches, self._where, self._scope
        self._run_many(
            f"UPDATE {batches} SET state = 'superseded', updated_at = ? WHERE {where} AND id = ?",
            [(now, *scope, batch_id) for batch_id in resend],
        )
        self._run(
            f"UPDATE {batches} SET state = 'superseded', updated_at = ?"
            f" WHERE {where} AND state IN ('pending', 'refused', 'failed')",
            (now, *scope),
        )

    def _fill_scratch(self, condition: str, keep: Callable[[Row], bool] | None = None) -> None:
        """Unpack the rows of the batches matching `condition` (SQL) and the loose rows into
        the scratch database, by position; `keep` picks the rows. Rows of a batch caught
        `sending` are `unknown`; batches without results are skipped. The caller holds the
        lock."""

        def unpacked() -> Generator[tuple[str | None, Sequence[Row]], None, None]:
            for state, cmid, results, results_crc, members, members_crc in self._stream(
                "SELECT state, client_message_id, results, results_crc, members, members_crc"
                f" FROM {self._batches} WHERE {self._where} AND {condition} ORDER BY id",
                self._scope,
            ):
                if state == "sending":
                    found = self._members(bytes(members), members_crc, cmid)
                    rows = [m.settled("unknown") for m in found]
                elif results is None:
                    continue
                else:
                    rows = self._rows(bytes(results), results_crc, f"batch {cmid}")
                yield cmid, [row for row in rows if keep is None or keep(row)]
            for chunk, (packed, crc) in enumerate(
                self._stream(
                    f"SELECT rows, rows_crc FROM {self._loose} WHERE {self._where} ORDER BY id",
                    self._scope,
                )
            ):
                rows = self._rows(bytes(packed), crc, f"settled rows (chunk {chunk + 1})")
                yield None, [row for row in rows if keep is None or keep(row)]

        rows = unpacked()
        try:
            with self._scratch_lock, self._reading("its batches"):
                self._scratch.fill(rows)
        finally:
            rows.close()  # its reading, now: not once an interrupt's traceback lets it go

    def unknown_batches(self) -> list[UnknownBatch]:
        with self._lock, self._reading("its batches"):
            rows = self._run(
                f"SELECT client_message_id, size, content FROM {self._batches}"
                f" WHERE {self._where} AND state = 'unknown' ORDER BY id",
                self._scope,
            ).fetchall()
        return [UnknownBatch(cmid, int(size), content) for cmid, size, content in rows]

    def iter_rows(self, chunk: int = 2000) -> Iterator[JournalRow]:
        pages = self._scratch.iter_rows(chunk)
        while True:
            with self._scratch_lock:
                row = next(pages, None)
            if row is None:
                return
            yield row

    def read_all(self) -> Iterator[JournalRow]:
        """Every journalled row, settled or not, in input order, without changing the journal.

        Rows of batches caught `sending` are reported `unknown`, those of pending batches are
        left out (nothing was sent), and failed rows are included.
        """
        with self._lock:
            self._fill_scratch("state != 'superseded'")
        return self.iter_rows()

    def batch_states(self) -> dict[str, int]:
        with self._lock, self._reading("its batches"):
            rows = self._run(
                f"SELECT state, COUNT(*) FROM {self._batches} WHERE {self._where} GROUP BY state",
                self._scope,
            ).fetchall()
        return {state: int(count) for state, count in rows}

    def _close_scratch(self) -> None:
        with self._scratch_lock:
            self._scratch.close()
