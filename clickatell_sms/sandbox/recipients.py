"""Which recipients the sandbox accepts, and its test numbers.

A recipient is read as the API echoes it: one leading `+` dropped. What is left must be digits
that do not start with 0 (international format: no national number, no `00`), as Clickatell's
legacy list says for error 105 (rule `recipient`); its length, 6 to 19 digits, is this
project's bound (rule `recipient-length`, inferred: the default accepts with a warning). Refused
recipients do not fail the request: their entry in the `202` answer has `accepted: false` and the
error code, and the others are still sent.

Test numbers let a test get the other outcomes. They sit in a documented reserved range, away
from the numbers test data is usually made of (a real-looking number and the ones after it):
Ofcom keeps +44 7700 900000 to 900999 for drama and never allocates it. Only the five numbers
below behave specially; every other number of the range is an ordinary accepted number.

| Number | What happens |
|---|---|
| `447700900114` | refused in its entry: 114 Cannot route message |
| `447700900121` | refused in its entry: 121 Destination mobile number blocked |
| `447700900122` | refused in its entry: 122 Destination mobile opted out |
| `447700900007` | accepted, then fails: 2 → 3 → 7 ERROR_DELIVERING (see `timeline`) |
| `447700900003` | accepted, stays at 3 DELIVERED_TO_GATEWAY |

Their refusals say "Sandbox test number", so nobody mistakes one for a rule of the API.
"""

from __future__ import annotations

from typing import Final

from .codes import ApiError
from .profile import Findings

__all__ = [
    "BLOCKED_NUMBER",
    "CANNOT_ROUTE_NUMBER",
    "FAILS_DELIVERY_NUMBER",
    "OPTED_OUT_NUMBER",
    "STAYS_AT_GATEWAY_NUMBER",
    "TEST_RANGE",
    "check_recipient",
    "normalised",
]

TEST_RANGE: Final = "447700900"
"""The first nine digits of every sandbox test number (Ofcom's drama range)."""
CANNOT_ROUTE_NUMBER: Final = "447700900114"
BLOCKED_NUMBER: Final = "447700900121"
OPTED_OUT_NUMBER: Final = "447700900122"
FAILS_DELIVERY_NUMBER: Final = "447700900007"
STAYS_AT_GATEWAY_NUMBER: Final = "447700900003"

_REFUSING: Final[dict[str, str]] = {
    CANNOT_ROUTE_NUMBER: "test-number-114",
    BLOCKED_NUMBER: "test-number-121",
    OPTED_OUT_NUMBER: "test-number-122",
}
_MIN_DIGITS: Final = 6
_MAX_DIGITS: Final = 19


def normalised(raw: str) -> str:
    """The number as the API echoes it: without one leading `+`."""
    return raw[1:] if raw.startswith("+") else raw


def check_recipient(number: str, raw: str, findings: Findings) -> ApiError | None:
    """Why the entry of `number` (`raw` as sent, normalised) is refused; None: accepted.

    Runs for every recipient of every request, so the usual case (digits, no leading 0, a
    plausible length, no test number) is decided by the first test.
    """
    if number.isdigit() and number.isascii() and number[0] != "0":
        if not _MIN_DIGITS <= len(number) <= _MAX_DIGITS:
            error = findings.refuses_recipient(
                "recipient-length",
                f"{raw!r} has {len(number)} digits; numbers have {_MIN_DIGITS} to {_MAX_DIGITS}.",
            )
            if error is not None:
                return error
    else:
        error = findings.refuses_recipient(
            "recipient", f"{raw!r} is not international digits (no leading 0 or 00)."
        )
        if error is not None:
            return error
    test_rule = _REFUSING.get(number)
    if test_rule is None:
        return None
    return findings.refuses_recipient(test_rule, "Sandbox test number.")
