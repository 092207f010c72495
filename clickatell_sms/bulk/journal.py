"""The bulk journal: one SQLite file (WAL) that remembers every batch before it is sent.

A bulk run that dies half-way must be resumable without sending anyone the same message twice,
and `POST /messages` cannot be asked "did you get that?" afterwards. So every batch is written
here, with its recipients, *before* its request exists, and its outcome after the answer:

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

Layout, chosen for speed: a batch's recipients are packed (msgpack) into its own row, first as
members, then as final results, so journalling 200 recipients costs two small row writes and
three commits, not 200 row inserts (which measured slower than sending them). Rows settled
without a request (bad rows, repeats) are packed in chunks into `loose`. A resumed run unpacks
everything once into a temporary table ordered by input position (`iter_rows`).

Repeats: each recipient has a 64-bit key (number and message) and `remember`/`recall` answer
"was this sent already?". The most recent keys are kept in memory (a bounded buffer), older ones
in a temporary table of the same connection, so memory does not grow with the campaign; a
resumed run rebuilds them from the journal.

Durability: WAL with `synchronous=NORMAL` survives the process being killed (the case this
journal is for) but not an operating-system crash or power cut, which can lose the last commits;
`sync="full"` fsyncs every commit as well.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, NamedTuple

import msgspec

__all__ = [
    "BatchState",
    "Journal",
    "JournalError",
    "JournalRow",
    "Member",
    "Row",
    "RowStatus",
    "UnknownBatch",
]

SCHEMA_VERSION: Final = "1"

BatchState = Literal["pending", "sending", "answered", "refused", "failed", "unknown", "superseded"]
RowStatus = Literal["accepted", "rejected", "failed", "unknown"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    client_message_id TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,
    members BLOB,
    results BLOB,
    error_code INTEGER,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_state ON batches (state);
CREATE TABLE IF NOT EXISTS loose (
    id INTEGER PRIMARY KEY,
    rows BLOB NOT NULL,
    created_at REAL NOT NULL
);
"""
_TEMP_SCHEMA: Final = """
CREATE TEMP TABLE IF NOT EXISTS seen (
    run INTEGER NOT NULL,
    key INTEGER NOT NULL,
    row INTEGER NOT NULL,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
"""
_SETTLED: Final = """
DROP TABLE IF EXISTS temp.settled;
CREATE TEMP TABLE settled (
    position INTEGER PRIMARY KEY,
    row INTEGER NOT NULL,
    to_input TEXT NOT NULL,
    number TEXT,
    dedupe_key INTEGER,
    status TEXT NOT NULL,
    api_message_id TEXT,
    error_code INTEGER,
    error TEXT,
    description TEXT,
    duplicate_of INTEGER,
    client_message_id TEXT
);
"""
_INSERT_SETTLED: Final = (
    "INSERT OR REPLACE INTO temp.settled (position, row, to_input, number, dedupe_key, status,"
    " api_message_id, error_code, error, description, duplicate_of, client_message_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_SETTLED: Final = (
    "SELECT position, row, to_input, number, status, api_message_id, error_code, error,"
    " description, duplicate_of, client_message_id FROM temp.settled"
    " WHERE position > ? ORDER BY position LIMIT ?"
)
_KEY_CHUNK: Final = 500  # below SQLite's default limit of bound variables
_SEEN_IN_MEMORY: Final = 20_000  # keys kept in memory before they go to the temporary table
_RUNS_STEP: Final = 16  # see _Seen._search
_BLOOM_BITS: Final = 1 << 25  # 4 MiB: a false "maybe" for about 1 key in 300 at a million keys
_BLOOM_MASK: Final = _BLOOM_BITS - 1
_STOPPED_SENDING: Final = "the run stopped while this request was being sent; it may have been sent"


class JournalError(Exception):
    """The journal cannot be used as asked: it exists already, is missing, or is another run's."""


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


_pack = msgspec.msgpack.Encoder().encode
_unpack_members = msgspec.msgpack.Decoder(list[Member]).decode
_unpack_rows = msgspec.msgpack.Decoder(list[Row]).decode


class Journal:
    """One bulk campaign's journal file; safe to share between the sending threads.

    Use `Journal.create` for a new campaign (refused if the file already holds one, so that
    running the same command twice cannot send the campaign twice) or `Journal.resume` to
    continue one (refused if the campaign's identity differs, e.g. another message text).
    """

    def __init__(
        self, path: Path, db: sqlite3.Connection, campaign_id: str, temporary: bool
    ) -> None:
        self.path = path
        self.campaign_id = campaign_id
        self.temporary = temporary
        self._db = db
        self._lock = threading.Lock()
        self._closed = False
        db.executescript(_TEMP_SCHEMA)
        self._seen = _Seen(db)

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        identity: Mapping[str, str],
        *,
        sync: Literal["normal", "full"] = "normal",
        temporary: bool = False,
    ) -> Journal:
        """A new journal at `path` for the campaign described by `identity`."""
        file = Path(path)
        if file.exists() and file.stat().st_size > 0:
            raise JournalError(
                f"{file} exists already: continue that run with --resume {file} (resume=True),"
                " or choose another journal file"
            )
        db = _connect(file, sync)
        campaign_id = uuid.uuid4().hex[:12]
        db.executescript(_SCHEMA)
        meta = {
            "schema": SCHEMA_VERSION,
            "campaign_id": campaign_id,
            "identity": json.dumps(dict(identity), sort_keys=True),
            "created_at": str(time.time()),
        }
        with _transaction(db):
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        return cls(file, db, campaign_id, temporary)

    @classmethod
    def resume(
        cls,
        path: str | Path,
        identity: Mapping[str, str] | None,
        *,
        sync: Literal["normal", "full"] = "normal",
    ) -> Journal:
        """The existing journal at `path`, checked to belong to the campaign `identity` names
        (None: not checked, to read a journal)."""
        file = Path(path)
        if not file.is_file():
            raise JournalError(f"{file}: no such journal to resume")
        try:
            db = _connect(file, sync)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{file} is not a bulk journal ({exc})") from None
        if meta.get("schema") != SCHEMA_VERSION:
            db.close()
            raise JournalError(
                f"{file} has journal schema {meta.get('schema')!r}; this version reads"
                f" {SCHEMA_VERSION!r}"
            )
        if identity is not None:
            recorded: dict[str, str] = json.loads(meta["identity"])
            differs = sorted(
                key
                for key in set(recorded) | set(identity)
                if recorded.get(key) != identity.get(key)
            )
            if differs:
                db.close()
                raise JournalError(
                    f"{file} records another campaign: {', '.join(differs)} differ(s) from the"
                    " journalled run; resume with the same input, message and options"
                )
        return cls(file, db, meta["campaign_id"], False)

    def close(self) -> None:
        """Close the file (and delete it when it was a temporary journal)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
        if self.temporary:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()  # the private folder it was made in

    # -- the reader: batches and settled rows, before anything is sent -----------------------

    def next_batch_id(self) -> int:
        """The id the next batch gets (ids keep increasing across resumed runs)."""
        with self._lock:
            (last,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM batches").fetchone()
        return int(last) + 1

    def add(
        self,
        batch: tuple[int, str, str] | None,
        members: Sequence[Member],
        loose: Sequence[Row] = (),
    ) -> None:
        """Journal a batch `(id, client_message_id, content)` as pending with its `members`,
        and rows settled without a request (`loose`), in one transaction."""
        now = time.time()
        with self._lock, _transaction(self._db) as db:
            if batch is not None:
                db.execute(
                    "INSERT INTO batches (id, client_message_id, content, size, state,"
                    " members, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                    (*batch, len(members), _pack(members), now, now),
                )
            if loose:
                db.execute(
                    "INSERT INTO loose (rows, created_at) VALUES (?, ?)", (_pack(loose), now)
                )

    # -- repeats ------------------------------------------------------------------------------

    def remember(self, keys: Iterable[tuple[int, int]]) -> None:
        """Note recipients (dedupe key, row) that have had their message, or may have."""
        with self._lock:
            self._seen.add(keys)

    def recall(self, keys: Sequence[int]) -> dict[int, int]:
        """Of these keys, those remembered (key -> the row that had the message first)."""
        with self._lock:
            return self._seen.find(keys)

    # -- the senders --------------------------------------------------------------------------

    def mark_sending(self, batch_id: int) -> None:
        """Committed immediately before the request: from here on, a crash means 'unknown'."""
        with self._lock:
            self._db.execute(
                "UPDATE batches SET state = 'sending', updated_at = ? WHERE id = ?",
                (time.time(), batch_id),
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
        """The batch's outcome and each recipient's final status, in one write."""
        packed = _pack(rows)
        with self._lock:
            self._db.execute(
                "UPDATE batches SET state = ?, members = NULL, results = ?, error_code = ?,"
                " error = ?, updated_at = ? WHERE id = ?",
                (state, packed, error_code, error, time.time(), batch_id),
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
        chosen = None if isinstance(resend_unknown, bool) else set(resend_unknown)
        with self._lock:
            with _transaction(self._db) as db:
                caught = db.execute(
                    "SELECT id, members FROM batches WHERE state = 'sending'"
                ).fetchall()
                for batch_id, members in caught:
                    rows = [
                        m.settled("unknown", error="outcome unknown", description=_STOPPED_SENDING)
                        for m in _unpack_members(members)
                    ]
                    db.execute(
                        "UPDATE batches SET state = 'unknown', members = NULL, results = ?,"
                        " error = ?, updated_at = ? WHERE id = ?",
                        (_pack(rows), _STOPPED_SENDING, now, batch_id),
                    )
                unknown = dict(
                    db.execute(
                        "SELECT client_message_id, id FROM batches WHERE state = 'unknown'"
                    ).fetchall()
                )
                if chosen is not None and chosen - set(unknown):
                    raise JournalError(
                        "not an unknown request of this journal: "
                        + ", ".join(sorted(chosen - set(unknown)))
                    )
                resend = (
                    list(unknown.values())
                    if resend_unknown is True
                    else [unknown[cmid] for cmid in sorted(chosen or ())]
                )
                db.executemany(
                    "UPDATE batches SET state = 'superseded', updated_at = ? WHERE id = ?",
                    [(now, batch_id) for batch_id in resend],
                )
                db.execute(
                    "UPDATE batches SET state = 'superseded', updated_at = ?"
                    " WHERE state IN ('pending', 'refused', 'failed')",
                    (now,),
                )
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('resumed_at', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(now),),
                )
            codes = frozenset(retry_codes)

            def settled(row: Row) -> bool:
                """Not a row that failed, or was refused with one of `retry_codes`: those
                were not sent, so they are read again and sent."""
                return row.status != "failed" and not (
                    row.status == "rejected" and row.error_code in codes
                )

            self._fill_settled("state IN ('answered', 'unknown')", settled)
            self._seen.load_settled()
        return self.unknown_batches()

    def _fill_settled(self, batches: str, keep: Callable[[Row], bool] | None = None) -> None:
        """Unpack the rows of the batches matching `batches` (an SQL condition) and the loose
        rows into `temp.settled`, by position, in one transaction; `keep` picks the rows.
        Rows of a batch caught `sending` are `unknown`; batches without results are skipped.
        The caller holds the lock."""
        db = self._db
        db.executescript(_SETTLED)
        with _transaction(db):
            reader = db.cursor()  # streams: one packed batch in memory at a time
            for state, cmid, results, members in reader.execute(
                f"SELECT state, client_message_id, results, members FROM batches WHERE {batches}"
                " ORDER BY id"
            ):
                if state == "sending":
                    rows = [m.settled("unknown") for m in _unpack_members(members)]
                elif results is None:
                    continue
                else:
                    rows = _unpack_rows(results)
                db.executemany(
                    _INSERT_SETTLED, [(*row, cmid) for row in rows if keep is None or keep(row)]
                )
            for (packed,) in reader.execute("SELECT rows FROM loose ORDER BY id"):
                db.executemany(
                    _INSERT_SETTLED,
                    [(*row, None) for row in _unpack_rows(packed) if keep is None or keep(row)],
                )

    def unknown_batches(self) -> list[UnknownBatch]:
        """Every request whose outcome is unknown, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT client_message_id, size, content FROM batches WHERE state = 'unknown'"
                " ORDER BY id"
            ).fetchall()
        return [UnknownBatch(cmid, size, content) for cmid, size, content in rows]

    def iter_rows(self, chunk: int = 2000) -> Iterator[JournalRow]:
        """Every settled row in input order, a page at a time (after `prepare_resume`, or
        `read_all` for a journal opened only to be read)."""
        last = -1
        while True:
            with self._lock:
                page = self._db.execute(_SELECT_SETTLED, (last, chunk)).fetchall()
            if not page:
                return
            for values in page:
                yield JournalRow(*values)
            last = page[-1][0]

    def read_all(self) -> Iterator[JournalRow]:
        """Every journalled row, settled or not, in input order, without changing the file.

        Rows of batches caught `sending` are reported `unknown`, those of pending batches are
        left out (nothing was sent), and failed rows are included.
        """
        with self._lock:
            self._fill_settled("state != 'superseded'")
        return self.iter_rows()

    def batch_states(self) -> dict[str, int]:
        """Batches per state."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM batches GROUP BY state").fetchall()
        return {state: int(count) for state, count in rows}


class _Seen:
    """Which dedupe keys were sent, exactly, in memory that does not grow with the campaign.

    The newest keys sit in a dict; every `_SEEN_IN_MEMORY` of them go, sorted, into a new run
    of `temp.seen` (appending sorted rows is cheap; inserting random keys into one big index
    cost more than the rest of the journal). A fixed-size Bloom filter answers "certainly not
    seen" for almost every key, so the runs are only searched for repeats and rare false
    alarms. The journal calls it with its lock held.
    """

    __slots__ = ("_bloom", "_db", "_recent", "_runs")

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._recent: dict[int, int] = {}
        self._runs = 0
        self._bloom = _Bloom()

    def add(self, keys: Iterable[tuple[int, int]]) -> None:
        pairs = list(keys)
        recent = self._recent
        for key, row in pairs:
            recent.setdefault(key, row)
        self._bloom.add(key for key, _ in pairs)
        if len(recent) >= _SEEN_IN_MEMORY:
            self._spill()

    def _spill(self) -> None:
        run = self._runs
        recent = self._recent
        with _transaction(self._db) as db:
            db.executemany(  # a generator: no second copy of the keys in memory
                "INSERT OR IGNORE INTO temp.seen (run, key, row) VALUES (?, ?, ?)",
                ((run, key, recent[key]) for key in sorted(recent)),
            )
        self._runs += 1
        self._recent.clear()

    def find(self, keys: Sequence[int]) -> dict[int, int]:
        recent = self._recent
        found: dict[int, int] = {}
        for key in self._bloom.maybe(keys):
            row = recent.get(key)
            if row is None and self._runs:
                row = self._search(key)
            if row is not None:
                found[key] = row
        return found

    def _search(self, key: int) -> int | None:
        # Each distinct statement stays in the connection's statement cache (about 9 KiB each,
        # up to 128 of them): rounding the run count up to a multiple of `_RUNS_STEP` keeps
        # that to a few statements however long the campaign. Runs not written yet are empty.
        upto = -(-self._runs // _RUNS_STEP) * _RUNS_STEP
        runs = ", ".join(str(run) for run in range(upto))
        hit = self._db.execute(
            f"SELECT MIN(row) FROM temp.seen WHERE run IN ({runs}) AND key = ?", (key,)
        ).fetchone()
        return None if hit is None or hit[0] is None else int(hit[0])

    def load_settled(self) -> None:
        """Start again from the settled rows of a resumed run (`temp.settled`), as one run."""
        db = self._db
        db.execute("DELETE FROM temp.seen")
        db.execute(
            "INSERT INTO temp.seen (run, key, row) SELECT 0, dedupe_key, MIN(row)"
            " FROM temp.settled WHERE dedupe_key IS NOT NULL AND duplicate_of IS NULL"
            " GROUP BY dedupe_key"
        )
        self._recent.clear()
        self._runs = 1
        self._bloom = _Bloom()
        self._bloom.add(key for (key,) in db.execute("SELECT key FROM temp.seen"))


class _Bloom:
    """A fixed-size Bloom filter of 64-bit keys, two bits each (from the key's two halves: the
    keys are hashes already)."""

    __slots__ = ("_bits",)

    def __init__(self) -> None:
        self._bits = bytearray(_BLOOM_BITS // 8)

    def add(self, keys: Iterable[int]) -> None:
        bits = self._bits
        for key in keys:
            first = key & _BLOOM_MASK
            second = (key >> 32) & _BLOOM_MASK
            bits[first >> 3] |= 1 << (first & 7)
            bits[second >> 3] |= 1 << (second & 7)

    def maybe(self, keys: Iterable[int]) -> Iterator[int]:
        """The keys that may have been added: all that were, and a few that were not."""
        bits = self._bits
        for key in keys:
            first = key & _BLOOM_MASK
            if not bits[first >> 3] & (1 << (first & 7)):
                continue
            second = (key >> 32) & _BLOOM_MASK
            if bits[second >> 3] & (1 << (second & 7)):
                yield key


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN ... COMMIT on a connection in autocommit mode, rolled back if the body raises."""
    db.execute("BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _connect(path: Path, sync: Literal["normal", "full"]) -> sqlite3.Connection:
    if sync not in ("normal", "full"):
        raise ValueError(f"journal sync must be 'normal' or 'full', not {sync!r}")
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        db.close()
        raise JournalError(f"{path}: SQLite could not switch the journal to WAL mode ({mode})")
    db.execute(f"PRAGMA synchronous={sync.upper()}")
    return db
