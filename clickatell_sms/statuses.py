"""The vocabulary of message states: one table shared by callbacks, status queries and the sandbox.

Clickatell reports a message's progress as a numeric code (1-14) and, on the Platform, an
UPPER_SNAKE name. Only two of those names are confirmed, and the API may grow new states, so this
module never rejects what it does not know: an unknown code or name comes through unchanged and is
simply classified as "not final".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["KNOWN_STATUSES", "STATUS_BY_NAME", "MessageStatus", "status_from"]

_SUCCESS_CODES = frozenset({4})
# Codes after which nothing more will happen to the message.
_FINAL_CODES = frozenset({4, 5, 6, 7, 9, 10, 12, 13, 14})


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """One state of a sent message, as reported by Clickatell.

    `code` is the numeric status (None when only a name was reported and it is not in our
    table); `name` is the Platform's name for it ("" when none was given and the code is
    unknown). Classification goes by `code` alone, because the numeric table is the documented
    vocabulary while most names are our own guesses.
    """

    code: int | None
    name: str
    description: str

    @property
    def is_final(self) -> bool:
        """No further status will follow (delivered, failed or cancelled)."""
        return self.code in _FINAL_CODES

    @property
    def is_success(self) -> bool:
        """The handset confirmed receipt."""
        return self.code in _SUCCESS_CODES

    @property
    def is_failure(self) -> bool:
        """Final without reaching the handset; cancellations and credit or limit stops count."""
        return self.is_final and not self.is_success

    def __str__(self) -> str:
        return self.name or f"status {self.code}"


def _entry(code: int, name: str, description: str) -> tuple[int, MessageStatus]:
    return code, MessageStatus(code, name, description)


# Names for codes 3 and 4 are the only ones Clickatell has been seen to send. The others are
# UNCONFIRMED: derived by us from the legacy descriptions, in the same style, so that a status
# query or the sandbox can print something readable. Never match on them for behaviour.
KNOWN_STATUSES: Mapping[int, MessageStatus] = MappingProxyType(
    dict(
        [
            _entry(1, "MESSAGE_UNKNOWN", "The message ID is unknown, or its report is delayed."),
            _entry(2, "MESSAGE_QUEUED", "Not delivered yet; waiting to be tried again."),
            _entry(3, "DELIVERED_TO_GATEWAY", "Handed over to the upstream gateway or network."),
            _entry(4, "RECEIVED_BY_RECIPIENT", "The handset confirmed receipt."),
            _entry(5, "ERROR_WITH_MESSAGE", "The message failed, probably because of its content."),
            _entry(6, "USER_CANCELLED", "Delivery was stopped by the user."),
            _entry(7, "ERROR_DELIVERING", "The message could not be delivered to the handset."),
            _entry(8, "RECEIVED_BY_GATEWAY", "Accepted by Clickatell's gateway."),
            _entry(9, "ROUTING_ERROR", "No route could be found for the message."),
            _entry(10, "MESSAGE_EXPIRED", "Expired before reaching the upstream gateway."),
            _entry(11, "SCHEDULED", "Held for delivery at a later time."),
            _entry(12, "OUT_OF_CREDIT", "The account did not have enough credit."),
            _entry(13, "CLICKATELL_CANCELLED", "Delivery was stopped by Clickatell."),
            _entry(14, "MAX_MT_EXCEEDED", "The allowed amount of outbound messaging was used up."),
        ]
    )
)

STATUS_BY_NAME: Mapping[str, MessageStatus] = MappingProxyType(
    {status.name: status for status in KNOWN_STATUSES.values()}
)

_INTEGER = re.compile(r"[+-]?[0-9]+")


def _code_from(value: int | str | None) -> int | None:
    """Read "004", "4", " 4 " or 4 as 4; anything that is not a whole number becomes None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):  # JSON numbers may arrive as 4.0
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    return int(text) if _INTEGER.fullmatch(text) else None


def _name_key(name: str) -> str:
    """Lookup key for a name: "received by recipient" and "Received-By-Recipient" both match."""
    return re.sub(r"[\s-]+", "_", name.strip()).upper()


def status_from(
    code: int | str | None, name: str | None, description: str | None = None
) -> MessageStatus:
    """The status for a code and/or name as reported; never raises.

    What was reported wins over the table: a given name or description is kept as given, and
    the table only fills in what is missing. A known name without a code gets the table's code.
    An unknown code, or an unknown name with no code, comes through as-is and is classified as
    not final (and neither success nor failure), since we cannot know what it means. A code that
    is not a whole number is treated as absent; the caller's raw data still holds it.
    """
    number = _code_from(code)
    given_name = name.strip() if name else ""
    known = KNOWN_STATUSES.get(number) if number is not None else None
    if known is None and number is None and given_name:
        known = STATUS_BY_NAME.get(_name_key(given_name))
        number = known.code if known else None
    return MessageStatus(
        code=number,
        name=given_name or (known.name if known else ""),
        description=description or (known.description if known else ""),
    )
