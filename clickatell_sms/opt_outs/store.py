"""The opt-out store: which numbers asked not to be sent to, since when, and why.

One row per number, keyed by the number as sends normalise it (international digits, what
`numbers.normalize_number` gives for "+27 82 123 4567", "0027821234567" and, with the region,
"082 123 4567" alike), so a STOP from any spelling of a number keeps every spelling out. The row
holds the latest change: out or back in, when (the reply's own timestamp when it has one), the
keyword, the reply's message ID and where the change came from (`reply`, `manual`, `import`).

Changes are ordered by their time, not by their arrival: a START sent before a STOP, but
delivered after it, does not undo the STOP; a tie keeps the number out. Every change, applied
or not, is kept in `opt_out_changes`, and every reply with its text in `opt_out_replies` (a
reply delivered twice is kept once, by its ID), for the record.

This module holds the interface (`OptOutStore`, what the bulk engine and the listener use), the
record types, the error, and the SQL both stores share; `sqlite` and `postgres` hold the stores.
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

from ..errors import ValidationError
from ..numbers import normalize_number
from .keywords import Action, Keywords

if TYPE_CHECKING:
    from ..callbacks.parsing import ReplyCallback

__all__ = [
    "Entry",
    "OptOut",
    "OptOutCheck",
    "OptOutStore",
    "OptOutStoreError",
    "ReplyOutcome",
    "SQLOptOuts",
    "number_key",
]

_PAGE: Final = 2000
_MANUAL_STEP: Final = 0.001  # a manual change lands just after the latest one it overrides


class Entry(NamedTuple):
    """A number to opt out in bulk (an import): normalised, with its keyword and its time in
    epoch seconds (None: now)."""

    number: str
    keyword: str | None = None
    at: float | None = None


class OptOutStoreError(Exception):
    """The opt-out store cannot be opened, read or written (the message names it, without a
    password). A send that cannot check opt-outs sends nothing."""


@dataclass(frozen=True, slots=True)
class OptOut:
    """A number that opted out: `number` (international digits), `at` (epoch seconds),
    `keyword` (the reply's, or None), `source` (reply, manual, import), `reply_message_id`."""

    number: str
    at: float
    keyword: str | None
    source: str
    reply_message_id: str | None = None

    @property
    def when(self) -> str:
        """`at` as ISO 8601 UTC, to the second."""
        moment = datetime.fromtimestamp(self.at, UTC).isoformat(timespec="seconds")
        return moment.replace("+00:00", "Z")

    def describe(self) -> str:
        """Why the number is out, in a few words ("replied STOP on 2024-05-01T...Z")."""
        if self.source == "reply":
            return f"replied {self.keyword or 'a stop keyword'} on {self.when}"
        return f"opted out ({self.source}) on {self.when}"


class ReplyOutcome(NamedTuple):
    """What recording a reply did: the `action` its text asks for (None: an ordinary reply),
    the `number` it is keyed by (None: no usable sender number), whether the change `applied`
    (False for a change older than the number's latest, or a reply seen before: `replay`)."""

    action: Action | None
    number: str | None
    applied: bool
    replay: bool = False


class OptOutCheck(Protocol):
    """What a send needs of a store: which of these numbers are opted out."""

    @property
    def location(self) -> str: ...

    def opted_out(self, numbers: Sequence[str]) -> dict[str, OptOut]:
        """Those of `numbers` (normalised) that are opted out now, each with its record."""
        ...


class OptOutStore(OptOutCheck, Protocol):
    """The whole store: the check, replies, manual changes, and the list."""

    def record_reply(self, reply: ReplyCallback, keywords: Keywords) -> ReplyOutcome:
        """Keep the reply, and opt its sender out or in if its text is a keyword."""
        ...

    def opt_out(self, number: str, *, keyword: str | None = None, source: str = "manual") -> bool:
        """Opt a (normalised) number out now; False if it was already."""
        ...

    def opt_in(self, number: str, *, source: str = "manual") -> bool:
        """Opt a (normalised) number back in now; False if it was not out."""
        ...

    def opt_out_many(self, entries: Iterable[Entry], *, source: str = "import") -> int:
        """Opt many numbers out, a chunk per transaction; how many changed."""
        ...

    def iter_opt_outs(self) -> Iterator[OptOut]:
        """Every number opted out now, by number, a page at a time."""
        ...

    def count(self) -> int:
        """How many numbers are opted out now."""
        ...

    def close(self) -> None: ...


def number_key(raw: str, default_region: str | None = None, *, field: str = "number") -> str:
    """The key a number is stored and looked up by: its normalised international digits (a
    `ValidationError` naming `field` for what is not a number)."""
    return normalize_number(raw.strip(), default_region=default_region, field=field)


def _reply_key(raw: str | None) -> str | None:
    """A reply's sender as a key: normalised; or its bare digits when the numbers module
    refuses it (a short code, a number of a new range), which still matches a send to the same
    digits; None when it has none."""
    if raw is None or not raw.strip():
        return None
    try:
        return number_key(raw)
    except ValidationError:
        digits = "".join(char for char in raw if char.isdigit())
        return digits or None


class SQLOptOuts(ABC):
    """The store's operations in portable SQL (`?` placeholders); a store gives its
    connection, its transactions, its table names and what its failures are."""

    _opt_outs: str = "opt_outs"
    _replies: str = "opt_out_replies"
    _changes: str = "opt_out_changes"

    def __init__(self, location: str) -> None:
        self._location = location
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        """Where it is: a file, or a database URL without its password."""
        return self._location

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._location!r})"

    def __enter__(self) -> SQLOptOuts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """One statement (autocommit unless inside `_transaction`); its cursor."""

    @abstractmethod
    def _transaction(self) -> contextlib.AbstractContextManager[None]: ...

    @abstractmethod
    def _failures(self) -> tuple[type[BaseException], ...]: ...

    @abstractmethod
    def _any_of(self, count: int) -> str:
        """The SQL that tests `number` against `count` values given as parameters."""

    @abstractmethod
    def _list_parameter(self, numbers: Sequence[str]) -> Sequence[Any]: ...

    @contextlib.contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """The lock, and the database's failures as `OptOutStoreError`."""
        with self._lock:
            try:
                yield
            except self._failures() as exc:
                self._broken()
                raise OptOutStoreError(f"{self._location}: cannot {doing}: {exc}") from exc

    def _broken(self) -> None:
        """Called after a failure (a store that reconnects forgets its connection here)."""
        return None

    # -- the check --------------------------------------------------------------------------

    def opted_out(self, numbers: Sequence[str]) -> dict[str, OptOut]:
        if not numbers:
            return {}
        with self._guard("read the opt-outs"):
            rows = self._run(
                f"SELECT number, changed_at, keyword, source, reply_message_id"
                f" FROM {self._opt_outs} WHERE opted_out = 1 AND {self._any_of(len(numbers))}",
                self._list_parameter(numbers),
            ).fetchall()
        return {str(row[0]): _opt_out(row) for row in rows}

    # -- changes ------------------------------------------------------------------------------

    def record_reply(self, reply: ReplyCallback, keywords: Keywords) -> ReplyOutcome:
        matched = keywords.match(reply.text)
        action, word = matched if matched is not None else (None, None)
        number = _reply_key(reply.from_number)
        now = time.time()
        at = reply.timestamp.timestamp() if reply.timestamp is not None else now
        with self._guard("keep a reply"), self._transaction():
            kept = self._run(
                f"INSERT INTO {self._replies} (reply_message_id, api_message_id, from_number,"
                " number, to_number, text, keyword, action, sent_at, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (reply_message_id) DO NOTHING",
                (
                    reply.reply_message_id,
                    reply.api_message_id,
                    reply.from_number,
                    number,
                    reply.to_number,
                    reply.text,
                    word,
                    action,
                    at,
                    now,
                ),
            ).rowcount
            if not kept:  # the same reply again: its change was made the first time
                return ReplyOutcome(action, number, False, replay=True)
            if action is None or number is None:
                return ReplyOutcome(action, number, False)
            applied = self._change(
                number, action == "opt-out", at, word, reply.reply_message_id, "reply", now
            )
        return ReplyOutcome(action, number, applied)

    def opt_out(self, number: str, *, keyword: str | None = None, source: str = "manual") -> bool:
        return self._manual(number, True, keyword, source)

    def opt_in(self, number: str, *, source: str = "manual") -> bool:
        return self._manual(number, False, None, source)

    def opt_out_many(self, entries: Iterable[Entry], *, source: str = "import") -> int:
        """Opt many (normalised) numbers out, a chunk per transaction: each `Entry` with its
        keyword and time (None: now, winning as a change by hand does; a time of its own is
        ordered with the number's other changes, as a reply's is). Returns how many changed."""
        changed = 0
        chunk: list[Entry] = []
        for entry in entries:
            chunk.append(entry)
            if len(chunk) >= _PAGE:
                changed += self._opt_out_chunk(chunk, source)
                chunk = []
        return changed + (self._opt_out_chunk(chunk, source) if chunk else 0)

    def _opt_out_chunk(self, chunk: Sequence[Entry], source: str) -> int:
        now = time.time()
        changed = 0
        with self._guard("import opt-outs"), self._transaction():
            for number, keyword, at in chunk:
                if at is None:
                    changed += self._forced(number, True, keyword, source, now)
                else:
                    changed += self._change(number, True, at, keyword, None, source, now)
        return changed

    def _manual(self, number: str, out: bool, keyword: str | None, source: str) -> bool:
        """A change made by hand wins over every earlier one, whatever their clocks said; True
        if it changed the number's state."""
        with self._guard("change an opt-out"), self._transaction():
            return self._forced(number, out, keyword, source, time.time())

    def _forced(self, number: str, out: bool, keyword: str | None, source: str, now: float) -> bool:
        """One change that lands after the number's latest (inside a transaction); True if it
        changed the number's state."""
        current = self._run(
            f"SELECT opted_out, changed_at FROM {self._opt_outs} WHERE number = ?", (number,)
        ).fetchone()
        at = now if current is None else max(now, float(current[1]) + _MANUAL_STEP)
        self._change(number, out, at, keyword, None, source, now)
        was_out = current is not None and bool(current[0])
        return was_out != out

    def _change(
        self,
        number: str,
        out: bool,
        at: float,
        keyword: str | None,
        reply_message_id: str | None,
        source: str,
        now: float,
    ) -> bool:
        """Apply one change if it is not older than the number's latest (inside a
        transaction), and keep it in the history either way; True if applied."""
        applied: int = self._run(
            f"INSERT INTO {self._opt_outs} AS o (number, opted_out, changed_at, keyword,"
            " reply_message_id, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (number) DO UPDATE SET opted_out = excluded.opted_out,"
            " changed_at = excluded.changed_at, keyword = excluded.keyword,"
            " reply_message_id = excluded.reply_message_id, source = excluded.source,"
            " recorded_at = excluded.recorded_at"
            " WHERE excluded.changed_at > o.changed_at"
            " OR (excluded.changed_at = o.changed_at AND excluded.opted_out >= o.opted_out)",
            (number, int(out), at, keyword, reply_message_id, source, now),
        ).rowcount
        self._run(
            f"INSERT INTO {self._changes} (number, opted_out, changed_at, keyword,"
            " reply_message_id, source, recorded_at, applied) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (number, int(out), at, keyword, reply_message_id, source, now, int(applied > 0)),
        )
        return applied > 0

    # -- the list -----------------------------------------------------------------------------

    def iter_opt_outs(self) -> Iterator[OptOut]:
        last = ""
        while True:
            with self._guard("read the opt-outs"):
                page = self._run(
                    "SELECT number, changed_at, keyword, source, reply_message_id"
                    f" FROM {self._opt_outs} WHERE opted_out = 1 AND number > ?"
                    " ORDER BY number LIMIT ?",
                    (last, _PAGE),
                ).fetchall()
            if not page:
                return
            yield from (_opt_out(row) for row in page)
            last = str(page[-1][0])

    def count(self) -> int:
        with self._guard("count the opt-outs"):
            (found,) = self._run(
                f"SELECT COUNT(*) FROM {self._opt_outs} WHERE opted_out = 1"
            ).fetchone()
        return int(found)


def _opt_out(row: Sequence[Any]) -> OptOut:
    number, at, keyword, source, reply_message_id = row
    return OptOut(str(number), float(at), keyword, str(source), reply_message_id)
