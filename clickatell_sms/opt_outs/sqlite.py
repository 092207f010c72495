"""The opt-out store in one SQLite file: the default, in the user's data folder.

`listen` writes replies into it while `bulk` reads it, each its own process: WAL mode lets the
reader read while the writer writes, and each check of a batch reads what was committed before
it. Commits are fsynced (`synchronous=FULL`): a reply was acknowledged to Clickatell once kept,
so a power cut must not lose it, and replies are few enough for that to cost nothing. The file
holds numbers and the texts people sent, so it is made readable by its owner only.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from .._sqlite import transaction
from .store import OptOutStoreError, SQLOptOuts

__all__ = ["SQLiteOptOuts"]

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS opt_outs (
    number TEXT PRIMARY KEY,            -- international digits, as sends normalise them
    opted_out INTEGER NOT NULL,         -- 1 out, 0 back in
    changed_at REAL NOT NULL,           -- when (the reply's own time, when it has one)
    keyword TEXT,
    reply_message_id TEXT,
    source TEXT NOT NULL,               -- reply, manual, import
    recorded_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS opt_out_changes (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    opted_out INTEGER NOT NULL,
    changed_at REAL NOT NULL,
    keyword TEXT,
    reply_message_id TEXT,
    source TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    applied INTEGER NOT NULL            -- 0: older than the number's latest change
);
CREATE TABLE IF NOT EXISTS opt_out_replies (
    id INTEGER PRIMARY KEY,
    reply_message_id TEXT UNIQUE,
    api_message_id TEXT,
    from_number TEXT,
    number TEXT,
    to_number TEXT,
    text TEXT,
    keyword TEXT,
    action TEXT,                        -- opt-out, opt-in, or NULL for an ordinary reply
    sent_at REAL NOT NULL,
    received_at REAL NOT NULL
);
"""
_BUSY_MS: Final = 30_000


class SQLiteOptOuts(SQLOptOuts):
    """The store in the SQLite file at `path` (made, with its tables, if missing; its folder
    must exist). Safe to share between threads, and between processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        super().__init__(str(self.path))
        self._db = _open(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with transaction(self._db):
            yield

    def _failures(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error, OSError)

    def _any_of(self, count: int) -> str:
        return f"number IN ({', '.join('?' * count)})"

    def _list_parameter(self, numbers: Sequence[str]) -> Sequence[Any]:
        return numbers


def _open(path: Path) -> sqlite3.Connection:
    if path.is_dir():
        raise OptOutStoreError(f"{path} is a folder; name the opt-out store's file")
    if not path.parent.is_dir():
        raise OptOutStoreError(f"{path}: its folder {path.parent} does not exist")
    try:
        # Made by us, for its owner only, before SQLite makes it readable to everyone.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(
            path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise OptOutStoreError(f"{path}: cannot open the opt-out store: {exc}") from None
    try:
        db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        with transaction(db):
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
    except sqlite3.Error as exc:
        db.close()
        raise OptOutStoreError(f"{path}: not an opt-out store ({exc})") from None
    return db
