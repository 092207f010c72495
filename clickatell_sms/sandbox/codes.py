"""The refusals the sandbox answers with: the spec's error codes, and when each is used.

Codes, texts, HTTP statuses and scopes come from the spec's `x-error-codes` (through
`clickatell_wire.tables`, the table the client and the bulk engine read too), so they are defined
once. What is written here is the sandbox's side: which refusal it makes, with which more precise
description where one helps, and in what case (`when`, for the docs table). Where the API has no
known code (rate limiting), `code` is None and the body carries only the texts.
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
    "CATALOGUE",
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
    accepted. `status` is then meaningless and kept at 202.
    """

    code: int | None
    error: str
    description: str
    status: int
    per_recipient: bool = False
    when: str = ""
    """When the sandbox answers with it, in words (for the docs table)."""

    def because(self, description: str) -> ApiError:
        """The same error with a description that says exactly what was wrong."""
        return replace(self, description=description)


def _from_spec(
    code: int, *, when: str, description: str | None = None, status: int | None = None
) -> ApiError:
    """The spec's entry for `code`, with this sandbox's case (and, if given, a more precise
    description or another status)."""
    entry = ERROR_CODES[code]
    return ApiError(
        code,
        entry.error,
        entry.description if description is None else description,
        entry.status if status is None else status,
        per_recipient=entry.scope == "recipient",
        when=when,
    )


# --- request-level -----------------------------------------------------------------------------

MISSING_KEY = _from_spec(
    108,
    when="`Authorization` (or `apiKey` for the GET send) is missing or not a configured key",
)
MALFORMED = _from_spec(
    100,
    when="the body is not well-formed JSON/XML, or not a SendMessageRequest document",
)
INVALID_PARAMETERS = _from_spec(
    101,
    when="`content` or `to` missing, an unknown field, a repeated recipient, a value outside"
    " the spec (charset, validityPeriod, scheduledDeliveryTime, clientMessageId, binary content"
    " that is not hex); a malformed `messageId` in the status look-up",
)
TOO_MANY_RECIPIENTS = _from_spec(
    101,
    description="Too many recipients: at most 200 are allowed per request.",
    when="more than 200 recipients (the description says so)",
)
INVALID_UDH = _from_spec(
    102,
    when="`userDataHeader` is not hex octets, or its first octet is not the length of the rest",
)
EMPTY_MESSAGE = _from_spec(
    107,
    when="`content` is present but empty",
)
INVALID_FROM = _from_spec(
    106,
    when="a two-way sandbox gets no `from`, or a `from` it does not own",
)
FROM_NOT_TWO_WAY = _from_spec(
    607,
    when="a one-way sandbox (no two-way numbers configured) gets a `from`",
)
TOO_MANY_PARTS = _from_spec(
    113,
    description="The message needs more than 35 parts.",
    when="the content needs more than 35 parts (GSM-7/UCS-2/binary counting)",
)
MISSING_MESSAGE_ID = _from_spec(
    109,
    when="status look-up without `messageId`",
)
UNKNOWN_MESSAGE_ID = _from_spec(
    103,
    when="status look-up of an ID the sandbox never issued",
)
METHOD_NOT_ALLOWED = _from_spec(
    160,
    when="a known path with another method (the answer has an `Allow` header)",
)
NOT_FOUND = _from_spec(
    161,
    when="an unknown path",
)
BAD_ACCEPT = _from_spec(
    166,
    when="`Accept` allows neither JSON nor XML",
)
BAD_CONTENT_TYPE = _from_spec(
    167,
    when="`POST /messages` with a Content-Type other than JSON or XML, or none",
)
BODY_TOO_LARGE = _from_spec(
    100,
    description="The request body is larger than the sandbox accepts (1 MiB).",
    status=413,
    when="a body over 1 MiB (sandbox limit; the connection is closed)",
)
BAD_SANDBOX_HEADER = _from_spec(
    101,
    description="An X-Sandbox-* header has a value the sandbox does not know.",
    when="sandbox only: an unknown `X-Sandbox-Fault`/`X-Sandbox-Quirks`/`X-Sandbox-Latency` value",
)

# --- injected faults ---------------------------------------------------------------------------

RATE_LIMITED = ApiError(
    None,
    "Too many requests",
    "Generic rate-limiting error; retry after the number of seconds in Retry-After.",
    429,
    when="injected fault `429` (with `Retry-After`); nothing is recorded",
)
INTERNAL_ERROR = _from_spec(
    901,
    when="injected fault `500`; nothing is recorded",
)
SERVICE_UNAVAILABLE = _from_spec(
    901,
    description="The service is temporarily unavailable; the request was not processed.",
    status=503,
    when="injected fault `503` (with `Retry-After`); nothing is recorded",
)

# --- per recipient (inside a 202) --------------------------------------------------------------

INVALID_DESTINATION = _from_spec(
    105,
    when="a recipient that is not an optional `+` and 6 to 19 digits starting with 1-9",
)
CANNOT_ROUTE = _from_spec(
    114,
    when="magic number: a recipient ending in `9114`",
)
BLOCKED = _from_spec(
    121,
    when="magic number: a recipient ending in `9121`",
)
OPTED_OUT = _from_spec(
    122,
    when="magic number: a recipient ending in `9122`",
)
NO_CREDIT = _from_spec(
    301,
    when="the balance cannot pay for this recipient's parts",
)

CATALOGUE: tuple[ApiError, ...] = (
    MALFORMED,
    INVALID_PARAMETERS,
    TOO_MANY_RECIPIENTS,
    INVALID_UDH,
    UNKNOWN_MESSAGE_ID,
    INVALID_DESTINATION,
    INVALID_FROM,
    EMPTY_MESSAGE,
    MISSING_KEY,
    MISSING_MESSAGE_ID,
    TOO_MANY_PARTS,
    CANNOT_ROUTE,
    BLOCKED,
    OPTED_OUT,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    BAD_ACCEPT,
    BAD_CONTENT_TYPE,
    NO_CREDIT,
    FROM_NOT_TWO_WAY,
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE,
    RATE_LIMITED,
    BODY_TOO_LARGE,
    BAD_SANDBOX_HEADER,
)
"""Every error the sandbox can answer with, for docs and tests."""
