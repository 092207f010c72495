"""Looking up the messages that never called back (`report --refresh`).

Callbacks get lost: the receiver was down, the network dropped them, the portal's URL was wrong
for an hour. So the accepted messages that have no final status and have been silent (no
callback, no look-up) for `older_than` seconds are looked up one by one with
`Client.message_status`, within a rate limit, and each answer is stored exactly as a callback
would be (the same ordering rule: a look-up never moves a message back).

A run is written down as it goes (`bulk.delivery`: `delivery_refreshes`, `delivery_lookups`):
each message it looked up, with the outcome, in the same transaction as the statuses found. So a
run that stops (Ctrl-C, the key refused, the API asking to slow down) is resumed by the next
`--refresh`, which skips what it had done; and within one run no message is looked up twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..bulk._rate_limit import RateLimiter
from ..bulk.delivery import DeliveryStore, RefreshRun, StatusUpdate
from ..errors import APIError, AuthenticationError, ClickatellError, RateLimitError

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["RefreshSummary", "refresh"]

_PAGE: Final = 200  # messages chosen, looked up and recorded together
_NOT_KNOWN: Final = frozenset({103})  # "Unknown API message ID"


@dataclass(slots=True)
class RefreshSummary:
    """What a refresh run did. `stopped` says why it ended early (then it is resumed by the
    next refresh); `final` counts look-ups that found a final status, `not_known` those the API
    did not know (yet), `errors` those that failed otherwise (not tried again in this run)."""

    run: int
    resumed: bool
    looked_up: int = 0
    final: int = 0
    not_known: int = 0
    errors: int = 0
    stopped: str | None = None
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "resumed": self.resumed,
            "looked_up": self.looked_up,
            "final": self.final,
            "not_known": self.not_known,
            "errors": self.errors,
            "stopped": self.stopped,
            "duration_s": round(self.duration, 3),
        }


@dataclass(frozen=True, slots=True)
class _Answer:
    message_id: str
    outcome: str  # status, not known, error
    update: StatusUpdate | None = None
    stop: str | None = None


def refresh(
    store: DeliveryStore,
    client: Client,
    *,
    older_than: float,
    rate_limit: float,
    concurrency: int = 4,
    stop_after: int = 20,
    on_page: Callable[[RefreshSummary], None] | None = None,
) -> RefreshSummary:
    """Look up the campaign's silent messages (see the module); returns what the run did.

    `older_than` is in seconds, `rate_limit` in look-ups per second (shared by the
    `concurrency` threads). After `stop_after` failures in a row the run stops (resumable).
    """
    started = time.monotonic()
    store.sync()
    run = store.open_refresh(older_than)
    summary = RefreshSummary(run.id, run.resumed, looked_up=run.looked_up)
    limiter = RateLimiter(rate_limit, burst=concurrency)
    stop = threading.Event()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="clickatell-refresh") as pool:
        after, failures = "", 0
        while summary.stopped is None:
            ids = store.refresh_candidates(run, after, _PAGE)
            if not ids:
                store.finish_refresh(run)
                break
            after = ids[-1]
            answers = list(pool.map(lambda mid: _look_up(client, limiter, stop, mid), ids))
            failures = _record(store, run, answers, summary, failures)
            if summary.stopped is None and failures >= stop_after:
                summary.stopped = f"{failures} look-ups in a row failed; resume with --refresh"
            if on_page is not None:
                on_page(summary)
    summary.duration = time.monotonic() - started
    return summary


def _look_up(
    client: Client, limiter: RateLimiter, stop: threading.Event, message_id: str
) -> _Answer:
    if stop.is_set() or not limiter.acquire(1, stop):
        return _Answer(message_id, "skipped")
    try:
        result = client.message_status(message_id)
    except (AuthenticationError, RateLimitError) as exc:
        stop.set()  # the account's problem: no point asking about the others
        return _Answer(message_id, "skipped", stop=f"{type(exc).__name__}: {exc}")
    except APIError as exc:
        if exc.error_code in _NOT_KNOWN or exc.status == 404:
            return _Answer(message_id, "not known")
        return _Answer(message_id, "error")
    except ClickatellError:
        return _Answer(message_id, "error")
    return _Answer(message_id, "status", StatusUpdate.from_lookup(result))


def _record(
    store: DeliveryStore,
    run: RefreshRun,
    answers: list[_Answer],
    summary: RefreshSummary,
    failures: int,
) -> int:
    """Store a page's look-ups (those skipped are left for the run's resumption); returns the
    failures in a row so far."""
    done = [answer for answer in answers if answer.outcome != "skipped"]
    store.looked_up(
        run,
        [(answer.message_id, answer.outcome) for answer in done],
        [answer.update for answer in done if answer.update is not None],
    )
    for answer in answers:
        if answer.stop is not None and summary.stopped is None:
            summary.stopped = f"{answer.stop}; resume with --refresh"
        if answer.outcome == "skipped":
            continue
        summary.looked_up += 1
        failures = failures + 1 if answer.outcome == "error" else 0
        if answer.outcome == "not known":
            summary.not_known += 1
        elif answer.outcome == "error":
            summary.errors += 1
        elif answer.update is not None and answer.update.final:
            summary.final += 1
    return failures
