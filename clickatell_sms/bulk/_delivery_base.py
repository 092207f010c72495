"""The delivery tables over any SQL database: what SQLite and PostgreSQL share (see `delivery`).

Statements are written once, in portable SQL with `?` marks (both databases take the same
`INSERT ... ON CONFLICT ... DO UPDATE ... WHERE`); a store gives its connection, how it runs a
transaction, which errors mean the database failed, and where the campaign's rows are.
"""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import msgspec

from ..statuses import MessageStatus
from .journal import JournalDamagedError, JournalError, Row

if TYPE_CHECKING:
    from ..callbacks.parsing import StatusCallback
    from ..results import StatusResult

__all__ = ["DeliveryStore", "RefreshRun", "StatusUpdate"]

_decode_rows: Final = msgspec.msgpack.Decoder(list[Row]).decode
# Batch states whose rows the report counts: a superseded batch's rows were journalled again.
_SETTLED: Final = ("answered", "unknown", "refused", "failed")
_SYNC_CHUNK: Final = 50  # batches per transaction: a running bulk waits for at most this many
# Rows to index at once past which a store may index them in bulk (`_indexing_in_bulk`): at
# least this many, and at least an eighth of the rows indexed already.
_BULK_ROWS: Final = 50_000


class StatusUpdate(NamedTuple):
    """One status of one message, as a callback or a look-up reported it, ready to store.

    `status_at` is the time the status carries (None when it carried none); `arrived_at` when
    it reached us. `number` is the recipient without `+`.
    """

    api_message_id: str
    client_message_id: str | None
    number: str | None
    status_code: int | None
    status: str
    description: str | None
    kind: str
    final: bool
    reached_gateway: bool
    status_at: float | None
    arrived_at: float
    via: str

    @classmethod
    def of(
        cls,
        api_message_id: str,
        status: MessageStatus,
        moment: float | None,
        *,
        via: str,
        client_message_id: str | None = None,
        number: str | None = None,
        arrived_at: float | None = None,
    ) -> StatusUpdate:
        return cls(
            api_message_id,
            client_message_id,
            number.removeprefix("+") if number else None,
            status.code,
            status.name or (f"status {status.code}" if status.code is not None else "unknown"),
            status.description or None,
            status.kind,
            status.is_final,
            status.reached_gateway,
            moment,
            time.time() if arrived_at is None else arrived_at,
            via,
        )

    @classmethod
    def from_callback(cls, event: StatusCallback, arrived_at: float | None = None) -> StatusUpdate:
        """A status callback, arrived now (or at `arrived_at`)."""
        moment = None if event.timestamp is None else event.timestamp.timestamp()
        return cls.of(
            event.api_message_id,
            event.status,
            moment,
            via="callback",
            client_message_id=event.client_message_id,
            number=event.to,
            arrived_at=arrived_at,
        )

    @classmethod
    def from_lookup(cls, result: StatusResult, arrived_at: float | None = None) -> StatusUpdate:
        """A status look-up's answer (`Client.message_status`)."""
        moment = None if result.timestamp is None else result.timestamp.timestamp()
        return cls.of(
            result.api_message_id, result.status, moment, via="lookup", arrived_at=arrived_at
        )


@dataclass(frozen=True, slots=True)
class RefreshRun:
    """One run of `report --refresh`: messages silent since before `cutoff` are looked up."""

    id: int
    started_at: float
    cutoff: float
    resumed: bool
    looked_up: int


# -- the ordering rule, in SQL -----------------------------------------------------------------

# `callbacks.is_newer(candidate, current)`, with `excluded` the candidate and `d` the row held.
_NEWER: Final = (
    "(excluded.final > d.final OR (excluded.final = d.final AND excluded.status_at IS NOT NULL"
    " AND d.status_at IS NOT NULL AND excluded.status_at > d.status_at))"
)
_EARLIER_GATEWAY: Final = (
    "(excluded.gateway_at IS NOT NULL AND (d.gateway_at IS NULL"
    " OR excluded.gateway_at < d.gateway_at))"
)
_STATUS_COLUMNS: Final = (
    "status_code",
    "status",
    "description",
    "kind",
    "final",
    "status_at",
    "arrived_at",
    "via",
)


def _upsert(table: str) -> str:
    newer = ", ".join(
        f"{column} = CASE WHEN {_NEWER} THEN excluded.{column} ELSE d.{column} END"
        for column in _STATUS_COLUMNS
    )
    return (
        f"INSERT INTO {table} AS d (api_message_id, client_message_id, number, status_code,"
        " status, description, kind, final, status_at, arrived_at, gateway_at, via)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (api_message_id) DO UPDATE SET"
        " client_message_id = COALESCE(d.client_message_id, excluded.client_message_id),"
        " number = COALESCE(d.number, excluded.number),"
        f" gateway_at = CASE WHEN {_EARLIER_GATEWAY} THEN excluded.gateway_at"
        f" ELSE d.gateway_at END, {newer}"
        f" WHERE {_NEWER} OR {_EARLIER_GATEWAY}"
        " OR (d.client_message_id IS NULL AND excluded.client_message_id IS NOT NULL)"
        " OR (d.number IS NULL AND excluded.number IS NOT NULL)"
    )


def _status_row(update: StatusUpdate) -> tuple[Any, ...]:
    moment = update.status_at if update.status_at is not None else update.arrived_at
    return (
        update.api_message_id,
        update.client_message_id,
        update.number,
        update.status_code,
        update.status,
        update.description,
        update.kind,
        int(update.final),
        update.status_at,
        update.arrived_at,
        moment if update.reached_gateway else None,
        update.via,
    )


# -- the store ---------------------------------------------------------------------------------


class DeliveryStore(ABC):
    """The delivery tables of one journal (a file, or a PostgreSQL database).

    `campaign` is the campaign the message index and the report are about: the file's own for
    SQLite (None), a campaign ID for PostgreSQL. Safe to share between threads (one connection,
    under a lock); `close()` releases it.
    """

    _prefix: str = ""  # the tables' schema, with its dot
    _shard: str = "0"  # the batches' shard column, for stores whose batches have one

    def __init__(self, location: str, campaign: str | None) -> None:
        self.location = location
        self.campaign = campaign
        self._lock = threading.RLock()
        self._insert_status = _upsert(self.table("delivery_status"))

    # -- what a store provides -------------------------------------------------------------

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (portable SQL with `?` marks); a cursor."""

    @abstractmethod
    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _transaction(self) -> contextlib.AbstractContextManager[None]: ...

    @abstractmethod
    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, without holding them all in memory."""

    @abstractmethod
    def _failures(self) -> tuple[type[BaseException], ...]:
        """The exceptions that mean the database failed."""

    @abstractmethod
    def _journal_scope(self) -> tuple[str, tuple[Any, ...]]:
        """The condition (and its values) that picks the campaign's rows in the journal's
        `batches` and `loose` tables."""

    @abstractmethod
    def close(self) -> None: ...

    def _hold_campaign(self) -> None:  # noqa: B027 (a hook: nothing to do for most stores)
        """Inside a transaction: keep other syncs of the campaign out until it ends (a store
        that several hosts write)."""

    def _indexing_in_bulk(self) -> contextlib.AbstractContextManager[None]:
        """Around a sync that indexes many rows (a campaign no sync has seen yet): a store may
        set aside what costs more row by row than all at once after."""
        return contextlib.nullcontext()

    # -- helpers ---------------------------------------------------------------------------

    def table(self, name: str) -> str:
        """A table's name as statements write it."""
        return f"{self._prefix}{name}"

    @property
    def scope(self) -> str:
        """The value of `campaign_id` in the delivery tables for this store's campaign."""
        return self.campaign or ""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a read (for aggregates: a few rows)."""
        with self._lock, self._guard("read"):
            return list(self._run(sql, params).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """One statement on its own (a temporary table for a report, say)."""
        with self._lock, self._guard("read"):
            self._run(sql, params)

    def campaign_id(self) -> str | None:
        """The campaign the report is about (None while the journal holds none)."""
        return self.campaign

    def floor(self, expression: str) -> str:
        """SQL for the whole part of a number that is not negative."""
        return f"CAST({expression} AS INTEGER)"

    _temporary = "temp."

    def drop_temporary(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self._temporary}{name}")

    def unknown_statuses(self, matched: int) -> int:
        """Statuses stored for messages the campaign does not know, given that `matched` of
        them belong to its rows: in a journal file, every other status."""
        (total,) = self.query(f"SELECT COUNT(*) FROM {self.table('delivery_status')}")[0]
        return int(total) - matched

    def unknown_examples(self, limit: int) -> list[tuple[str, str]]:
        """A few (message ID, status) stored for messages the campaign does not know."""
        return [
            (str(message_id), str(status))
            for message_id, status in self.query(
                f"SELECT s.api_message_id, s.status FROM {self.table('delivery_status')} s"
                f" WHERE NOT EXISTS (SELECT 1 FROM {self.table('delivery_messages')} m"
                " WHERE m.campaign_id = ? AND m.api_message_id = s.api_message_id)"
                " ORDER BY s.arrived_at LIMIT ?",
                (self.scope, limit),
            )
        ]

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        failures: tuple[type[BaseException], ...] = (*self._failures(), OSError)
        try:
            yield
        except JournalError:
            raise
        except failures as exc:
            message = f"{self.location}: cannot {what} the delivery tables: {exc}"
            raise JournalError(message) from exc

    def __enter__(self) -> DeliveryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing statuses ------------------------------------------------------------------

    def record(self, updates: Sequence[StatusUpdate]) -> None:
        """Store statuses in one transaction, each by the ordering rule (see the module)."""
        if not updates:
            return
        rows = [_status_row(update) for update in updates]
        if len(rows) == 1:  # one statement commits on its own: no BEGIN, no COMMIT to send
            with self._lock, self._guard("write"):
                self._run(self._insert_status, rows[0])
            return
        with self._lock, self._guard("write"), self._transaction():
            self._run_many(self._insert_status, rows)

    # -- the message index -----------------------------------------------------------------

    def sync(self, stop: threading.Event | None = None) -> int:
        """Bring `delivery_messages` up to date with the journal's batches; returns how many
        batches and loose chunks were read. A campaign not journalled yet syncs nothing. `stop`
        set ends it between two transactions (the next sync goes on from there)."""
        if not self._has_journal():
            return 0
        changed = self._changed_batches()
        bulk = self._many_rows(sum(size for *_, size in changed))
        with self._indexing_in_bulk() if bulk else contextlib.nullcontext():
            for start in range(0, len(changed), _SYNC_CHUNK):
                if stop is not None and stop.is_set():
                    return start
                with self._lock, self._guard("write"), self._transaction():
                    self._hold_campaign()
                    for shard, batch, state, at, cmid, seen, _ in changed[
                        start : start + _SYNC_CHUNK
                    ]:
                        self._index_batch(shard, batch, state, at, cmid, seen)
        loose = self._index_loose()
        with self._lock, self._guard("write"), self._transaction():
            self._adopt_unknown_outcomes()
        return len(changed) + loose

    @abstractmethod
    def _has_journal(self) -> bool:
        """Whether the journal's own tables exist (and hold the campaign)."""

    def _many_rows(self, rows: int) -> bool:
        """Whether `rows` new rows are many beside those indexed already (see `_BULK_ROWS`)."""
        if rows < _BULK_ROWS:
            return False
        (indexed,) = self.query(
            f"SELECT COUNT(*) FROM {self.table('delivery_messages')} WHERE campaign_id = ?",
            (self.scope,),
        )[0]
        return rows * 8 >= int(indexed)

    def _changed_batches(self) -> list[tuple[int, int, str, float, str, bool, int]]:
        """The batches to (re)index: (shard, id, state, updated at, clientMessageId, whether
        an earlier sync indexed it, its rows)."""
        where, values = self._journal_scope()
        with self._lock, self._guard("read"):
            batches = self._run(
                f"SELECT {self._shard}, id, state, updated_at, client_message_id, size"
                f" FROM {self.table('batches')} WHERE {where}"
                " AND state IN ('answered', 'unknown', 'refused', 'failed', 'superseded')",
                values,
            ).fetchall()
            seen = {
                source: (state, float(updated))
                for source, state, updated in self._run(
                    f"SELECT source, state, updated_at FROM {self.table('delivery_sources')}"
                    " WHERE campaign_id = ? AND state <> 'loose'",
                    (self.scope,),
                ).fetchall()
            }
        return [
            (
                int(shard),
                int(batch_id),
                str(state),
                float(updated),
                str(cmid),
                key in seen,
                int(size),
            )
            for shard, batch_id, state, updated, cmid, size in batches
            if seen.get(key := f"b{shard}.{batch_id}") != (state, float(updated))
        ]

    def _index_batch(
        self, shard: int, batch_id: int, state: str, updated_at: float, cmid: str, indexed: bool
    ) -> None:
        """Replace the batch's rows in the index (inside the caller's transaction). The rows an
        earlier sync indexed are found by their positions (a batch's results never change once
        written), so the index needs no second key."""
        source = f"b{shard}.{batch_id}"
        where, values = self._journal_scope()
        found = self._run(
            f"SELECT results, results_crc FROM {self.table('batches')}"
            f" WHERE {where} AND {self._shard} = ? AND id = ?",
            (*values, shard, batch_id),
        ).fetchone()
        rows: list[Row] = []
        if found is not None and found[0] is not None:
            rows = _unpack(self.location, bytes(found[0]), found[1], f"batch {cmid}")
        if indexed and rows:
            self._run_many(
                f"DELETE FROM {self.table('delivery_messages')} WHERE campaign_id = ?"
                " AND shard = ? AND position = ? AND source = ?",
                [(self.scope, shard, row.position, source) for row in rows],
            )
        if state in _SETTLED and rows:
            sent_at = updated_at if state in ("answered", "unknown") else None
            self._insert_messages(shard, source, rows, cmid, sent_at, updated_at)
        self._run(
            f"INSERT INTO {self.table('delivery_sources')} (campaign_id, source, state,"
            " updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (campaign_id, source) DO UPDATE"
            " SET state = excluded.state, updated_at = excluded.updated_at",
            (self.scope, source, state, updated_at),
        )

    def _index_loose(self) -> int:
        """Index the loose rows (bad rows, repeats) journalled since the last sync. Chunks are
        told apart by ID, never by "after the last one": writers on other hosts may commit an
        earlier ID later."""
        where, values = self._journal_scope()
        with self._lock, self._guard("read"):
            present = self._run(
                f"SELECT id FROM {self.table('loose')} WHERE {where}", values
            ).fetchall()
            seen = {
                source
                for (source,) in self._run(
                    f"SELECT source FROM {self.table('delivery_sources')}"
                    " WHERE campaign_id = ? AND state = 'loose'",
                    (self.scope,),
                ).fetchall()
            }
        new = sorted(int(chunk_id) for (chunk_id,) in present if f"l{chunk_id}" not in seen)
        for chunk_id in new:
            with self._lock, self._guard("write"), self._transaction():
                self._hold_campaign()
                shard, packed, crc, created = self._run(
                    f"SELECT {self._shard}, rows, rows_crc, created_at FROM {self.table('loose')}"
                    f" WHERE {where} AND id = ?",
                    (*values, chunk_id),
                ).fetchone()
                rows = _unpack(self.location, bytes(packed), crc, f"settled rows {chunk_id}")
                self._insert_messages(int(shard), f"l{chunk_id}", rows, None, None, float(created))
                self._run(
                    f"INSERT INTO {self.table('delivery_sources')} (campaign_id, source, state,"
                    " updated_at) VALUES (?, ?, 'loose', ?)",
                    (self.scope, f"l{chunk_id}", float(created)),
                )
        return len(new)

    def _insert_messages(
        self,
        shard: int,
        source: str,
        rows: Sequence[Row],
        cmid: str | None,
        sent_at: float | None,
        written_at: float,
    ) -> None:
        table = self.table("delivery_messages")
        self._run_many(
            f"INSERT INTO {table} AS d (campaign_id, shard, position, row, to_input, number,"
            " outcome, api_message_id, client_message_id, error_code, error, description,"
            " duplicate_of, source, sent_at, written_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (campaign_id, shard, position) DO UPDATE SET row = excluded.row,"
            " to_input = excluded.to_input, number = excluded.number, outcome = excluded.outcome,"
            " api_message_id = excluded.api_message_id,"
            " client_message_id = excluded.client_message_id,"
            " error_code = excluded.error_code, error = excluded.error,"
            " description = excluded.description, duplicate_of = excluded.duplicate_of,"
            " source = excluded.source, sent_at = excluded.sent_at,"
            " written_at = excluded.written_at WHERE excluded.written_at >= d.written_at",
            [
                (
                    self.scope,
                    shard,
                    r.position,
                    r.row,
                    r.to_input,
                    r.number,
                    r.status,
                    r.api_message_id,
                    cmid,
                    r.error_code,
                    r.error,
                    r.description,
                    r.duplicate_of,
                    source,
                    sent_at,
                    written_at,
                )
                for r in rows
            ],
        )

    def _adopt_unknown_outcomes(self) -> None:
        """Rows of requests whose outcome is unknown take the `apiMessageId` of a callback that
        names their request (`clientMessageId`) and number: it shows the message was sent.
        (One pass over the statuses, and only when there are such rows: the status table has
        no index but its key, which keeps each callback's write to one B-tree.)"""
        messages, statuses = self.table("delivery_messages"), self.table("delivery_status")
        (unknown,) = self._run(
            f"SELECT COUNT(*) FROM {self.table('delivery_sources')}"
            " WHERE campaign_id = ? AND state = 'unknown'",
            (self.scope,),
        ).fetchone()
        if not unknown:  # the usual case: no request of unknown outcome, nothing to scan
            return
        references = [
            str(cmid)
            for (cmid,) in self._run(
                f"SELECT DISTINCT client_message_id FROM {messages} WHERE campaign_id = ?"
                " AND outcome = 'unknown' AND api_message_id IS NULL",
                (self.scope,),
            ).fetchall()
        ]
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(references), 500):
            chunk = references[start : start + 500]
            found += self._run(
                f"SELECT api_message_id, client_message_id, number FROM {statuses}"
                f" WHERE client_message_id IN ({', '.join('?' for _ in chunk)})"
                " ORDER BY api_message_id",
                chunk,
            ).fetchall()
        self._run_many(
            f"UPDATE {messages} SET api_message_id = ? WHERE campaign_id = ?"
            " AND outcome = 'unknown' AND api_message_id IS NULL AND client_message_id = ?"
            " AND number = ?",
            [(api_id, self.scope, cmid, number) for api_id, cmid, number in found],
        )

    # -- refresh runs ----------------------------------------------------------------------

    def open_refresh(self, older_than: float, now: float | None = None) -> RefreshRun:
        """The unfinished refresh run to resume, or a new one for messages silent for
        `older_than` seconds."""
        started = time.time() if now is None else now
        runs = self.table("delivery_refreshes")
        with self._lock, self._guard("write"), self._transaction():
            found = self._run(
                f"SELECT id, started_at, cutoff, looked_up FROM {runs}"
                " WHERE campaign_id = ? AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
                (self.scope,),
            ).fetchone()
            if found is not None:
                run_id, begun, cutoff, looked_up = found
                return RefreshRun(int(run_id), float(begun), float(cutoff), True, int(looked_up))
            (run_id,) = self._run(
                f"INSERT INTO {runs} (campaign_id, started_at, cutoff, looked_up)"
                " VALUES (?, ?, ?, 0) RETURNING id",
                (self.scope, started, started - older_than),
            ).fetchone()
        return RefreshRun(int(run_id), started, started - older_than, False, 0)

    def refresh_candidates(self, run: RefreshRun, after: str, limit: int) -> list[str]:
        """Up to `limit` message IDs after `after` (in ID order) that `run` should look up:
        accepted, without a final status, silent since before its cutoff, and not yet looked
        up by it."""
        m, s, look = (
            self.table("delivery_messages"),
            self.table("delivery_status"),
            self.table("delivery_lookups"),
        )
        rows = self.query(
            f"SELECT m.api_message_id FROM {m} m"
            f" LEFT JOIN {s} s ON s.api_message_id = m.api_message_id"
            f" LEFT JOIN {look} l ON l.api_message_id = m.api_message_id"
            " WHERE m.campaign_id = ? AND m.api_message_id > ?"
            " AND m.outcome IN ('accepted', 'unknown') AND (s.final IS NULL OR s.final = 0)"
            " AND (l.run IS NULL OR l.run <> ?) AND m.sent_at < ?"
            " AND (s.arrived_at IS NULL OR s.arrived_at < ?) AND (l.at IS NULL OR l.at < ?)"
            " ORDER BY m.api_message_id LIMIT ?",
            (self.scope, after, run.id, run.cutoff, run.cutoff, run.cutoff, limit),
        )
        return [str(message_id) for (message_id,) in rows]

    def looked_up(
        self,
        run: RefreshRun,
        outcomes: Sequence[tuple[str, str]],
        updates: Sequence[StatusUpdate],
        now: float | None = None,
    ) -> None:
        """Record look-ups (message ID, outcome) of `run` and the statuses they found, in one
        transaction."""
        at = time.time() if now is None else now
        look, runs = self.table("delivery_lookups"), self.table("delivery_refreshes")
        with self._lock, self._guard("write"), self._transaction():
            if updates:
                self._run_many(self._insert_status, [_status_row(u) for u in updates])
            self._run_many(
                f"INSERT INTO {look} (api_message_id, run, at, outcome) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (api_message_id) DO UPDATE SET run = excluded.run,"
                " at = excluded.at, outcome = excluded.outcome",
                [(message_id, run.id, at, outcome) for message_id, outcome in outcomes],
            )
            self._run(
                f"UPDATE {runs} SET looked_up = looked_up + ? WHERE id = ?",
                (len(outcomes), run.id),
            )

    def finish_refresh(self, run: RefreshRun, now: float | None = None) -> None:
        with self._lock, self._guard("write"), self._transaction():
            self._run(
                f"UPDATE {self.table('delivery_refreshes')} SET finished_at = ? WHERE id = ?",
                (time.time() if now is None else now, run.id),
            )


def _unpack(location: str, blob: bytes, crc: int | None, what: str) -> list[Row]:
    """A packed list of journal rows, checked as the journal checks them."""
    if crc is None or zlib.crc32(blob) != crc:
        raise JournalDamagedError(f"{location} is damaged: {what} fails its checksum")
    try:
        return _decode_rows(blob)
    except msgspec.MsgspecError:
        raise JournalDamagedError(f"{location} is damaged: {what} does not decode") from None
