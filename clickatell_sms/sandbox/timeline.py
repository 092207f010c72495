"""How an accepted message's status moves on: a fixed, time-driven sequence per recipient.

A status is a function of the record and the clock, never of hidden state, so the status
look-up and the callbacks always agree and a test can predict both:

    accepted ──▶ 2 MESSAGE_QUEUED ──(to_gateway)──▶ 3 DELIVERED_TO_GATEWAY
             ──(to_handset)──▶ 4 RECEIVED_BY_RECIPIENT   (or a failure, by magic number)

A `scheduledDeliveryTime` in the future holds the message at 11 SCHEDULED until then; the
sequence starts from that moment. Two sandbox test numbers (see `recipients`) pick other outcomes:

* `447700900007`: 7 ERROR_DELIVERING instead of 4 (the handset never got it).
* `447700900003`: stays at 3 DELIVERED_TO_GATEWAY (no handset receipt ever comes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from ..statuses import KNOWN_STATUSES, MessageStatus
from .recipients import FAILS_DELIVERY_NUMBER, STAYS_AT_GATEWAY_NUMBER
from .store import RecordedMessage

__all__ = [
    "StatusDelays",
    "StatusEvent",
    "parse_delivery_time",
    "status_at",
    "timeline",
]

_DELIVERY_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S%z"

_SCHEDULED = KNOWN_STATUSES[11]
_QUEUED = KNOWN_STATUSES[2]
_AT_GATEWAY = KNOWN_STATUSES[3]
_RECEIVED = KNOWN_STATUSES[4]
_ERROR_DELIVERING = KNOWN_STATUSES[7]


@dataclass(frozen=True, slots=True)
class StatusDelays:
    """Seconds between the steps; small by default so tests that wait for delivery stay fast."""

    to_gateway: float = 0.05
    to_handset: float = 0.05

    def __post_init__(self) -> None:
        if self.to_gateway < 0 or self.to_handset < 0:
            raise ValueError("status delays must not be negative")


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


def timeline(record: RecordedMessage, delays: StatusDelays) -> list[StatusEvent]:
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
    events.append(StatusEvent(at_gateway, _AT_GATEWAY))
    if record.to == STAYS_AT_GATEWAY_NUMBER:
        return events
    final = _ERROR_DELIVERING if record.to == FAILS_DELIVERY_NUMBER else _RECEIVED
    events.append(StatusEvent(at_gateway + delays.to_handset, final))
    return events


def status_at(record: RecordedMessage, delays: StatusDelays, now: float) -> StatusEvent:
    """The latest status reached at `now` (the first one if the clock reads earlier)."""
    events = timeline(record, delays)
    current = events[0]
    for event in events[1:]:
        if event.at > now:
            break
        current = event
    return current
