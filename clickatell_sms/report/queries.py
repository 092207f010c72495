"""The report's numbers, from aggregate queries over a journal's delivery tables.

The campaign's rows are joined to their latest statuses once, into a temporary table of one
narrow row per recipient (its state, error, status and three times), and then read in three
grouped passes: one for the counts (the funnel, the reasons, the extremes), one for the
timeline (rows by the steps in which they were answered, reached the gateway and ended), one
for the delivery times (received rows by a fine bucket of their delay, from which the
percentiles and the histogram are read). Python only ever holds the groups: a million-row
campaign costs a join and three scans, in the database's own memory and temporary files.

The percentiles are read from buckets 1/20,000 of the delays' range wide (a millisecond at
least): each is the middle of the bucket that holds its rank, within half a bucket of exact.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from ..bulk.delivery import DeliveryStore
from ..statuses import KNOWN_STATUSES
from .model import (
    ACCEPTED_STATES,
    STATES,
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
_DELAY_BUCKETS: Final = 20_000
_TABLE: Final = "report_rows"

# The state each row ends in (see `model`).
_STATE: Final = (
    "CASE WHEN m.outcome = 'failed' THEN 'not_sent'"
    " WHEN m.outcome = 'rejected' AND m.error = 'duplicate' THEN 'duplicate'"
    " WHEN m.outcome = 'opted_out' THEN 'opted_out'"
    " WHEN m.outcome = 'rejected' THEN 'rejected'"
    " WHEN s.api_message_id IS NULL AND m.outcome = 'unknown' THEN 'unknown'"
    " WHEN s.final = 1 THEN s.kind ELSE 'pending' END"
)
_FINAL_AT: Final = "CASE WHEN s.final = 1 THEN COALESCE(s.status_at, s.arrived_at) END"
_JOIN: Final = (
    " FROM {messages} m LEFT JOIN {statuses} s ON s.api_message_id = m.api_message_id"
    " WHERE m.campaign_id = ?"
)
ROWS_SELECT: Final = (
    "SELECT m.shard, m.position, m.row, m.to_input, m.number, m.outcome, m.api_message_id,"
    " m.client_message_id, m.error_code, m.error, m.description, m.duplicate_of,"
    f" {_STATE} AS state, s.status_code, s.status, s.description AS status_description,"
    f" s.kind, s.via, m.sent_at, s.gateway_at, {_FINAL_AT} AS final_at,"
    " CASE WHEN s.api_message_id IS NULL THEN 0 ELSE 1 END AS has_status" + _JOIN
)
"""Every column of every row (the CSV export), in one statement with the campaign's mark."""

# The narrow row the aggregates read: the state as its index in `STATES`, flags as 0 or 1, the
# error and status only where a reason is wanted (so a received row carries no text at all).
_CODE: Final = {state: index for index, state in enumerate(STATES)}
_STATE_CODE: Final = (
    f"CASE WHEN m.outcome = 'failed' THEN {_CODE['not_sent']}"
    f" WHEN m.outcome = 'rejected' AND m.error = 'duplicate' THEN {_CODE['duplicate']}"
    f" WHEN m.outcome = 'opted_out' THEN {_CODE['opted_out']}"
    f" WHEN m.outcome = 'rejected' THEN {_CODE['rejected']}"
    f" WHEN s.api_message_id IS NULL AND m.outcome = 'unknown' THEN {_CODE['unknown']}"
    " WHEN s.final = 1 THEN CASE s.kind "
    + " ".join(
        f"WHEN '{k}' THEN {_CODE[k]}" for k in ("received", "failed", "expired", "cancelled")
    )
    + f" ELSE {_CODE['pending']} END ELSE {_CODE['pending']} END"
)
_NOT_SENT_OR_REFUSED: Final = "m.outcome IN ('rejected', 'failed')"
_ENDED_BADLY: Final = "s.final = 1 AND s.kind <> 'received'"
_NARROW: Final = (
    f"SELECT {_STATE_CODE} AS state,"
    " CASE WHEN m.outcome = 'unknown' THEN 1 ELSE 0 END AS unknown_outcome,"
    f" CASE WHEN {_NOT_SENT_OR_REFUSED} THEN m.error_code END AS error_code,"
    f" CASE WHEN {_NOT_SENT_OR_REFUSED} THEN m.error END AS error,"
    f" CASE WHEN {_ENDED_BADLY} THEN s.status_code END AS status_code,"
    f" CASE WHEN {_ENDED_BADLY} THEN s.status END AS status,"
    " CASE WHEN s.api_message_id IS NULL THEN 0 ELSE 1 END AS has_status,"
    " CASE WHEN s.via = 'lookup' THEN 1 ELSE 0 END AS lookup,"
    f" m.sent_at, s.gateway_at, {_FINAL_AT} AS final_at" + _JOIN
)
_ACCEPTED_CODES: Final = "(" + ", ".join(str(_CODE[state]) for state in ACCEPTED_STATES) + ")"


def build_report(store: DeliveryStore, *, sync: bool = True) -> CampaignReport:
    """The report of the store's campaign (its message index brought up to date first)."""
    if sync:
        store.sync()
    store.drop_temporary(_TABLE)
    narrow = _NARROW.format(
        messages=store.table("delivery_messages"), statuses=store.table("delivery_status")
    )
    store.execute(f"CREATE TEMPORARY TABLE {_TABLE} AS {narrow}", (store.scope,))
    try:
        counts = _counts(store)
        unknown = store.unknown_statuses(counts.matched)
        return CampaignReport(
            journal=store.location,
            campaign=store.campaign_id(),
            funnel=counts.funnel(),
            failed_by_status=counts.failed_by_status(),
            rejected_by_error=counts.reasons("rejected", "error"),
            not_sent=counts.reasons("not_sent", "not sent"),
            delays=_delays(store, counts),
            histogram=counts.histogram,
            timeline=_timeline(store, counts),
            unknown_callbacks=unknown,
            unknown_examples=store.unknown_examples(5) if unknown else [],
            by_lookup=counts.by_lookup,
            generated_at=time.time(),
        )
    finally:
        store.drop_temporary(_TABLE)


# -- pass 1: the counts --------------------------------------------------------------------------


@dataclass
class _Counts:
    """Rows by state, the rows that did not end well by reason, and the extremes of the times."""

    by_state: dict[str, int] = field(default_factory=dict)
    at_gateway: int = 0
    pending_at_gateway: int = 0
    confirmed: int = 0
    matched: int = 0
    by_lookup: int = 0
    delay_range: tuple[float, float] | None = None
    times: tuple[float, float] | None = None
    groups: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    histogram: Histogram | None = None

    @property
    def received(self) -> int:
        return self.by_state.get("received", 0)

    def funnel(self) -> Funnel:
        return Funnel(self.by_state, self.at_gateway, self.pending_at_gateway, self.confirmed)

    def failed_by_status(self) -> list[Reason]:
        found: Counter[tuple[Any, Any]] = Counter()
        for (state, _, _, code, name), n in self.groups.items():
            if state in ("failed", "cancelled", "expired"):
                found[(code, name)] += n
        return [
            Reason("status", None if code is None else int(code), str(name), _meaning(code), n)
            for (code, name), n in sorted(
                found.items(), key=lambda item: (-item[1], item[0][0] or 0)
            )
        ]

    def reasons(self, state: str, kind: str) -> list[Reason]:
        """Rejected rows by the API's error, or rows not sent by the SDK's own reason."""
        found: Counter[tuple[Any, Any]] = Counter()
        for (row_state, code, error, _, _), n in self.groups.items():
            if row_state == state:
                found[(code if kind == "error" else None, error)] += n
        return [
            Reason(kind, None if code is None else int(code), str(error or kind), "", n)
            for (code, error), n in sorted(found.items(), key=lambda item: (-item[1], str(item[0])))
        ]


def _meaning(code: Any) -> str:
    known = KNOWN_STATUSES.get(int(code)) if code is not None else None
    return known.description if known else ""


_DELAY: Final = "(final_at - sent_at)"
_RECEIVED: Final = f"state = {_CODE['received']} AND sent_at IS NOT NULL AND final_at IS NOT NULL"


def _when(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _counts(store: DeliveryStore) -> _Counts:
    """One scan with no grouping for the counts and extremes (sorting a million rows by state
    would cost more than the scan), then the rows that did not end well, grouped by reason."""
    accepted = f"state IN {_ACCEPTED_CODES}"
    last = "CASE WHEN gateway_at > final_at OR final_at IS NULL THEN gateway_at ELSE final_at END"
    columns = [
        *(_when(f"state = {code}") for code in range(len(STATES))),
        _when(f"{accepted} AND gateway_at IS NOT NULL"),
        _when(f"state = {_CODE['pending']} AND gateway_at IS NOT NULL"),
        _when(f"unknown_outcome = 1 AND state <> {_CODE['unknown']}"),
        "SUM(has_status)",
        "SUM(lookup)",
        f"MIN(CASE WHEN {_RECEIVED} THEN {_DELAY} END)",
        f"MAX(CASE WHEN {_RECEIVED} THEN {_DELAY} END)",
        f"MIN(CASE WHEN {accepted} THEN sent_at END)",
        f"MAX(CASE WHEN {accepted} AND sent_at IS NOT NULL THEN {last} END)",
        f"MAX(CASE WHEN {accepted} THEN sent_at END)",
    ]
    (row,) = store.query(f"SELECT {', '.join(columns)} FROM {_TABLE}")
    states, rest = row[: len(STATES)], row[len(STATES) :]
    counts = _Counts(by_state={s: int(n or 0) for s, n in zip(STATES, states, strict=True)})
    counts.at_gateway, counts.pending_at_gateway, counts.confirmed = (int(v or 0) for v in rest[:3])
    counts.matched, counts.by_lookup = int(rest[3] or 0), int(rest[4] or 0)
    if rest[5] is not None and rest[6] is not None:
        counts.delay_range = (float(rest[5]), float(rest[6]))
    if rest[7] is not None:
        latest = [float(v) for v in rest[8:10] if v is not None]
        counts.times = (float(rest[7]), max(latest))
    for code, *key, n in store.query(
        f"SELECT state, error_code, error, status_code, status, COUNT(*) FROM {_TABLE}"
        f" WHERE state NOT IN ({_CODE['received']}, {_CODE['pending']})"
        " GROUP BY state, error_code, error, status_code, status"
    ):
        counts.groups[(STATES[int(code)], *key)] += int(n)
    return counts


# -- pass 2: the delivery times ------------------------------------------------------------------


def _delays(store: DeliveryStore, counts: _Counts) -> Delays:
    """The percentiles (and, on the way, the histogram) from fine buckets of the delays."""
    if counts.delay_range is None or counts.received == 0:
        return Delays(counts.received, None, None, None, None)
    low, high = counts.delay_range
    floor = max(low, 0.0)
    resolution = max((max(high, 0.0) - floor) / _DELAY_BUCKETS, 0.001)
    bucket = store.floor(f"((CASE WHEN {_DELAY} > 0 THEN {_DELAY} ELSE 0 END) - ?) / ?")
    buckets = sorted(
        (int(index), int(n))
        for index, n in store.query(
            f"SELECT {bucket} AS b, COUNT(*) FROM {_TABLE} WHERE {_RECEIVED} GROUP BY b",
            (floor, resolution),
        )
    )
    total = sum(n for _, n in buckets)
    ranks = [max(1, math.ceil(fraction * total)) for fraction in (0.5, 0.9, 0.99)]
    found: list[float] = []
    seen = 0
    for index, n in buckets:
        seen += n
        while len(found) < len(ranks) and seen >= ranks[len(found)]:
            found.append(min(floor + (index + 0.5) * resolution, high))
    counts.histogram = _histogram(buckets, floor, resolution, high)
    return Delays(total, found[0], found[1], found[2], high)


def _histogram(
    buckets: list[tuple[int, int]], floor: float, resolution: float, high: float
) -> Histogram:
    """The fine buckets gathered into about 30 bins of a round width."""
    width = _nice_width((max(high, 0.0) - floor) / _HISTOGRAM_BINS)
    start = math.floor(floor / width) * width
    bins = math.floor((max(high, 0.0) - start) / width) + 1
    counts = [0] * bins
    for index, n in buckets:
        moment = floor + index * resolution
        counts[min(max(math.floor((moment - start) / width), 0), bins - 1)] += n
    return Histogram(start, width, counts)


def _nice_width(raw: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten at least `raw` (1 ms at least)."""
    raw = max(raw, 0.001)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw - 1e-12)


# -- pass 3: the timeline ------------------------------------------------------------------------


def _timeline(store: DeliveryStore, counts: _Counts) -> Timeline | None:
    """The accepted rows by the steps in which they were answered, reached the gateway and
    ended, grouped by one number made of the four (a sort on one integer, not four keys)."""
    if counts.times is None:
        return None
    start, end = counts.times
    step = max((end - start) / _TIMELINE_STEPS, 0.001)
    size = _TIMELINE_STEPS + 2  # 0: never; 1 + the step, the last moment's step being 60

    def bucket(column: str) -> str:
        inside = f"CASE WHEN ({column} - ?) / ? < 0 THEN 0 ELSE ({column} - ?) / ? END"
        return f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 + {store.floor(inside)} END)"

    key = (
        f"((state * {size} + {bucket('sent_at')}) * {size}"
        f" + {bucket('gateway_at')}) * {size} + {bucket('final_at')}"
    )
    sent, gateway = [0] * _TIMELINE_STEPS, [0] * _TIMELINE_STEPS
    finals: dict[tuple[str, bool], list[int]] = {}
    for number, n in store.query(
        f"SELECT {key} AS k, COUNT(*) FROM {_TABLE}"
        f" WHERE sent_at IS NOT NULL AND state IN {_ACCEPTED_CODES} GROUP BY k",
        (start, step, start, step) * 3,
    ):
        rest, b_final = divmod(int(number), size)
        rest, b_gateway = divmod(rest, size)
        code, b_sent = divmod(rest, size)
        sent[_clamp(b_sent - 1)] += int(n)
        if b_gateway:
            gateway[_clamp(b_gateway - 1)] += int(n)
        if b_final:
            state = STATES[code]
            series = finals.setdefault((state, bool(b_gateway)), [0] * _TIMELINE_STEPS)
            series[_clamp(b_final - 1)] += int(n)
    return Timeline(start, step, _stacked(sent, gateway, finals))


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
    ended = ("received", "failed", "cancelled", "expired")
    ended_after_gateway, ended_before = final(ended, (True,)), final(ended, (False,))
    return {
        "awaiting": [
            max(s - g - f, 0) for s, g, f in zip(all_sent, all_gateway, ended_before, strict=True)
        ],
        "at gateway": [
            max(g - f, 0) for g, f in zip(all_gateway, ended_after_gateway, strict=True)
        ],
        "received": final(("received",)),
        "failed": final(("failed", "cancelled")),
        "expired": final(("expired",)),
    }
