"""The errors the sandbox answers with: Clickatell's codes and texts, and the HTTP status of each.

Codes, texts, HTTP statuses and scopes come from the spec's `x-error-codes` (through
`clickatell_wire.tables`, the table the client and the bulk engine read too), so they are defined
once. What is written here is the sandbox's side: the error values its rules refuse with, each
with a more precise description where one helps. When, and on what evidence, each is used is in
`rules`. Where the API has no known code (rate limiting), `code` is None and the body carries only
the texts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from clickatell_wire.tables import ERROR_CODES

__all__ = [
    "BAD_ACCEPT",
    "BAD_CONTENT_TYPE",
    "BAD_SANDBOX_HEADER",
    "BLOCKED",
    "BODY_TOO_LARGE",
    "CANNOT_ROUTE",
    "CLIENT_MESSAGE_ID_SPACE",
    "EMPTY_MESSAGE",
    "FROM_NOT_TWO_WAY",
    "INTERNAL_ERROR",
    "INVALID_DESTINATION",
    "INVALID_FROM",
    "INVALID_PARAMETERS",
    "INVALID_UDH",
    "MALFORMED",
    "METHOD_NOT_ALLOWED",
    "MISSING_KEY",
    "MISSING_MESSAGE_ID",
    "NOT_FOUND",
    "NO_CREDIT",
    "OPTED_OUT",
    "RATE_LIMITED",
    "SERVICE_UNAVAILABLE",
    "TOO_MANY_PARTS",
    "TOO_MANY_RECIPIENTS",
    "UNKNOWN_MESSAGE_ID",
    "ApiError",
]


@dataclass(frozen=True, slots=True)
class ApiError:
    """One refusal: Clickatell's code and texts, the HTTP status it goes with, and its scope.

    `per_recipient` errors never fail a request; they mark one entry of a `202` answer as not
    accepted. `status` is then meaningless and kept at 202. `other_status` is the status that
    weaker evidence gives, where the evidence disagrees (a quirk answers with it).
    """

    code: int | None
    error: str
    description: str
    status: int
    per_recipient: bool = False
    other_status: int | None = None

    def because(self, description: str) -> ApiError:
        """The same error with a description that says exactly what was wrong."""
        return replace(self, description=description)


def _from_spec(
    code: int,
    *,
    description: str | None = None,
    status: int | None = None,
    other_status: int | None = None,
) -> ApiError:
    """The spec's entry for `code` (and, if given, a more precise description or another
    status)."""
    entry = ERROR_CODES[code]
    return ApiError(
        code,
        entry.error,
        entry.description if description is None else description,
        entry.status if status is None else status,
        per_recipient=entry.scope == "recipient",
        other_status=other_status,
    )


# --- request-level -----------------------------------------------------------------------------

MISSING_KEY = _from_spec(108)
MALFORMED = _from_spec(100)
INVALID_PARAMETERS = _from_spec(101)
TOO_MANY_RECIPIENTS = _from_spec(
    101, description="Too many recipients: at most 200 are allowed per request."
)
INVALID_UDH = _from_spec(102)
EMPTY_MESSAGE = _from_spec(107)
CLIENT_MESSAGE_ID_SPACE = _from_spec(120)
# The live API answered 106 with 200; the legacy status table would say 400.
INVALID_FROM = _from_spec(106, other_status=400)
FROM_NOT_TWO_WAY = _from_spec(607, other_status=400)
TOO_MANY_PARTS = _from_spec(113, description="The message needs more than 35 parts.")
MISSING_MESSAGE_ID = _from_spec(109)
UNKNOWN_MESSAGE_ID = _from_spec(103)
METHOD_NOT_ALLOWED = _from_spec(160)
NOT_FOUND = _from_spec(161)
BAD_ACCEPT = _from_spec(166)
BAD_CONTENT_TYPE = _from_spec(167)
BODY_TOO_LARGE = _from_spec(
    100, description="The request body is larger than the sandbox accepts (1 MiB).", status=413
)
BAD_SANDBOX_HEADER = _from_spec(
    101, description="An X-Sandbox-* header has a value the sandbox does not know."
)

# --- injected faults ---------------------------------------------------------------------------

RATE_LIMITED = ApiError(
    None,
    "Too many requests",
    "Generic rate-limiting error; retry after the number of seconds in Retry-After.",
    429,
)
INTERNAL_ERROR = _from_spec(901)
SERVICE_UNAVAILABLE = _from_spec(
    901,
    description="The service is temporarily unavailable; the request was not processed.",
    status=503,
)

# --- per recipient (inside a 202) --------------------------------------------------------------

INVALID_DESTINATION = _from_spec(105)
CANNOT_ROUTE = _from_spec(114)
BLOCKED = _from_spec(121)
OPTED_OUT = _from_spec(122)
NO_CREDIT = _from_spec(301)
