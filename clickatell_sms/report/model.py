"""What a campaign report holds: the funnel, the time to delivery, the failures, the timeline.

Every number is computed by `queries` with aggregate queries over the journal; these types only
hold and shape them (`to_dict` is `report --json`). Each input row is counted in exactly one
state (`STATES`):

* not sent: `not_sent` (a bad row, or a row the run stopped before), `duplicate` (a repeat, sent
  once under its first row), `opted_out` (its number opted out, so it was skipped);
* sent but not taken: `rejected` (the API refused the recipient), `unknown` (the request's
  answer never came, and no callback has shown that it arrived);
* accepted: `received`, `failed`, `expired`, `cancelled` (final statuses), `pending` (no final
  status yet).

So `rows == sent + not_sent + duplicates + opted_out`, `sent == accepted + rejected + unknown` and
`accepted == received + failed + expired + pending` (cancellations count as failures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "ACCEPTED_STATES",
    "NOT_SENT_STATES",
    "STATES",
    "CampaignReport",
    "Delays",
    "Funnel",
    "Histogram",
    "Reason",
    "Timeline",
]

STATES: Final = (
    "not_sent",
    "duplicate",
    "opted_out",
    "rejected",
    "unknown",
    "received",
    "failed",
    "expired",
    "cancelled",
    "pending",
)
ACCEPTED_STATES: Final = ("received", "failed", "expired", "cancelled", "pending")
NOT_SENT_STATES: Final = ("not_sent", "duplicate", "opted_out")


@dataclass(frozen=True, slots=True)
class Funnel:
    """Rows by state, and the cumulative stages a sender reads top to bottom."""

    by_state: dict[str, int]
    at_gateway: int
    """Accepted rows seen at the gateway (or beyond) at some point."""
    pending_at_gateway: int
    """Pending rows last seen at the gateway."""
    confirmed_by_callback: int
    """Rows of requests whose answer never came, shown sent by a callback (counted accepted)."""

    def count(self, *states: str) -> int:
        return sum(self.by_state.get(state, 0) for state in states)

    @property
    def rows(self) -> int:
        return self.count(*STATES)

    @property
    def sent(self) -> int:
        return self.rows - self.count(*NOT_SENT_STATES)

    @property
    def accepted(self) -> int:
        return self.count(*ACCEPTED_STATES)

    @property
    def failed(self) -> int:
        """Final failures, cancellations included (expiry apart)."""
        return self.count("failed", "cancelled")

    def stages(self) -> list[tuple[str, int]]:
        """The funnel as (label, count), top to bottom."""
        return [
            ("rows", self.rows),
            ("sent", self.sent),
            ("accepted by the API", self.accepted),
            ("delivered to the gateway", self.at_gateway),
            ("received by the handset", self.count("received")),
            ("failed", self.failed),
            ("expired", self.count("expired")),
            ("pending", self.count("pending")),
        ]


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason rows did not reach a handset, and how many."""

    kind: str
    """`status` (a delivery status), `error` (the API refused the recipient), `not sent`, or
    `unknown` (the request's outcome)."""
    code: int | None
    name: str
    description: str
    count: int

    @property
    def label(self) -> str:
        code = "" if self.code is None else f" {self.code}"
        if self.kind == "status":
            return f"status{code} {self.name}"
        if self.kind == "error":
            return f"API error{code}: {self.name}"
        return self.name


@dataclass(frozen=True, slots=True)
class Delays:
    """Seconds from the API's answer to the handset's receipt, over the received rows."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            **{
                f"{name}_s": None if value is None else round(value, 3)
                for name, value in (
                    ("p50", self.p50),
                    ("p90", self.p90),
                    ("p99", self.p99),
                    ("max", self.max),
                )
            },
        }


@dataclass(frozen=True, slots=True)
class Histogram:
    """Received rows by delivery time: `counts[i]` took from `start + i * width` seconds to
    `width` more (`start` is the fastest delivery, rounded down to a multiple of `width`)."""

    start: float
    width: float
    counts: list[int]

    def edges(self, index: int) -> tuple[float, float]:
        low = self.start + index * self.width
        return low, low + self.width


@dataclass(frozen=True, slots=True)
class Timeline:
    """The accepted rows by state at the end of each step since the campaign's first answer.

    `series` maps a state (awaiting, at gateway, received, failed, expired) to one count per
    step; stacked, they make the rows accepted by then.
    """

    start: float
    step: float
    series: dict[str, list[int]]

    @property
    def steps(self) -> int:
        return len(next(iter(self.series.values()), []))


@dataclass(slots=True)
class CampaignReport:
    """Everything `report` shows about one campaign."""

    journal: str
    campaign: str | None
    funnel: Funnel
    failed_by_status: list[Reason]
    rejected_by_error: list[Reason]
    not_sent: list[Reason]
    delays: Delays
    histogram: Histogram | None
    timeline: Timeline | None
    unknown_callbacks: int
    unknown_examples: list[tuple[str, str]]
    by_lookup: int
    generated_at: float
    refresh: dict[str, Any] | None = field(default=None)

    def failure_reasons(self, limit: int = 10) -> list[Reason]:
        """The most common reasons rows did not reach a handset, most common first."""
        reasons = [*self.failed_by_status, *self.rejected_by_error, *self.not_sent]
        unknown = self.funnel.count("unknown")
        if unknown:
            reasons.append(Reason("unknown", None, "request outcome unknown", "", unknown))
        reasons.sort(key=lambda r: (-r.count, r.kind, r.code or 0, r.name))
        return reasons[:limit]

    def to_dict(self) -> dict[str, Any]:
        """The report as one JSON object (`report --json`)."""
        funnel = self.funnel
        return {
            "journal": self.journal,
            "campaign": self.campaign,
            "generated_at": _iso(self.generated_at),
            "funnel": {
                "rows": funnel.rows,
                "sent": funnel.sent,
                "accepted": funnel.accepted,
                "delivered_to_gateway": funnel.at_gateway,
                "received": funnel.count("received"),
                "failed": funnel.failed,
                "expired": funnel.count("expired"),
                "pending": funnel.count("pending"),
            },
            "states": {state: funnel.by_state.get(state, 0) for state in STATES},
            "pending_at_gateway": funnel.pending_at_gateway,
            "confirmed_by_callback": funnel.confirmed_by_callback,
            "failed_by_status": [_reason(r) for r in self.failed_by_status],
            "rejected_by_error": [_reason(r) for r in self.rejected_by_error],
            "not_sent": [_reason(r) for r in self.not_sent],
            "time_to_delivery": self.delays.to_dict(),
            "failure_reasons": [{**_reason(r), "reason": r.label} for r in self.failure_reasons()],
            "callbacks": {
                "unknown_messages": self.unknown_callbacks,
                "unknown_examples": [
                    {"apiMessageId": mid, "status": status} for mid, status in self.unknown_examples
                ],
                "statuses_from_lookups": self.by_lookup,
            },
            "refresh": self.refresh,
        }


def _reason(reason: Reason) -> dict[str, Any]:
    return {
        "kind": reason.kind,
        "code": reason.code,
        "name": reason.name,
        "description": reason.description,
        "count": reason.count,
    }


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
