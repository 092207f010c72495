"""The delivery tables in a journal file (see `delivery`): the campaign sent from one host.

The listener, the report and the bulk run each open the file with a connection of their own.
WAL mode lets them read while one writes, and writes wait for each other (a busy timeout), so
none of them takes the bulk run's lock: `listen --journal` may run before, during and after
`bulk` on the same file. A file that does not exist yet is made (readable by its owner only,
as the journal is), with the delivery tables alone; `bulk` adds its campaign to it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from .._sqlite import transaction
from ._delivery_base import DeliveryStore
from .journal import JournalError

__all__ = ["DDL", "SQLiteDelivery"]

# The campaign's rows by message ID, with what the report reads of them: the report joins them
# to their statuses in this order, so that each look-up in `delivery_status` (keyed by the
# same IDs, which Clickatell draws at random) lands beside the previous one instead of
# anywhere in a table too large to cache (5 s for a million rows, rather than 1).
_REPORT_INDEX: Final = (
    "CREATE INDEX IF NOT EXISTS delivery_messages_report ON delivery_messages"
    " (campaign_id, api_message_id, outcome, error_code, error, sent_at)"
)

DDL: Final = """
CREATE TABLE IF NOT EXISTS delivery_status (
    api_message_id TEXT PRIMARY KEY,
    client_message_id TEXT,
    number TEXT,
    status_code INTEGER,
    status TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL,
    final INTEGER NOT NULL,
    status_at REAL,       -- the time the status carries (None: it carried none)
    arrived_at REAL NOT NULL,
    gateway_at REAL,      -- the earliest status that showed the message at the gateway
    via TEXT NOT NULL     -- callback or lookup
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS delivery_messages (
    campaign_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    position INTEGER NOT NULL,
    row INTEGER NOT NULL,
    to_input TEXT NOT NULL,
    number TEXT,
    outcome TEXT NOT NULL,  -- the API's answer: accepted, rejected, failed (not sent), unknown
    api_message_id TEXT,
    client_message_id TEXT,
    error_code INTEGER,
    error TEXT,
    description TEXT,
    duplicate_of INTEGER,
    source TEXT NOT NULL,   -- the batch (b<shard>.<id>) or loose chunk (l<id>) it came from
    sent_at REAL,           -- when the API answered its request
    written_at REAL NOT NULL,
    PRIMARY KEY (campaign_id, shard, position)
) WITHOUT ROWID;
DROP INDEX IF EXISTS delivery_messages_api;  -- (files made before the one below replaced it)
{report_index};
CREATE TABLE IF NOT EXISTS delivery_sources (
    campaign_id TEXT NOT NULL,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (campaign_id, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS delivery_refreshes (
    id INTEGER PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    cutoff REAL NOT NULL,
    finished_at REAL,
    looked_up INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS delivery_lookups (
    api_message_id TEXT PRIMARY KEY,
    run INTEGER NOT NULL,
    at REAL NOT NULL,
    outcome TEXT NOT NULL
) WITHOUT ROWID;
""".replace("{report_index}", _REPORT_INDEX)


class SQLiteDelivery(DeliveryStore):
    """The delivery tables of one journal file."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        super().__init__(str(path), None)
        self.path = path
        self._db = db

    @classmethod
    def open(cls, path: Path) -> SQLiteDelivery:
        """The tables in the file at `path`, made (file and tables) if missing."""
        if not path.exists():
            try:
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError as exc:
                raise JournalError(f"{path}: cannot create the journal: {exc}") from None
        try:
            db = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=30
            )
        except sqlite3.Error as exc:
            raise JournalError(f"{path}: cannot open the journal: {exc}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # Fold the log back into the file every 40 MB rather than 4: a listener commits a
            # page or two per callback, and each fold costs it two fsyncs.
            db.execute("PRAGMA wal_autocheckpoint=10000")
            db.executescript(DDL)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise JournalError(f"{path} is not a journal SQLite can open ({exc})") from None
        return cls(path, db)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    def campaign_id(self) -> str | None:
        """The campaign the file holds (None until `bulk` has written one)."""
        if not self._has_journal():
            return None
        found = self.query("SELECT value FROM meta WHERE key = 'campaign_id'")
        return str(found[0][0]) if found else None

    # -- DeliveryStore's hooks -------------------------------------------------------------

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        return transaction(self._db, "BEGIN IMMEDIATE")  # the write lock now, not half-way

    @contextlib.contextmanager
    def _indexing_in_bulk(self) -> Iterator[None]:
        """Without the report's index while many rows go in, then that index made again in one
        sort: inserting a million IDs drawn at random into it costs ten times as much. Made
        again even if indexing stops half-way (and, if this process dies first, by the next
        `open`); meanwhile the tables are whole, and only slower to search."""
        with self._lock, self._guard("write"):
            self._db.execute("DROP INDEX IF EXISTS delivery_messages_report")
        try:
            yield
        finally:
            with self._lock, self._guard("write"):
                self._db.execute(_REPORT_INDEX)

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._lock, self._guard("read"):
            cursor = self._db.cursor()
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(1000):
                yield from rows

    def _failures(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _journal_scope(self) -> tuple[str, tuple[Any, ...]]:
        return "1 = 1", ()

    def _has_journal(self) -> bool:
        found = self.query(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
            " AND name IN ('meta', 'batches', 'loose')"
        )
        return bool(found) and int(found[0][0]) == 3
