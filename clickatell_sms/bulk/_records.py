"""What a bulk run reads and what it reports: the input rows, each row's result, the summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from .journal import UnknownBatch

__all__ = ["STATUSES", "BadRow", "BulkResult", "BulkSummary", "Recipient", "Status"]

Status = Literal["accepted", "rejected", "failed", "unknown", "opted_out"]
STATUSES: Final[tuple[Status, ...]] = ("accepted", "rejected", "failed", "unknown", "opted_out")


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient with, optionally, its own message text and the row it came from.

    `row` is how results refer to it (a CSV line number, a database key); by default it is the
    recipient's 0-based position in the input.
    """

    to: str
    content: str | None = None
    row: int | None = None


@dataclass(frozen=True, slots=True)
class BadRow:
    """An input row that cannot be sent, and why; reported `failed` (`invalid`) with its row."""

    to: str
    reason: str
    row: int | None = None


class BulkResult(msgspec.Struct, frozen=True, gc=False, omit_defaults=False):
    """The final status of one input row.

    `status` is one of accepted, rejected, failed, unknown, opted_out (the number opted out, so
    the row was not sent; `description` says when and how). `error` is the API's error text, or
    one of the SDK's own: `invalid` (bad row, not sent), `duplicate` (a repeat, sent once, see
    `duplicate_of`), `not sent` (the request provably did not reach the API, or the run stopped),
    `outcome unknown`, `opted out`. `client_message_id` names the request that carried the row, for
    reconciling unknown outcomes with delivery callbacks. `earlier` marks a row journalled by an
    earlier run, reported again by a resumed one.
    """

    row: int
    to: str
    number: str | None
    status: Status
    api_message_id: str | None = None
    error_code: int | None = None
    error: str | None = None
    description: str | None = None
    client_message_id: str | None = None
    duplicate_of: int | None = None
    earlier: bool = False


@dataclass(slots=True)
class BulkSummary:
    """What a bulk run did: rows per terminal status, and where to look for details.

    `accepted + rejected + failed + unknown + opted_out == total`, the number of input rows
    read; `opted_out` rows were not sent because their number opted out (the opt-out store).
    `invalid` (bad rows and rows whose message cannot be sent, part of `failed`) and
    `duplicates` (repeats, part of `rejected`) break two of them down; `opt_outs_ignored` counts
    the rows sent to numbers that had opted out (`ignore_opt_outs=True`), part of the others.
    `parts` is the message parts of the accepted rows (what the API charges for): the figure a
    dry run predicts. `earlier` is how many rows an earlier run had already settled (resume).
    `batches` counts the requests this run made and `sent` the recipients they carried (what
    `recipients_per_s` is computed from: rows settled without a request, or by an earlier run,
    are not sending). `unknown_batches` lists every request whose outcome is unknown, by
    `client_message_id`: check them (delivery callbacks, the portal) before choosing to send
    them again with `resend_unknown`. `unjournalled` lists requests that were answered (and are
    counted here as answered) but whose outcome the journal could not record, because writing
    it failed: a resume will report them unknown. `campaign` is the campaign's ID when it ran on
    workers (`bulk.cluster`), to resume it by.
    """

    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    unknown: int = 0
    opted_out: int = 0
    invalid: int = 0
    duplicates: int = 0
    opt_outs_ignored: int = 0
    parts: int = 0
    earlier: int = 0
    batches: int = 0
    sent: int = 0
    duration: float = 0.0
    stopped: str | None = None
    journal: Path | None = None
    output: Path | None = None
    unknown_batches: list[UnknownBatch] = field(default_factory=list)
    unjournalled: list[str] = field(default_factory=list)
    campaign: str | None = None

    @property
    def total(self) -> int:
        """Rows read, each counted in exactly one status."""
        return self.accepted + self.rejected + self.failed + self.unknown + self.opted_out

    @property
    def rate(self) -> float | None:
        """Recipients sent per second by this run (None before it took any time)."""
        return self.sent / self.duration if self.duration > 0 else None

    @property
    def all_accepted(self) -> bool:
        """True when every row read was accepted (and at least one was read)."""
        return self.total > 0 and self.accepted == self.total

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI prints it with `--json`)."""
        rate = self.rate
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "failed": self.failed,
            "unknown": self.unknown,
            "opted_out": self.opted_out,
            "total": self.total,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "opt_outs_ignored": self.opt_outs_ignored,
            "parts": self.parts,
            "earlier": self.earlier,
            "batches": self.batches,
            "sent": self.sent,
            "duration_s": round(self.duration, 3),
            "recipients_per_s": None if rate is None else round(rate, 1),
            "stopped": self.stopped,
            "journal": None if self.journal is None else str(self.journal),
            "output": None if self.output is None else str(self.output),
            "unknown_batches": [
                {"client_message_id": b.client_message_id, "recipients": b.recipients}
                for b in self.unknown_batches
            ],
            "unjournalled": list(self.unjournalled),
            "campaign": self.campaign,
        }
