"""A journal's private scratch space: a temporary SQLite database on local disk.

Whatever store holds the journal (a file, a PostgreSQL database), a run needs two things it
must not keep in memory: the settled rows of earlier runs in input order (a resume replays them
row by row), and the set of recipients already sent (repeats). Both are per run and rebuilt on
resume, so they live here, in a temporary database of their own that SQLite deletes on close.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from .._sqlite import transaction
from .journal import JournalRow, Row

__all__ = ["Scratch"]

_SCHEMA: Final = """
CREATE TABLE seen (
    run INTEGER NOT NULL,
    key INTEGER NOT NULL,
    row INTEGER NOT NULL,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE settled (
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
    "INSERT OR REPLACE INTO settled (position, row, to_input, number, dedupe_key, status,"
    " api_message_id, error_code, error, description, duplicate_of, client_message_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_SETTLED: Final = (
    "SELECT position, row, to_input, number, status, api_message_id, error_code, error,"
    " description, duplicate_of, client_message_id FROM settled"
    " WHERE position > ? ORDER BY position LIMIT ?"
)
_SEEN_IN_MEMORY: Final = 20_000  # keys kept in memory before they go to the table
_RUNS_STEP: Final = 16  # see Scratch._search
_BLOOM_BITS: Final = 1 << 25  # 4 MiB: a false "maybe" for about 1 key in 300 at a million keys
_BLOOM_MASK: Final = _BLOOM_BITS - 1


class Scratch:
    """Settled rows by input position, and which dedupe keys were sent, exactly, in memory that
    does not grow with the campaign. Not thread-safe: the journal calls it under its lock.

    Keys: the newest sit in a dict; every `_SEEN_IN_MEMORY` of them go, sorted, into a new run
    of `seen` (appending sorted rows is cheap; inserting random keys into one big index cost
    more than the rest of the journal). A fixed-size Bloom filter answers "certainly not seen"
    for almost every key, so the runs are only searched for repeats and rare false alarms.
    """

    __slots__ = ("_bloom", "_db", "_recent", "_runs")

    def __init__(self) -> None:
        # "" is a private temporary database on disk, deleted when closed.
        self._db = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._recent: dict[int, int] = {}
        self._runs = 0
        self._bloom = _Bloom()

    def close(self) -> None:
        self._db.close()

    # -- repeats ------------------------------------------------------------------------------

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
        with transaction(self._db):
            self._db.executemany(  # a generator: no second copy of the keys in memory
                "INSERT OR IGNORE INTO seen (run, key, row) VALUES (?, ?, ?)",
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
            f"SELECT MIN(row) FROM seen WHERE run IN ({runs}) AND key = ?", (key,)
        ).fetchone()
        return None if hit is None or hit[0] is None else int(hit[0])

    # -- settled rows -------------------------------------------------------------------------

    def fill(self, batches: Iterable[tuple[str | None, Sequence[Row]]]) -> None:
        """Replace the settled rows with these: (client message ID or None, rows) per batch or
        chunk of loose rows, in any order; a later row at the same position wins."""
        db = self._db
        with transaction(db):
            db.execute("DELETE FROM settled")
            for cmid, rows in batches:
                db.executemany(_INSERT_SETTLED, [(*row, cmid) for row in rows])

    def iter_rows(self, chunk: int) -> Iterator[JournalRow]:
        """The settled rows in input order, a page at a time. The caller's `lock` guards each
        page's query (the journal's, shared with the sending threads)."""
        last = -1
        while True:
            page = self._db.execute(_SELECT_SETTLED, (last, chunk)).fetchall()
            if not page:
                return
            for values in page:
                yield JournalRow(*values)
            last = page[-1][0]

    def load_seen_from_settled(self) -> None:
        """Start the repeats again from the settled rows of a resumed run, as one run."""
        db = self._db
        with transaction(db):
            db.execute("DELETE FROM seen")
            db.execute(
                "INSERT INTO seen (run, key, row) SELECT 0, dedupe_key, MIN(row)"
                " FROM settled WHERE dedupe_key IS NOT NULL AND duplicate_of IS NULL"
                " GROUP BY dedupe_key"
            )
        self._recent.clear()
        self._runs = 1
        self._bloom = _Bloom()
        self._bloom.add(key for (key,) in db.execute("SELECT key FROM seen"))


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
