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

from ._delivery_base import DeliveryStore
from .journal import JournalError

__all__ = ["DDL", "SQLiteDelivery"]

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
);
CREATE INDEX IF NOT EXISTS delivery_messages_api
    ON delivery_messages (campaign_id, api_message_id);
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
"""


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

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def _execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")  # the write lock now, not half-way through
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

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
