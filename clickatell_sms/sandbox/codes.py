"""The Clickatell error codes the sandbox answers with, kept as data.

Every refusal the sandbox can produce is one entry here, so the behaviour, the tests and the
table in docs/sandbox.md all read from one place. Codes 106, 108 and 607 and their texts are
what the Platform API has been seen to return; the others come from Clickatell's legacy error
list, which the Platform reuses (see the project's reference notes, section 2). Where the API
has no known code (rate limiting), `code` is None and the body carries only the texts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


# --- request-level -----------------------------------------------------------------------------

MISSING_KEY = ApiError(
    108,
    "Invalid or missing integration API Key.",
    "The integration API key is either incorrect or has not been included in the API call.",
    401,
    when="`Authorization` (or `apiKey` for the GET send) is missing or not a configured key",
)
MALFORMED = ApiError(
    100,
    "Data malformed",
    "The JSON/XML data submitted is invalid.",
    400,
    when="the body is not well-formed JSON/XML, or not a SendMessageRequest document",
)
INVALID_PARAMETERS = ApiError(
    101,
    "Invalid or missing parameters",
    "One or more parameters are missing or invalid.",
    400,
    when="`content` or `to` missing, an unknown field, a repeated recipient, a value outside"
    " the spec (charset, validityPeriod, scheduledDeliveryTime, clientMessageId, binary content"
    " that is not hex); a malformed `messageId` in the status look-up",
)
TOO_MANY_RECIPIENTS = ApiError(
    101,
    "Invalid or missing parameters",
    "Too many recipients: at most 200 are allowed per request.",
    400,
    when="more than 200 recipients (the description says so)",
)
INVALID_UDH = ApiError(
    102,
    "Invalid user data header",
    "The format of the user data header is incorrect.",
    400,
    when="`userDataHeader` is not hex octets, or its first octet is not the length of the rest",
)
EMPTY_MESSAGE = ApiError(
    107,
    "Empty message",
    "The message content is empty.",
    400,
    when="`content` is present but empty",
)
INVALID_FROM = ApiError(
    106,
    "Invalid FROM number.",
    "You should specify correct FROM number.",
    400,
    when="a two-way sandbox gets no `from`, or a `from` it does not own",
)
FROM_NOT_TWO_WAY = ApiError(
    607,
    "Invalid FROM number.",
    "User specified FROM number, but integration isn't two-way.",
    400,
    when="a one-way sandbox (no two-way numbers configured) gets a `from`",
)
TOO_MANY_PARTS = ApiError(
    113,
    "Maximum message parts exceeded",
    "The message needs more than 35 parts.",
    400,
    when="the content needs more than 35 parts (GSM-7/UCS-2/binary counting)",
)
MISSING_MESSAGE_ID = ApiError(
    109,
    "Missing message ID",
    "The messageId query parameter is required.",
    400,
    when="status look-up without `messageId`",
)
UNKNOWN_MESSAGE_ID = ApiError(
    103,
    "Unknown API message ID",
    "No message with this ID was sent through this integration.",
    404,
    when="status look-up of an ID the sandbox never issued",
)
METHOD_NOT_ALLOWED = ApiError(
    160,
    "HTTP method is not supported on this resource",
    "This resource does not support this HTTP method.",
    405,
    when="a known path with another method (the answer has an `Allow` header)",
)
NOT_FOUND = ApiError(
    161,
    "Resource does not exist",
    "The requested resource does not exist.",
    404,
    when="an unknown path",
)
BAD_ACCEPT = ApiError(
    166,
    "Invalid accept header specified",
    "Accept must allow application/json or application/xml.",
    400,
    when="`Accept` allows neither JSON nor XML",
)
BAD_CONTENT_TYPE = ApiError(
    167,
    "Invalid or no content-type specified",
    "Content-Type must be application/json or application/xml.",
    415,
    when="`POST /messages` with a Content-Type other than JSON or XML, or none",
)
BODY_TOO_LARGE = ApiError(
    100,
    "Data malformed",
    "The request body is larger than the sandbox accepts (1 MiB).",
    413,
    when="a body over 1 MiB (sandbox limit; the connection is closed)",
)
BAD_SANDBOX_HEADER = ApiError(
    101,
    "Invalid or missing parameters",
    "An X-Sandbox-* header has a value the sandbox does not know.",
    400,
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
INTERNAL_ERROR = ApiError(
    901,
    "Internal error - please retry",
    "An internal error occurred; the request may or may not have been processed.",
    500,
    when="injected fault `500`; nothing is recorded",
)
SERVICE_UNAVAILABLE = ApiError(
    901,
    "Internal error - please retry",
    "The service is temporarily unavailable; the request was not processed.",
    503,
    when="injected fault `503` (with `Retry-After`); nothing is recorded",
)

# --- per recipient (inside a 202) --------------------------------------------------------------

INVALID_DESTINATION = ApiError(
    105,
    "Invalid destination address",
    "The number must be in international format: country code first, 6 to 19 digits.",
    202,
    per_recipient=True,
    when="a recipient that is not an optional `+` and 6 to 19 digits starting with 1-9",
)
CANNOT_ROUTE = ApiError(
    114,
    "Cannot route message",
    "The gateway does not route to this network prefix.",
    202,
    per_recipient=True,
    when="magic number: a recipient ending in `9114`",
)
BLOCKED = ApiError(
    121,
    "Destination mobile number blocked",
    "The number is on Clickatell's block list.",
    202,
    per_recipient=True,
    when="magic number: a recipient ending in `9121`",
)
OPTED_OUT = ApiError(
    122,
    "Destination mobile opted out",
    "The recipient opted out of messages from this sender.",
    202,
    per_recipient=True,
    when="magic number: a recipient ending in `9122`",
)
NO_CREDIT = ApiError(
    301,
    "No credit left",
    "The balance does not cover this message.",
    202,
    per_recipient=True,
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
