"""What the sandbox accepted: one record per (message, recipient), in memory or in SQLite.

Tests assert on what was "sent", so every accepted recipient becomes a `RecordedMessage` before
the answer leaves (and before a `drop-after-body` fault closes the connection). The memory store
is the default and the fastest; the SQLite store keeps records in a file that another process
(or a later run) can read; the temporary store keeps them in a file of its own that goes when
it closes, so that a sandbox taking millions of messages in one process (the one a command
starts for itself) holds none of them in memory.

Writes come from the server's event loop thread, reads from any thread, so both stores hold a
lock around every operation.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, Protocol

import msgspec
from clickatell_wire.tables import SEND_OPTIONS, Field

from .._sqlite import transaction

__all__ = [
    "MemoryStore",
    "MessageStore",
    "RecordFormat",
    "RecordedMessage",
    "SQLiteStore",
    "TemporaryStore",
]

RecordFormat = Literal["json", "xml", "http"]

_OPTIONS: Final[Mapping[str, Field]] = {f.name: f for f in SEND_OPTIONS}
_NOTHING: Final[Mapping[str, Any]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """One accepted message to one recipient, as the sandbox read it.

    `to` is the number as answered (without a leading `+`). `options` holds every optional field
    the request set, by its JSON name and as the wire had it; each is also an attribute by its
    Python name (`record.validity_period`, `record.from_`), with the spec's default when the
    request left it out, so a field added to the spec is recorded and readable with no change
    here. `parts` is what was charged for; `format` says how it came (`json` or `xml` body of
    `POST /messages`, or `http` for the GET send). `received_at` is aware UTC.

    `unknown` holds what the request carried that the spec does not name (JSON keys, XML
    elements, GET-send query parameters), by name and as sent. `notes` are the warnings the
    request's answer carried (`X-Sandbox-Warning`): each names an inferred rule the request broke
    and the default profile let through, so a test can see it relied on something the live API
    may refuse.
    """

    api_message_id: str
    to: str
    content: str
    options: Mapping[str, Any]
    parts: int
    format: RecordFormat
    request_id: str
    received_at: datetime
    unknown: Mapping[str, Any] = field(default_factory=lambda: _NOTHING)
    notes: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes: the spec's optional fields.
        option = _OPTIONS.get(name)
        if option is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.options.get(option.json_name, option.default)

    def to_json(self) -> dict[str, Any]:
        """The record with the API's field names, as `GET /_sandbox/messages` lists it."""
        return {
            "apiMessageId": self.api_message_id,
            "to": self.to,
            "content": self.content,
            **{f.json_name: self.options.get(f.json_name, f.default) for f in SEND_OPTIONS},
            "parts": self.parts,
            "format": self.format,
            "requestId": self.request_id,
            "receivedAt": self.received_at.isoformat(),
            "unknown": dict(self.unknown),
            "notes": list(self.notes),
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
    "options",
    "parts",
    "format",
    "request_id",
    "received_at",
    "unknown",
    "notes",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    api_message_id TEXT NOT NULL UNIQUE,
    to_number TEXT NOT NULL,
    content TEXT NOT NULL,
    options TEXT NOT NULL,  -- the request's optional fields, a JSON object by wire name
    parts INTEGER NOT NULL,
    format TEXT NOT NULL,
    request_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    unknown TEXT NOT NULL DEFAULT '{}',  -- fields the spec does not name, a JSON object
    notes TEXT NOT NULL DEFAULT '[]'  -- the answer's warnings, a JSON list
)
"""
# Files written before `unknown` and `notes` existed get them on opening.
_ADDED_COLUMNS = {
    "unknown": "ALTER TABLE messages ADD COLUMN unknown TEXT NOT NULL DEFAULT '{}'",
    "notes": "ALTER TABLE messages ADD COLUMN notes TEXT NOT NULL DEFAULT '[]'",
}
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
        present = {row[1] for row in self._db.execute("PRAGMA table_info(messages)")}
        for column, statement in _ADDED_COLUMNS.items():
            if column not in present:
                self._db.execute(statement)

    def add(self, records: Iterable[RecordedMessage]) -> None:
        rows = [_row(record) for record in records]
        if not rows:
            return
        with self._lock, transaction(self._db):
            self._db.executemany(_INSERT, rows)

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
        json.dumps(dict(record.options), sort_keys=True),
        record.parts,
        record.format,
        record.request_id,
        record.received_at.isoformat(),
        json.dumps(dict(record.unknown), sort_keys=True),
        json.dumps(list(record.notes)),
    )


def _record(row: tuple[Any, ...]) -> RecordedMessage:
    received = datetime.fromisoformat(row[7])
    return RecordedMessage(
        api_message_id=row[0],
        to=row[1],
        content=row[2],
        options=MappingProxyType(json.loads(row[3])),
        parts=row[4],
        format=row[5],
        request_id=row[6],
        received_at=received if received.tzinfo else received.replace(tzinfo=UTC),
        unknown=MappingProxyType(json.loads(row[8])),
        notes=tuple(json.loads(row[9])),
    )


# -- the temporary store ---------------------------------------------------------------------

_TEMPORARY_SCHEMA: Final = """
CREATE TABLE requests (
    seq INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    content TEXT NOT NULL,
    options TEXT NOT NULL,
    parts INTEGER NOT NULL,
    format TEXT NOT NULL,
    received_at TEXT NOT NULL,
    unknown TEXT NOT NULL,
    notes TEXT NOT NULL,
    recipients BLOB NOT NULL  -- msgpack: [[api_message_id, to], ...], in order
);
CREATE TABLE message_ids (
    key INTEGER NOT NULL,  -- a 64-bit hash of the message ID
    seq INTEGER NOT NULL,  -- the request that has it
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
"""
_REQUEST_COLUMNS: Final = (
    "request_id, content, options, parts, format, received_at, unknown, notes, recipients"
)
_INDEX_PAGE: Final = 200  # requests unpacked at a time while the index catches up
_pack_recipients = msgspec.msgpack.Encoder().encode
_unpack_recipients = msgspec.msgpack.Decoder(list[tuple[str, str]]).decode


class TemporaryStore:
    """Records in an SQLite file in a temporary folder of its own, deleted when it closes; in
    memory, only counts (`count`, `requests`).

    Made for a sandbox that may take millions of messages in one process, such as the one a
    command starts for itself: its memory stays flat however many it records. A request's
    recipients are stored as one row (its fields once, the recipients packed), so recording
    costs one insert per request rather than one per recipient. The index by message ID that
    `get` needs is built the first time `get` is called and brought up to date on each call,
    so a run that never looks a message up never pays for it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.folder = Path(tempfile.mkdtemp(prefix="clickatell-sandbox-"))
        self.path = self.folder / "records.sqlite"
        self.count = 0
        """Records kept."""
        self.requests = 0
        """Requests they came in."""
        self._indexed = 0  # requests (by seq) already in `message_ids`
        try:
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None
            )
            # A scratch file: no other reader, and nothing to recover after a crash.
            self._db.execute("PRAGMA journal_mode=MEMORY")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.executescript(_TEMPORARY_SCHEMA)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def add(self, records: Iterable[RecordedMessage]) -> None:
        groups = _by_request(records)
        if not groups:
            return
        rows = [(*_request_fields(first), _pack_recipients(pairs)) for first, pairs in groups]
        with self._lock:
            with transaction(self._db):
                self._db.executemany(
                    f"INSERT INTO requests ({_REQUEST_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            self.requests += len(rows)
            self.count += sum(len(pairs) for _, pairs in groups)

    def all(self) -> list[RecordedMessage]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests ORDER BY seq"
            ).fetchall()
        return [record for row in rows for record in _records_of(row)]

    def get(self, api_message_id: str) -> RecordedMessage | None:
        with self._lock:
            self._catch_up_index()
            found = self._db.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE seq IN"
                " (SELECT seq FROM message_ids WHERE key = ?) ORDER BY seq",
                (_id_key(api_message_id),),
            ).fetchall()
        for row in found:
            for record in _records_of(row):
                if record.api_message_id == api_message_id:
                    return record
        return None

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM requests")
            self._db.execute("DELETE FROM message_ids")
            self.count = self.requests = self._indexed = 0

    def close(self) -> None:
        """Close the file and delete its folder (idempotent)."""
        with self._lock:
            self._db.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> TemporaryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _catch_up_index(self) -> None:
        """Index the requests recorded since the last look-up, a page at a time."""
        while True:
            page = self._db.execute(
                "SELECT seq, recipients FROM requests WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._indexed, _INDEX_PAGE),
            ).fetchall()
            if not page:
                return
            keys = sorted(  # in key order: each page of the index is written once
                (_id_key(message_id), seq)
                for seq, packed in page
                for message_id, _ in _unpack_recipients(packed)
            )
            with transaction(self._db):
                self._db.executemany("INSERT OR IGNORE INTO message_ids VALUES (?, ?)", keys)
            self._indexed = page[-1][0]


def _by_request(
    records: Iterable[RecordedMessage],
) -> list[tuple[RecordedMessage, list[tuple[str, str]]]]:
    """Consecutive records that share their request's fields, as (the first, [(id, to)...])."""
    groups: list[tuple[RecordedMessage, list[tuple[str, str]]]] = []
    for record in records:
        if not groups or not _same_request(groups[-1][0], record):
            groups.append((record, []))
        groups[-1][1].append((record.api_message_id, record.to))
    return groups


def _same_request(a: RecordedMessage, b: RecordedMessage) -> bool:
    return (
        a.request_id == b.request_id
        and a.content == b.content
        and a.options == b.options
        and a.parts == b.parts
        and a.format == b.format
        and a.received_at == b.received_at
        and a.unknown == b.unknown
        and a.notes == b.notes
    )


def _request_fields(record: RecordedMessage) -> tuple[object, ...]:
    return (
        record.request_id,
        record.content,
        json.dumps(dict(record.options), sort_keys=True),
        record.parts,
        record.format,
        record.received_at.isoformat(),
        json.dumps(dict(record.unknown), sort_keys=True),
        json.dumps(list(record.notes)),
    )


def _records_of(row: tuple[Any, ...]) -> list[RecordedMessage]:
    request_id, content, options, parts, fmt, received, unknown, notes, packed = row
    moment = datetime.fromisoformat(received)
    shared = {
        "content": content,
        "options": MappingProxyType(json.loads(options)),
        "parts": parts,
        "format": fmt,
        "request_id": request_id,
        "received_at": moment if moment.tzinfo else moment.replace(tzinfo=UTC),
        "unknown": MappingProxyType(json.loads(unknown)),
        "notes": tuple(json.loads(notes)),
    }
    return [
        RecordedMessage(api_message_id=message_id, to=to, **shared)
        for message_id, to in _unpack_recipients(packed)
    ]


def _id_key(api_message_id: str) -> int:
    digest = hashlib.blake2b(api_message_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
