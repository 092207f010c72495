"""Where a `CallbackReceiver` keeps the callbacks it accepts, before your handlers see them.

A sink takes every authenticated callback of the kinds it keeps (`kinds`) and keeps it, or says
it cannot (`SinkError`): the receiver then answers 503 with Retry-After, so that Clickatell sends
the callback again instead of it being lost. A receiver has any number of sinks, each with its
own kinds, so one for the campaign's journal (status callbacks) and one for opt-outs (replies)
sit side by side.

`JournalSink` writes status callbacks into a campaign's journal (`bulk.delivery`) with a group
commit: the listener thread that hands a callback over while nothing is being written writes it
itself, at once; callbacks handed over meanwhile by other threads wait, and the next of them
writes all of them in one transaction. So a callback is acknowledged only once it is written,
one connection pays for one short transaction per callback and no thread switch, and a busy
listener writes hundreds per commit. From asyncio code, `await asyncio.to_thread(sink.take,
event)`.

Meanwhile a thread of the sink keeps the journal's index of the campaign's rows current
(`DeliveryStore.sync`, every `index_every` seconds), so that a report on a large campaign does
not have to unpack its whole journal first.

`OptOutSink` keeps every reply in the opt-out store (`opt_outs`), and opts its sender out or back
in when the reply is a keyword: written before the reply is acknowledged, one transaction each
(replies are few beside statuses).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from ..bulk.delivery import DeliveryStore, StatusUpdate, open_delivery
from ..opt_outs.keywords import Keywords
from ..opt_outs.store import OptOutStore, OptOutStoreError, ReplyOutcome
from .access import RefusalLog
from .parsing import CallbackKind, ReplyCallback, StatusCallback

__all__ = ["CallbackSink", "JournalSink", "OptOutSink", "SinkError"]

logger = logging.getLogger("clickatell_sms.callbacks")

_MAX_BATCH: Final = 1000


class SinkError(Exception):
    """A sink could not keep a callback (its store failed, or it is full or closed): the
    receiver answers 503, and Clickatell sends the callback again."""


class CallbackSink(Protocol):
    """What a receiver needs of a sink."""

    @property
    def kinds(self) -> Collection[CallbackKind]:
        """The kinds of callback it keeps ("status", "reply")."""
        ...

    def take(self, event: StatusCallback | ReplyCallback) -> None:
        """Keep the event before returning, or raise `SinkError`."""
        ...

    def close(self) -> None:
        """Keep what was taken for good and let go of the store."""
        ...


@dataclass(slots=True)
class _Waiting:
    update: StatusUpdate
    done: bool = False
    failure: SinkError | None = None


class JournalSink:
    """Status callbacks into a campaign's journal (a file or a `postgresql://` URL, or an open
    `DeliveryStore`, which stays the caller's to close), written with a group commit.

    `take()` returns once the callback is written (`timeout` seconds at most). At most
    `max_waiting` callbacks wait for a write: beyond that (a store that cannot keep up, or is
    down) they are refused with `SinkError`, as is one that waited `timeout` seconds. The
    campaign's rows are indexed every `index_every` seconds (None: never; a report does it).
    """

    kinds: Final[frozenset[CallbackKind]] = frozenset({"status"})

    def __init__(
        self,
        journal: str | Path | DeliveryStore,
        *,
        max_waiting: int = 10_000,
        timeout: float = 10.0,
        index_every: float | None = 5.0,
    ) -> None:
        self._owns_store = not isinstance(journal, DeliveryStore)
        self.store = open_delivery(journal) if not isinstance(journal, DeliveryStore) else journal
        self.max_waiting = max_waiting
        self.timeout = timeout
        self.written = 0
        """Callbacks written so far."""
        self.commits = 0
        """Transactions they took."""
        self._queue: list[_Waiting] = []
        self._cond = threading.Condition()
        self._writing = False
        self._closed = False
        self._failures = RefusalLog(logger)
        self._stop_indexing = threading.Event()
        self._indexer: threading.Thread | None = None
        if index_every is not None:
            self._indexer = threading.Thread(
                target=self._index,
                args=(index_every,),
                name="clickatell-journal-index",
                daemon=True,
            )
            self._indexer.start()

    def __repr__(self) -> str:
        return f"JournalSink({self.store.location!r}, written={self.written})"

    def take(self, event: StatusCallback | ReplyCallback) -> None:
        """Write a status callback into the journal before returning (a reply is not the
        journal's: nothing to do); `SinkError` if it cannot be."""
        if not isinstance(event, StatusCallback):
            return
        item = _Waiting(StatusUpdate.from_callback(event))
        deadline = time.monotonic() + self.timeout
        with self._cond:
            if self._closed:
                raise SinkError("the journal is closed")
            if len(self._queue) >= self.max_waiting:
                raise SinkError(f"{len(self._queue)} callbacks are waiting for the journal")
            self._queue.append(item)
            while not item.done:
                if not self._writing:
                    self._write_waiting()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0 and item in self._queue:
                    self._queue.remove(item)
                    raise SinkError(f"the journal was not written within {self.timeout:g} s")
                self._cond.wait(max(remaining, 0.05))
        if item.failure is not None:
            raise item.failure

    def _write_waiting(self) -> None:
        """Write everything waiting, as one transaction, outside the lock (held on entry)."""
        batch, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
        self._writing = True
        self._cond.release()
        failure: SinkError | None = None
        try:
            self.store.record([item.update for item in batch])
        except Exception as exc:  # the store failed: every callback of the batch is refused
            self._failures.refused(f"could not write callbacks to the journal: {exc}")
            failure = SinkError(f"the journal could not be written: {exc}")
        except BaseException:  # interrupted: not written, as far as anyone may assume
            failure = SinkError("the journal's write was interrupted")
            raise
        finally:
            self._cond.acquire()
            self._writing = False
            for item in batch:
                item.done, item.failure = True, failure
            if failure is None:
                self.written += len(batch)
                self.commits += 1
            self._cond.notify_all()

    def _index(self, every: float) -> None:
        while not self._stop_indexing.wait(every):
            try:
                self.store.sync(self._stop_indexing)
            except Exception as exc:  # the report indexes what this could not
                self._failures.refused(f"could not index the journal's rows: {exc}")

    def close(self) -> None:
        """Refuse further callbacks, wait for the write under way, and close the store if this
        sink opened it. (Callbacks are written before `take` returns: nothing else waits.)"""
        self._stop_indexing.set()
        if self._indexer is not None:
            self._indexer.join()
        with self._cond:
            self._closed = True
            while self._writing or self._queue:
                self._cond.wait(0.1)
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> JournalSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OptOutSink:
    """Replies into an opt-out store (a file, a `postgresql://` URL or an open `OptOutStore`,
    which stays the caller's to close; None: where the settings say).

    Every reply is kept with its text; one whose whole text (trimmed, any case) is a stop
    keyword opts its sender out, a start keyword opts it back in (`keywords`). A reply the
    store cannot keep raises `SinkError` (the receiver answers 503, and it comes again).
    `outcomes` counts what the replies did, by action.
    """

    kinds: Final[frozenset[CallbackKind]] = frozenset({"reply"})

    def __init__(
        self, store: str | Path | OptOutStore | None = None, *, keywords: Keywords | None = None
    ) -> None:
        # (the opt-out store loads only for a listener that keeps replies)
        from ..opt_outs import open_opt_outs

        self._owns_store = store is None or isinstance(store, str | Path)
        self.store: OptOutStore = (
            open_opt_outs(store) if store is None or isinstance(store, str | Path) else store
        )
        self.keywords = keywords or Keywords()
        self.outcomes: dict[str, int] = {"opt-out": 0, "opt-in": 0, "other": 0, "replayed": 0}
        self._count_lock = threading.Lock()
        self._failures = RefusalLog(logger)

    def __repr__(self) -> str:
        return f"OptOutSink({self.store.location!r})"

    def take(self, event: StatusCallback | ReplyCallback) -> None:
        """Keep a reply (and apply its keyword) before returning; a status is not ours."""
        if not isinstance(event, ReplyCallback):
            return
        try:
            outcome = self.store.record_reply(event, self.keywords)
        except OptOutStoreError as exc:
            self._failures.refused(f"could not keep a reply in the opt-out store: {exc}")
            raise SinkError(str(exc)) from None
        self._count(outcome)

    def _count(self, outcome: ReplyOutcome) -> None:
        name = "replayed" if outcome.replay else outcome.action or "other"
        with self._count_lock:
            self.outcomes[name] += 1
        if outcome.action is not None and outcome.number is None:
            logger.warning(
                "a %s reply came without a sender number: kept, not applied", outcome.action
            )

    def close(self) -> None:
        """Close the store if this sink opened it."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> OptOutSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
