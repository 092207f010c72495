"""How an accepted message's status moves on: a fixed, time-driven sequence per recipient.

A status is a function of the record and the clock, never of hidden state, so the status
look-up and the callbacks always agree and a test can predict both:

    accepted ──▶ 2 MESSAGE_QUEUED ──(to_gateway)──▶ 3 DELIVERED_TO_GATEWAY
             ──(to_handset)──▶ 4 RECEIVED_BY_RECIPIENT   (or a failure, by magic number)

A `scheduledDeliveryTime` in the future holds the message at 11 SCHEDULED until then; the
sequence starts from that moment. Two sandbox test numbers (see `recipients`) pick other outcomes:

* `447700900007`: 7 ERROR_DELIVERING instead of 4 (the handset never got it).
* `447700900003`: stays at 3 DELIVERED_TO_GATEWAY (no handset receipt ever comes).

`Failures(rate=...)` makes a share of the other messages fail: each draws, from a hash of
the seed and its `apiMessageId` (so the draw is the same every time it is asked), whether it
fails and which of the spec's final failure statuses (`x-message-statuses`: failed, expired,
cancelled) it ends with. A failure decided at the handset (one that `reached_gateway`, such as 7)
comes after 3 DELIVERED_TO_GATEWAY; the others replace it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from clickatell_wire.tables import status_codes_of_kind

from ..statuses import KNOWN_STATUSES, MessageStatus
from .recipients import FAILS_DELIVERY_NUMBER, STAYS_AT_GATEWAY_NUMBER
from .store import RecordedMessage

__all__ = [
    "FAILURE_STATUSES",
    "NO_FAILURES",
    "Failures",
    "StatusDelays",
    "StatusEvent",
    "parse_delivery_time",
    "status_at",
    "timeline",
    "unit_draw",
]

_DELIVERY_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S%z"

_SCHEDULED = KNOWN_STATUSES[11]
_QUEUED = KNOWN_STATUSES[2]
_AT_GATEWAY = KNOWN_STATUSES[3]
_RECEIVED = KNOWN_STATUSES[4]
_ERROR_DELIVERING = KNOWN_STATUSES[7]
FAILURE_STATUSES: Final[tuple[MessageStatus, ...]] = tuple(
    KNOWN_STATUSES[code] for code in sorted(status_codes_of_kind("failed", "expired", "cancelled"))
)
"""The statuses a drawn failure ends with: every final status of the spec but receipt."""


@dataclass(frozen=True, slots=True)
class StatusDelays:
    """Seconds between the steps; small by default so tests that wait for delivery stay fast."""

    to_gateway: float = 0.05
    to_handset: float = 0.05

    def __post_init__(self) -> None:
        if self.to_gateway < 0 or self.to_handset < 0:
            raise ValueError("status delays must not be negative")

    @classmethod
    def of(cls, delays: StatusDelays | tuple[float, float]) -> StatusDelays:
        """`delays` as they are, or made from a (to gateway, to handset) pair."""
        return delays if isinstance(delays, StatusDelays) else cls(*delays)


@dataclass(frozen=True, slots=True)
class Failures:
    """How the messages that no test number decides end: a `rate` share (0 to 1) of them
    fails, each with one of `FAILURE_STATUSES`, drawn from `seed` and its ID."""

    rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"a failure rate is between 0 and 1, not {self.rate}")

    def failure_of(self, api_message_id: str) -> MessageStatus | None:
        """The failure status this message ends with, or None when it is received."""
        if self.rate <= 0.0:
            return None
        if unit_draw(self.seed, api_message_id, "fails") >= self.rate:
            return None
        pick = unit_draw(self.seed, api_message_id, "status")
        return FAILURE_STATUSES[int(pick * len(FAILURE_STATUSES))]


NO_FAILURES: Final = Failures()


def unit_draw(seed: int, key: str, purpose: str) -> float:
    """A number in [0, 1) that depends only on its arguments: the same message draws the same
    way however often, and in whichever process, it is asked."""
    digest = hashlib.blake2b(f"{seed}:{purpose}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One status a message takes, and when (seconds since the epoch)."""

    at: float
    status: MessageStatus


def parse_delivery_time(value: str) -> datetime:
    """Read `2017-02-27T14:30:00+0200` (the documented form), or another ISO 8601 form the
    default profile lets through with a warning (`Z`, `+02:00`; no offset is UTC). ValueError
    for anything else, or a date that does not exist."""
    try:
        return datetime.strptime(value, _DELIVERY_TIME_FORMAT)
    except ValueError:
        moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def timeline(
    record: RecordedMessage, delays: StatusDelays, failures: Failures = NO_FAILURES
) -> list[StatusEvent]:
    """Every status the message will take, in order, with the moment it takes it."""
    accepted = record.received_at.timestamp()
    events: list[StatusEvent] = []
    start = accepted
    if record.scheduled_delivery_time:
        due = parse_delivery_time(record.scheduled_delivery_time).timestamp()
        if due > accepted:
            events.append(StatusEvent(accepted, _SCHEDULED))
            start = due
    at_gateway = start + delays.to_gateway
    events.append(StatusEvent(start, _QUEUED))
    if record.to == STAYS_AT_GATEWAY_NUMBER:
        return [*events, StatusEvent(at_gateway, _AT_GATEWAY)]
    if record.to == FAILS_DELIVERY_NUMBER:
        final: MessageStatus | None = _ERROR_DELIVERING
    else:
        final = failures.failure_of(record.api_message_id)
    if final is not None and not final.reached_gateway:
        return [*events, StatusEvent(at_gateway, final)]
    events.append(StatusEvent(at_gateway, _AT_GATEWAY))
    events.append(StatusEvent(at_gateway + delays.to_handset, final or _RECEIVED))
    return events


def status_at(
    record: RecordedMessage, delays: StatusDelays, now: float, failures: Failures = NO_FAILURES
) -> StatusEvent:
    """The latest status reached at `now` (the first one if the clock reads earlier)."""
    events = timeline(record, delays, failures)
    current = events[0]
    for event in events[1:]:
        if event.at > now:
            break
        current = event
    return current
