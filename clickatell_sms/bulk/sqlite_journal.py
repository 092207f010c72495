"""The SQLite journal: one campaign in one file, for a campaign sent from one host.

WAL mode, because writes from the sending threads must not wait on each other's fsyncs; and
three guards around the file, because a journal that is wrong is worse than none:

* **One writer.** The file is locked (`flock`) while a run has it open: a second process
  resuming the same journal is refused at once (`JournalBusyError`), instead of meeting "database
  is locked" or sending batches the first one is sending.
* **Whole on every stop we control.** While a run is open, the main file says so (meta `state` =
  `open`, checkpointed into the file itself); closing (the end, an error, Ctrl-C) folds the
  write-ahead log back into the file and marks it `closed`, so the journal is one file again.
  Only a run killed outright leaves its latest state in `FILE-wal`; a copy of `FILE` without it
  would silently forget the last batches, so `resume` refuses a journal marked `open` whose log
  is missing, and says so.
* **Checked when opened.** `PRAGMA integrity_check` on resume, and every packed value has a CRC
  (see `_journal_base`): a damaged journal is refused with `JournalDamagedError`, naming the
  file, instead of a decoder's traceback.

Durability: WAL with `synchronous=NORMAL` survives the process being killed (the case this
journal is for) but not an operating-system crash or power cut, which can lose the last commits;
`sync="full"` fsyncs every commit as well.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

from .._sqlite import transaction
from ._account import AccountKey, new_salt
from ._journal_base import DAMAGED_ADVICE, PackedJournal
from .journal import JournalBusyError, JournalDamagedError, JournalError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one writer is then up to the user
    fcntl = None  # type: ignore[assignment]

__all__ = ["SCHEMA_VERSION", "SQLiteJournal"]

logger = logging.getLogger("clickatell_sms.bulk")

SCHEMA_VERSION: Final = "2"  # 2: CRC-32 of every packed value; the open/closed marker

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
    members_crc INTEGER,
    results BLOB,
    results_crc INTEGER,
    error_code INTEGER,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_state ON batches (state);
CREATE TABLE IF NOT EXISTS loose (
    id INTEGER PRIMARY KEY,
    rows BLOB NOT NULL,
    rows_crc INTEGER NOT NULL,
    created_at REAL NOT NULL
);
"""


class SQLiteJournal(PackedJournal):
    """One bulk campaign's journal file; safe to share between the sending threads.

    Use `create` for a new campaign (refused if the file already holds one, so that running the
    same command twice cannot send the campaign twice) or `resume` to continue one (refused if
    the campaign's identity differs, e.g. another message text).
    """

    def __init__(
        self, path: Path, db: sqlite3.Connection, lock_fd: int, campaign_id: str, temporary: bool
    ) -> None:
        super().__init__(
            campaign_id=campaign_id, location=str(path), path=path, temporary=temporary
        )
        self._db = db
        self._lock_fd = lock_fd

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        identity: Mapping[str, str],
        *,
        sync: Literal["normal", "full"] = "normal",
        temporary: bool = False,
        account: AccountKey | None = None,
    ) -> SQLiteJournal:
        """A new journal at `path` for the campaign described by `identity`, sent from
        `account` (recorded as a fingerprint with the journal's own salt).

        A file that holds only delivery tables (`listen --journal` started before the campaign)
        is taken: the campaign joins the callbacks already recorded there.
        """
        file = Path(path)
        if file.exists() and file.stat().st_size > 0 and not _awaits_campaign(file):
            raise JournalError(
                f"{file} exists already: continue that campaign with"
                f" send_many(..., journal={str(file)!r}, resume=True), or choose another"
                " journal file",
                cli=f"{file} exists already: continue that run with --resume {file},"
                " or send it all again on purpose with --new-campaign",
            )
        lock_fd = _lock(file)
        try:
            db = _connect(file, sync)
            campaign_id = uuid.uuid4().hex[:12]
            db.executescript(_SCHEMA)
            salt = new_salt()
            meta = {
                "schema": SCHEMA_VERSION,
                "campaign_id": campaign_id,
                "identity": json.dumps(dict(identity), sort_keys=True),
                "created_at": str(time.time()),
                "state": "open",
                "account_salt": salt.hex(),
                "account": "" if account is None else account.fingerprint(salt),
            }
            with transaction(db):
                db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            _checkpoint(db)  # the file itself now says "open"
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(file, db, lock_fd, campaign_id, temporary)

    @classmethod
    def resume(
        cls,
        path: str | Path,
        identity: Mapping[str, str] | None,
        *,
        sync: Literal["normal", "full"] = "normal",
        account: AccountKey | None = None,
    ) -> SQLiteJournal:
        """The existing journal at `path`, checked to belong to the campaign `identity` names
        (None: not checked, to read a journal). A resume from another `account` than the one
        that started it is logged, not refused: a key replaced after the run stopped on
        authentication errors is what a resume is for."""
        file = Path(path)
        if not file.is_file():
            raise JournalError(f"{file}: no such journal to resume")
        lock_fd = _lock(file)
        try:
            journal = cls._open_locked(file, lock_fd, identity, sync)
        except BaseException:
            os.close(lock_fd)
            raise
        journal._note_account(account)
        return journal

    def _note_account(self, account: AccountKey | None) -> None:
        with self._lock:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        recorded, salt = meta.get("account"), meta.get("account_salt")
        if account is None or not recorded or not salt:
            return  # (journals written before accounts were recorded have neither)
        if account.fingerprint(bytes.fromhex(salt)) != recorded:
            logger.warning(
                "%s was started with another API key (or base URL) than this run's: what it"
                " sent so far went to that account, the rest goes to this one",
                self._location,
            )

    @classmethod
    def _open_locked(
        cls,
        file: Path,
        lock_fd: int,
        identity: Mapping[str, str] | None,
        sync: Literal["normal", "full"],
    ) -> SQLiteJournal:
        wal = Path(f"{file}-wal")
        wal_present = wal.exists()
        try:
            db = _connect(file, sync)
        except sqlite3.DatabaseError as exc:
            raise _damaged(file, f"SQLite cannot open it ({exc})") from None
        try:
            meta = _read_meta(file, db)
            if meta.get("state") == "open" and not wal_present:
                raise JournalDamagedError(
                    f"{file} is only half a journal: the run that wrote it was killed, and its"
                    f" latest batches are in its write-ahead log {wal.name}, which is missing."
                    f" Put {wal.name} back beside {file.name} (same folder) and resume again."
                    " Resuming without it could send its last requests twice. (If another"
                    " SQLite program opened the journal since and folded the log in, the file"
                    " is whole: see docs/bulk.md, 'A journal in two files'.)"
                )
            if identity is not None:
                recorded: dict[str, str] = json.loads(meta["identity"])
                differs = sorted(
                    key
                    for key in set(recorded) | set(identity)
                    if recorded.get(key) != identity.get(key)
                )
                if differs:
                    raise JournalError(
                        f"{file} records another campaign: {', '.join(differs)} differ(s) from"
                        " the journalled run; resume with the same input, message and options"
                    )
            with transaction(db):
                db.execute("UPDATE meta SET value = 'open' WHERE key = 'state'")
            _checkpoint(db)
        except BaseException:
            db.close()
            raise
        return cls(file, db, lock_fd, meta["campaign_id"], False)

    def close(self) -> None:
        """Fold the log back into the file, mark it closed, release the lock (and delete the
        file when it was a temporary journal)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            marked = False
            try:
                _checkpoint(self._db)  # first: an emptied log has room for the mark
                with transaction(self._db):
                    self._db.execute("UPDATE meta SET value = 'closed' WHERE key = 'state'")
                _checkpoint(self._db)
                marked = True
            except (sqlite3.Error, OSError) as exc:  # a full disk
                logger.warning("the journal %s could not be marked closed: %s", self.path, exc)
            self._db.close()  # SQLite folds the log in and deletes it, if it can
            if not marked:
                # Still marked open, yet stopped under control: an (empty) log beside it says
                # that nothing is missing, where a missing log would mean half a journal.
                with contextlib.suppress(OSError):
                    os.close(os.open(f"{self._location}-wal", os.O_WRONLY | os.O_CREAT, 0o600))
            os.close(self._lock_fd)  # after the database's own descriptors: see _lock
        self._close_scratch()
        if self.temporary:
            self._delete_files()
            if self._path is not None:
                with contextlib.suppress(OSError):
                    self._path.parent.rmdir()  # the private folder it was made in

    def discard(self) -> None:
        """Close and delete a journal this run created and sent nothing with (the run stopped
        before its first request: a results file that cannot be opened, say)."""
        self.close()
        if not self.temporary:  # (a temporary one is gone already)
            self._delete_files()

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self._location}{suffix}")

    # -- PackedJournal's hooks --------------------------------------------------------------

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        return transaction(self._db)

    def _stream(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        cursor = self._db.execute(sql, params)
        try:
            yield from cursor
        finally:  # a statement left running would keep closing from checkpointing the file
            cursor.close()

    def _abandon(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # (closed already, say)
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def _failures(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _note_resumed(self, now: float) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('resumed_at', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(now),),
        )


def _read_meta(file: Path, db: sqlite3.Connection) -> dict[str, str]:
    """The journal's facts, after SQLite's own check of the file (its pages, and its indexes
    against their tables)."""
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check(5)").fetchall()]
        if problems != ["ok"]:
            raise _damaged(file, f"SQLite's check found: {'; '.join(problems)}")
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc) or "not a database" in str(exc):
            raise JournalError(f"{file} is not a bulk journal ({exc})") from None
        raise _damaged(file, f"SQLite reports: {exc}") from None
    if not meta:
        raise JournalError(f"{file} is not a bulk journal (it has no campaign)")
    if meta.get("schema") != SCHEMA_VERSION:
        raise JournalError(
            f"{file} has journal schema {meta.get('schema')!r}; this version reads"
            f" {SCHEMA_VERSION!r}: finish that campaign with the version that started it"
        )
    return meta


def _awaits_campaign(file: Path) -> bool:
    """Whether the file is an SQLite database with the delivery tables and no campaign yet."""
    try:
        db = sqlite3.connect(str(file), timeout=10)
        try:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return "delivery_status" in names and "meta" not in names


def _damaged(file: Path, what: str) -> JournalDamagedError:
    return JournalDamagedError(f"{file} is damaged: {what}; {DAMAGED_ADVICE}")


def _lock(file: Path) -> int:
    """Open `file` (made if missing) and take an exclusive lock on it, or refuse at once.

    `flock` locks belong to this open file description, so SQLite's own POSIX locks on the same
    file are untouched. The descriptor must outlive the database connection: closing any
    descriptor of a file drops the process's POSIX locks on it, SQLite's included.
    """
    fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o600)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalBusyError(
            f"{file} is in use by another bulk run (a process has it open): two runs on one"
            " journal could send the same batch twice. Wait for that run to end, or stop it,"
            " then resume."
        ) from None
    return fd


def _checkpoint(db: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the file and empty it: the file alone is the journal."""
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        logger.debug("journal checkpoint incomplete: another connection is reading")


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
