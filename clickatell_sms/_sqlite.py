"""What the SQLite files of the SDK (a bulk journal, its delivery tables, the sandbox's record)
share."""

from __future__ import annotations

import contextlib
import sqlite3
from types import TracebackType

__all__ = ["transaction"]


class transaction:  # lower case: read as `with transaction(db):`, like a function
    """BEGIN ... COMMIT on a connection in autocommit mode, rolled back if the body raises or
    the COMMIT fails.

    A class rather than a generator: Ctrl-C or SIGTERM raises wherever Python next checks for
    signals, and that may be just after BEGIN returns. A generator's `__enter__` could then
    leave the transaction open (nothing would roll it back until the generator was collected),
    and every later statement on the connection would run inside it, uncommitted, until
    closing the journal failed with "database table is locked". Here every step after BEGIN
    is covered, and rolling back is decided by whether SQLite says a transaction is open.
    """

    __slots__ = ("_begin", "_db")

    def __init__(self, db: sqlite3.Connection, begin: str = "BEGIN") -> None:
        self._db = db
        self._begin = begin

    def __enter__(self) -> None:
        try:
            self._db.execute(self._begin)
        except BaseException:
            self._roll_back()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._roll_back()
            return
        try:
            self._db.execute("COMMIT")
        except BaseException:  # a COMMIT that fails (SQLITE_BUSY) leaves the transaction open
            self._roll_back()
            raise

    def _roll_back(self) -> None:
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
