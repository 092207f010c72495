"""What the sandbox accepted: one record per (message, recipient), in memory or in SQLite.

Tests assert on what was "sent", so every accepted recipient becomes a `RecordedMessage` before
the answer leaves (and before a `drop-after-body` fault closes the connection). The memory store
is the default and the fastest; the SQLite store keeps records in a file that another process
(or a later run) can read.

Writes come from the server's event loop thread, reads from any thread, so both stores hold a
lock around every operation.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

__all__ = ["MemoryStore", "MessageStore", "RecordFormat", "RecordedMessage", "SQLiteStore"]

RecordFormat = Literal["json", "xml", "http"]


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """One accepted message to one recipient, as the sandbox read it.

    `to` is the number as answered (without a leading `+`); `from_` is the wire's `from`.
    `parts` is what was charged for; `format` says how it came (`json` or `xml` body of
    `POST /messages`, or `http` for the GET send). `received_at` is aware UTC.
    """

    api_message_id: str
    to: str
    content: str
    from_: str | None
    binary: bool
    client_message_id: str | None
    scheduled_delivery_time: str | None
    user_data_header: str | None
    validity_period: int | None
    charset: str
    parts: int
    format: RecordFormat
    request_id: str
    received_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The record with the API's field names, as `GET /_sandbox/messages` lists it."""
        return {
            "apiMessageId": self.api_message_id,
            "to": self.to,
            "content": self.content,
            "from": self.from_,
            "binary": self.binary,
            "clientMessageId": self.client_message_id,
            "scheduledDeliveryTime": self.scheduled_delivery_time,
            "userDataHeader": self.user_data_header,
            "validityPeriod": self.validity_period,
            "charset": self.charset,
            "parts": self.parts,
            "format": self.format,
            "requestId": self.request_id,
            "receivedAt": self.received_at.isoformat(),
        }


class MessageStore(Protocol):
    """Where records go. Implementations must be safe to call from several threads."""

    def add(self, records: Iterable[RecordedMessage]) -> None:
        """Keep these records (one request's accepted recipients), in order."""

    def all(self) -> list[RecordedMessage]:
        """Every record, oldest first."""

    def get(self, api_message_id: str) -> RecordedMessage | None:
        """One record by its ID, or None."""

    def clear(self) -> None:
        """Forget every record."""

    def close(self) -> None:
        """Release what the store holds open."""


class MemoryStore:
    """Records in a list, indexed by ID; gone when the sandbox stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RecordedMessage] = []
        self._by_id: dict[str, RecordedMessage] = {}

    def add(self, records: Iterable[RecordedMessage]) -> None:
        with self._lock:
            for record in records:
                self._records.append(record)
                self._by_id[record.api_message_id] = record

    def all(self) -> list[RecordedMessage]:
        with self._lock:
            return list(self._records)

    def get(self, api_message_id: str) -> RecordedMessage | None:
        with self._lock:
            return self._by_id.get(api_message_id)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._by_id.clear()

    def close(self) -> None:
        """Nothing to release."""


_COLUMNS = (
    "api_message_id",
    "to_number",
    "content",
    "from_number",
    "binary",
    "client_message_id",
    "scheduled_delivery_time",
    "user_data_header",
    "validity_period",
    "charset",
    "parts",
    "format",
    "request_id",
    "received_at",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    api_message_id TEXT NOT NULL UNIQUE,
    to_number TEXT NOT NULL,
    content TEXT NOT NULL,
    from_number TEXT,
    binary INTEGER NOT NULL,
    client_message_id TEXT,
    scheduled_delivery_time TEXT,
    user_data_header TEXT,
    validity_period INTEGER,
    charset TEXT NOT NULL,
    parts INTEGER NOT NULL,
    format TEXT NOT NULL,
    request_id TEXT NOT NULL,
    received_at TEXT NOT NULL
)
"""
_INSERT = (
    f"INSERT INTO messages ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM messages"


class SQLiteStore:
    """Records in an SQLite file (table `messages`), kept after the sandbox stops.

    Each request's records are committed before the answer is written, so a record is on disk
    even when the connection is then dropped on purpose. WAL mode lets another process read the
    file while the sandbox writes it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def add(self, records: Iterable[RecordedMessage]) -> None:
        rows = [_row(record) for record in records]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_INSERT, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def all(self) -> list[RecordedMessage]:
        with self._lock:
            rows = self._db.execute(_SELECT + " ORDER BY seq").fetchall()
        return [_record(row) for row in rows]

    def get(self, api_message_id: str) -> RecordedMessage | None:
        with self._lock:
            row = self._db.execute(
                _SELECT + " WHERE api_message_id = ?", (api_message_id,)
            ).fetchone()
        return None if row is None else _record(row)

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _row(record: RecordedMessage) -> tuple[object, ...]:
    return (
        record.api_message_id,
        record.to,
        record.content,
        record.from_,
        int(record.binary),
        record.client_message_id,
        record.scheduled_delivery_time,
        record.user_data_header,
        record.validity_period,
        record.charset,
        record.parts,
        record.format,
        record.request_id,
        record.received_at.isoformat(),
    )


def _record(row: tuple[Any, ...]) -> RecordedMessage:
    received = datetime.fromisoformat(row[13])
    return RecordedMessage(
        api_message_id=row[0],
        to=row[1],
        content=row[2],
        from_=row[3],
        binary=bool(row[4]),
        client_message_id=row[5],
        scheduled_delivery_time=row[6],
        user_data_header=row[7],
        validity_period=row[8],
        charset=row[9],
        parts=row[10],
        format=row[11],
        request_id=row[12],
        received_at=received if received.tzinfo else received.replace(tzinfo=UTC),
    )
