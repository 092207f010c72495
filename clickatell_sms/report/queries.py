"""The report's numbers, from aggregate queries over a journal's delivery tables.

The campaign's rows are joined to their latest statuses once, into a temporary table of one
narrow row per recipient (`report_rows`: its state, times, status and error), and every figure
is then a GROUP BY over it. Nothing holds the rows in Python: a million-row campaign costs a
join, a scan per figure and one sort (for the percentiles), in the database's own memory and
temporary files.
"""

from __future__ import annotations

import math
import time
from typing import Any, Final

from ..bulk.delivery import DeliveryStore
from .model import (
    ACCEPTED_STATES,
    CampaignReport,
    Delays,
    Funnel,
    Histogram,
    Reason,
    Timeline,
)

__all__ = ["ROWS_SELECT", "build_report"]

_TIMELINE_STEPS: Final = 60
_HISTOGRAM_BINS: Final = 30
_ACCEPTED: Final = "(" + ", ".join(f"'{state}'" for state in ACCEPTED_STATES) + ")"

# One row per recipient: the state it ends in (see `model`), and what the report needs of it.
_STATE: Final = (
    "CASE WHEN m.outcome = 'failed' THEN 'not_sent'"
    " WHEN m.outcome = 'rejected' AND m.error = 'duplicate' THEN 'duplicate'"
    " WHEN m.outcome = 'rejected' THEN 'rejected'"
    " WHEN s.api_message_id IS NULL AND m.outcome = 'unknown' THEN 'unknown'"
    " WHEN s.final = 1 THEN s.kind ELSE 'pending' END"
)
ROWS_SELECT: Final = (
    "SELECT m.shard, m.position, m.row, m.to_input, m.number, m.outcome, m.api_message_id,"
    " m.client_message_id, m.error_code, m.error, m.description, m.duplicate_of,"
    f" {_STATE} AS state, s.status_code, s.status, s.description AS status_description,"
    " s.kind, s.via, m.sent_at, s.gateway_at,"
    " CASE WHEN s.final = 1 THEN COALESCE(s.status_at, s.arrived_at) END AS final_at,"
    " CASE WHEN s.api_message_id IS NULL THEN 0 ELSE 1 END AS has_status"
    " FROM {messages} m LEFT JOIN {statuses} s ON s.api_message_id = m.api_message_id"
    " WHERE m.campaign_id = ?"
)


def build_report(store: DeliveryStore, *, sync: bool = True) -> CampaignReport:
    """The report of the store's campaign (its message index brought up to date first)."""
    if sync:
        store.sync()
    rows = _materialise(store)
    try:
        funnel = _funnel(store, rows)
        return CampaignReport(
            journal=store.location,
            campaign=store.campaign_id(),
            funnel=funnel,
            failed_by_status=_failed_by_status(store, rows),
            rejected_by_error=_by_error(store, rows, "rejected", "error"),
            not_sent=_by_error(store, rows, "not_sent", "not sent"),
            delays=_delays(store, rows),
            histogram=_histogram(store, rows),
            timeline=_timeline(store, rows),
            unknown_callbacks=store.unknown_statuses(_matched(store, rows)),
            unknown_examples=store.unknown_examples(5),
            by_lookup=_count(store, f"SELECT COUNT(*) FROM {rows} WHERE via = 'lookup'"),
            generated_at=time.time(),
        )
    finally:
        store.drop_temporary(rows)


def _materialise(store: DeliveryStore) -> str:
    name = "report_rows"
    store.drop_temporary(name)
    select = ROWS_SELECT.format(
        messages=store.table("delivery_messages"), statuses=store.table("delivery_status")
    )
    store.execute(f"CREATE TEMPORARY TABLE {name} AS {select}", (store.scope,))
    return name


def _count(store: DeliveryStore, sql: str, params: tuple[Any, ...] = ()) -> int:
    found = store.query(sql, params)
    return int(found[0][0] or 0) if found else 0


def _matched(store: DeliveryStore, rows: str) -> int:
    return _count(store, f"SELECT COUNT(*) FROM {rows} WHERE has_status = 1")


def _funnel(store: DeliveryStore, rows: str) -> Funnel:
    by_state: dict[str, int] = {}
    at_gateway = pending_at_gateway = 0
    for state, count, gateway in store.query(
        f"SELECT state, COUNT(*), SUM(CASE WHEN gateway_at IS NOT NULL THEN 1 ELSE 0 END)"
        f" FROM {rows} GROUP BY state"
    ):
        by_state[str(state)] = int(count)
        if state in ACCEPTED_STATES:
            at_gateway += int(gateway or 0)
        if state == "pending":
            pending_at_gateway = int(gateway or 0)
    confirmed = _count(
        store, f"SELECT COUNT(*) FROM {rows} WHERE outcome = 'unknown' AND state <> 'unknown'"
    )
    return Funnel(by_state, at_gateway, pending_at_gateway, confirmed)


def _failed_by_status(store: DeliveryStore, rows: str) -> list[Reason]:
    found = store.query(
        f"SELECT status_code, status, status_description, COUNT(*) FROM {rows}"
        " WHERE state IN ('failed', 'cancelled', 'expired')"
        " GROUP BY status_code, status, status_description ORDER BY COUNT(*) DESC, status_code"
    )
    return [
        Reason("status", None if code is None else int(code), str(name), str(text or ""), int(n))
        for code, name, text, n in found
    ]


def _by_error(store: DeliveryStore, rows: str, state: str, kind: str) -> list[Reason]:
    """Rejected rows by the API's error, or rows not sent by the SDK's reason."""
    if kind == "error":
        sql = (
            f"SELECT error_code, error, COUNT(*) FROM {rows} WHERE state = ?"
            " GROUP BY error_code, error ORDER BY COUNT(*) DESC, error_code"
        )
    else:  # the SDK's own: `invalid` (bad row) or `not sent`, without a code
        sql = (
            f"SELECT NULL, error, COUNT(*) FROM {rows} WHERE state = ?"
            " GROUP BY error ORDER BY COUNT(*) DESC, error"
        )
    return [
        Reason(kind, None if code is None else int(code), str(error or kind), "", int(n))
        for code, error, n in store.query(sql, (state,))
    ]


_DELAY: Final = "(final_at - sent_at)"
_RECEIVED: Final = "state = 'received' AND sent_at IS NOT NULL AND final_at IS NOT NULL"


def _delays(store: DeliveryStore, rows: str) -> Delays:
    found = store.query(f"SELECT COUNT(*), MAX({_DELAY}) FROM {rows} WHERE {_RECEIVED}")
    count = int(found[0][0] or 0) if found else 0
    if count == 0:
        return Delays(0, None, None, None, None)
    ranks = {fraction: max(1, math.ceil(fraction * count)) for fraction in (0.5, 0.9, 0.99)}
    marks = ", ".join("?" for _ in ranks)
    at_rank = dict(
        store.query(
            f"SELECT rn, d FROM (SELECT {_DELAY} AS d, ROW_NUMBER() OVER (ORDER BY {_DELAY})"
            f" AS rn FROM {rows} WHERE {_RECEIVED}) ranked WHERE rn IN ({marks})",
            tuple(ranks.values()),
        )
    )
    p50, p90, p99 = (float(at_rank[rank]) for rank in ranks.values())
    return Delays(count, p50, p90, p99, float(found[0][1]))


def _histogram(store: DeliveryStore, rows: str) -> Histogram | None:
    """Bins of a round width from the fastest delivery (rounded down) to the slowest; a delay
    below zero (clocks that disagree) counts as zero."""
    found = store.query(f"SELECT MIN({_DELAY}), MAX({_DELAY}) FROM {rows} WHERE {_RECEIVED}")
    if not found or found[0][1] is None:
        return None
    shortest, longest = max(float(found[0][0]), 0.0), max(float(found[0][1]), 0.0)
    width = _nice_width((longest - shortest) / _HISTOGRAM_BINS)
    start = math.floor(shortest / width) * width
    bins = math.floor((longest - start) / width) + 1
    counts = [0] * bins
    bucket = store.floor(f"((CASE WHEN {_DELAY} > 0 THEN {_DELAY} ELSE 0 END) - ?) / ?")
    for index, n in store.query(
        f"SELECT {bucket} AS b, COUNT(*) FROM {rows} WHERE {_RECEIVED} GROUP BY b",
        (start, width),
    ):
        counts[min(max(int(index), 0), bins - 1)] += int(n)
    return Histogram(start, width, counts)


def _nice_width(raw: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten at least `raw` (1 ms at least)."""
    raw = max(raw, 0.001)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw - 1e-12)


def _timeline(store: DeliveryStore, rows: str) -> Timeline | None:
    found = store.query(
        f"SELECT MIN(sent_at), MAX(sent_at), MAX(gateway_at), MAX(final_at) FROM {rows}"
        f" WHERE state IN {_ACCEPTED} AND sent_at IS NOT NULL"
    )
    if not found or found[0][0] is None:
        return None
    start = float(found[0][0])
    end = max(float(value) for value in found[0][1:] if value is not None)
    step = max((end - start) / _TIMELINE_STEPS, 0.001)
    sent = _per_step(store, rows, "sent_at", start, step)
    gateway = _per_step(store, rows, "gateway_at", start, step)
    finals: dict[tuple[str, bool], list[int]] = {}
    bucket = store.floor("(final_at - ?) / ?")
    for index, state, reached, n in store.query(
        f"SELECT {bucket} AS b, state, CASE WHEN gateway_at IS NULL THEN 0 ELSE 1 END AS g,"
        f" COUNT(*) FROM {rows} WHERE final_at IS NOT NULL AND sent_at IS NOT NULL"
        f" AND state IN {_ACCEPTED} GROUP BY b, state, g",
        (start, step),
    ):
        series = finals.setdefault((str(state), bool(reached)), [0] * _TIMELINE_STEPS)
        series[_clamp(index)] += int(n)
    return Timeline(start, step, _stacked(sent, gateway, finals))


def _per_step(store: DeliveryStore, rows: str, column: str, start: float, step: float) -> list[int]:
    counts = [0] * _TIMELINE_STEPS
    bucket = store.floor(f"({column} - ?) / ?")
    for index, n in store.query(
        f"SELECT {bucket} AS b, COUNT(*) FROM {rows} WHERE {column} IS NOT NULL"
        f" AND sent_at IS NOT NULL AND state IN {_ACCEPTED} GROUP BY b",
        (start, step),
    ):
        counts[_clamp(index)] += int(n)
    return counts


def _clamp(index: Any) -> int:
    return min(max(int(index), 0), _TIMELINE_STEPS - 1)


def _stacked(
    sent: list[int], gateway: list[int], finals: dict[tuple[str, bool], list[int]]
) -> dict[str, list[int]]:
    """Cumulative counts per step into the states a row is in at the end of each step."""

    def running(counts: list[int]) -> list[int]:
        total, out = 0, []
        for n in counts:
            total += n
            out.append(total)
        return out

    def final(states: tuple[str, ...], reached: tuple[bool, ...] = (False, True)) -> list[int]:
        rows = [finals.get((s, g), [0] * _TIMELINE_STEPS) for s in states for g in reached]
        return running([sum(column) for column in zip(*rows, strict=True)])

    all_sent, all_gateway = running(sent), running(gateway)
    finished_after_gateway = final(("received", "failed", "cancelled", "expired"), (True,))
    finished_before = final(("received", "failed", "cancelled", "expired"), (False,))
    return {
        "awaiting": [
            max(s - g - f, 0)
            for s, g, f in zip(all_sent, all_gateway, finished_before, strict=True)
        ],
        "at gateway": [
            max(g - f, 0) for g, f in zip(all_gateway, finished_after_gateway, strict=True)
        ],
        "received": final(("received",)),
        "failed": final(("failed", "cancelled")),
        "expired": final(("expired",)),
    }
