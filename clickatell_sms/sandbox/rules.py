"""Every refusal the sandbox can make, as a rule that names its evidence.

Users test their own applications against the sandbox, so it must fail their tests only where
the live API would fail their production. Each rule therefore says what it is based on:

* `documented`: Clickatell's own pages (field list, types, limits, their OpenAPI document);
* `observed`: an answer the live API was seen to give (a capture in an issue or a log, or a
  conformance report fed to `--observed`);
* `legacy`: Clickatell's legacy error and status lists, which the Platform reuses (its codes
  106 and 108 match them);
* `inferred`: no source: this project's reading (a bound, a format, a refusal nobody has seen);
* `sandbox`: not a claim about the API at all: a test number, an `X-Sandbox-*` header, a limit
  the sandbox sets to protect itself.

The default profile enforces every rule but the inferred ones; those are enforced only with
`--strict` (`Sandbox(strict=True)`), and otherwise the request is accepted with an
`X-Sandbox-Warning` header and a note on each recorded message (see `profile`). The sources
named here are spelled out in the project's reference notes.

`Profile.markdown_table()` writes them as the table docs/sandbox.md carries; a test holds the
page to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from . import codes
from .codes import ApiError

__all__ = [
    "ENFORCED_BY_DEFAULT",
    "EVIDENCE",
    "RULES",
    "Evidence",
    "Rule",
    "rule",
]

Evidence = Literal["documented", "observed", "legacy", "inferred", "sandbox"]
EVIDENCE: Final[tuple[Evidence, ...]] = ("documented", "observed", "legacy", "inferred", "sandbox")
ENFORCED_BY_DEFAULT: Final[frozenset[Evidence]] = frozenset(
    {"documented", "observed", "legacy", "sandbox"}
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One thing the sandbox refuses: when, with which error, and on what evidence.

    `waivable` rules can be switched off by an observation (a conformance report saying the
    live API takes such a request): the sandbox then has a sensible way to go on. The others
    can only have their answer (code, status, texts) replaced.
    """

    id: str
    error: ApiError
    evidence: Evidence
    source: str
    when: str
    waivable: bool = False

    @property
    def enforced_by_default(self) -> bool:
        return self.evidence in ENFORCED_BY_DEFAULT


def _rule(
    id: str,
    error: ApiError,
    evidence: Evidence,
    source: str,
    when: str,
    *,
    waivable: bool | None = None,
) -> Rule:
    # Inferred rules are the ones an observation most often settles, so they are all waivable.
    return Rule(
        id, error, evidence, source, when, evidence == "inferred" if waivable is None else waivable
    )


_LEGACY_LIST = "Clickatell's legacy error list"
_LEGACY_STATUS = "the legacy status table"

RULES: Final[tuple[Rule, ...]] = (
    # -- routing and the request's headers ----------------------------------------------------
    _rule(
        "path",
        codes.NOT_FOUND,
        "legacy",
        f"{_LEGACY_LIST} (161); 404 from {_LEGACY_STATUS}",
        "an unknown path",
    ),
    _rule(
        "method",
        codes.METHOD_NOT_ALLOWED,
        "legacy",
        f"{_LEGACY_LIST} (160); 405 from {_LEGACY_STATUS}",
        "a known path with another method (the answer has `Allow`)",
    ),
    _rule(
        "api-key",
        codes.MISSING_KEY,
        "observed",
        "phpservermon/phpservermon issue 749 (code, texts and envelope, on the GET send);"
        f" 401 from {_LEGACY_STATUS}",
        "`Authorization` (or `apiKey` on the GET send) missing or not a key of the integration",
    ),
    _rule(
        "bearer-prefix",
        codes.MISSING_KEY,
        "inferred",
        "the Platform's pages show the raw key and never `Bearer` (the legacy REST API used it)",
        "`Authorization: Bearer KEY` with a valid key",
    ),
    _rule(
        "accept",
        codes.BAD_ACCEPT,
        "legacy",
        f"{_LEGACY_LIST} (166)",
        "`Accept` allows neither JSON nor XML (an empty `Accept` allows nothing)",
    ),
    _rule(
        "content-type",
        codes.BAD_CONTENT_TYPE,
        "legacy",
        f"{_LEGACY_LIST} (167); 400, as {_LEGACY_STATUS} has no 415",
        "`POST /messages` whose `Content-Type` is neither JSON nor XML, or none",
    ),
    _rule(
        "malformed",
        codes.MALFORMED,
        "legacy",
        f"{_LEGACY_LIST} (100)",
        "the body is not well-formed JSON or XML, or not a SendMessageRequest document",
    ),
    _rule(
        "xml-doctype",
        codes.MALFORMED,
        "sandbox",
        "the sandbox's own guard: a DOCTYPE declares entities whose expansion has no bound, and"
        " Clickatell's XML examples have none; code from the legacy list (100)",
        "an XML body with a DOCTYPE, refused where it begins (no entity in it is expanded)",
    ),
    # -- the document ---------------------------------------------------------------------------
    _rule(
        "content-required",
        codes.INVALID_PARAMETERS,
        "legacy",
        f"{_LEGACY_LIST} (101: missing parameters)",
        "no `content`",
    ),
    _rule(
        "content-empty",
        codes.EMPTY_MESSAGE,
        "legacy",
        "Clickatell's legacy HTTP error list (107)",
        "`content` is empty",
    ),
    _rule(
        "to-required",
        codes.INVALID_PARAMETERS,
        "legacy",
        f"{_LEGACY_LIST} (101: missing parameters)",
        "no `to`, or an empty one",
    ),
    _rule(
        "to-limit",
        codes.TOO_MANY_RECIPIENTS,
        "documented",
        "the send page: up to 200 messages per request; code from the legacy list (101)",
        "more than 200 recipients (the description says so)",
    ),
    _rule(
        "to-unique",
        codes.INVALID_PARAMETERS,
        "documented",
        "Clickatell's OpenAPI document: `to` has `uniqueItems: true`",
        "the same recipient twice, written the same way",
        waivable=True,
    ),
    _rule(
        "to-unique-normalised",
        codes.INVALID_PARAMETERS,
        "inferred",
        "what the live API does with `27821234567` and `+27821234567` together is unknown",
        "the same number twice once a leading `+` is dropped; the default answers, records"
        " and charges it once",
    ),
    _rule(
        "field-type",
        codes.INVALID_PARAMETERS,
        "documented",
        "the types in Clickatell's OpenAPI document; code from the legacy list (101)",
        'a field of the wrong type (`validityPeriod: "5"`, `binary: "yes"`, `to` not a list)',
    ),
    _rule(
        "null-field",
        codes.INVALID_PARAMETERS,
        "inferred",
        "Clickatell's examples never send null; whether it reads null as absent is unknown",
        "an optional field set to `null` (the default reads it as absent)",
    ),
    _rule(
        "field-value",
        codes.INVALID_PARAMETERS,
        "documented",
        "the field's definition in spec/openapi.yaml (used for a field with no rule of its own)",
        "a value outside its field's bounds, lengths, pattern or values",
    ),
    _rule(
        "unknown-field",
        codes.INVALID_PARAMETERS,
        "inferred",
        "the Platform's field list only leaves legacy fields out; Clickatell's Python SDK sends"
        " any extra key",
        "a JSON key the spec does not name (recorded as unknown)",
    ),
    _rule(
        "unknown-parameter",
        codes.INVALID_PARAMETERS,
        "inferred",
        "whether the GET send takes the POST's other fields is unknown",
        "a GET-send query parameter other than `to`, `content`, `from` and `apiKey` (recorded"
        " as unknown)",
    ),
    _rule(
        "unknown-element",
        codes.INVALID_PARAMETERS,
        "inferred",
        "as `unknown-field`, for XML",
        "an XML element the XSD does not name (recorded as unknown)",
    ),
    _rule(
        "charset",
        codes.INVALID_PARAMETERS,
        "documented",
        "the field list names ASCII, UCS2-BE, UTF-8 and Windows-1252",
        "`charset` is not one of the four the field list names",
        waivable=True,
    ),
    _rule(
        "validity-period",
        codes.INVALID_PARAMETERS,
        "inferred",
        "no bounds are published (the legacy API allowed up to 7 days)",
        "`validityPeriod` outside 1 to 10080 minutes",
    ),
    _rule(
        "client-message-id-space",
        codes.CLIENT_MESSAGE_ID_SPACE,
        "legacy",
        "the legacy REST error list (120: contains spaces); the legacy HTTP list gives 120"
        " another meaning, but `clientMessageId` is a REST field",
        "`clientMessageId` contains whitespace",
        waivable=True,
    ),
    _rule(
        "client-message-id-length",
        codes.INVALID_PARAMETERS,
        "inferred",
        "no length limit is published",
        "`clientMessageId` empty or longer than 255 characters",
    ),
    _rule(
        "delivery-time",
        codes.INVALID_PARAMETERS,
        "legacy",
        "the legacy HTTP error list (120: invalid delivery time); 101 because the REST list"
        " uses 120 for `clientMessageId` (quirk `delivery-time-120` answers 120)",
        "`scheduledDeliveryTime` is not a time, or not a real one (`2030-02-30...`)",
    ),
    _rule(
        "delivery-time-offset",
        codes.INVALID_PARAMETERS,
        "inferred",
        "the documented form is `2017-02-27T14:30:00+0200`; whether `Z`, `+02:00` or no offset"
        " are refused is unknown",
        "`scheduledDeliveryTime` in another ISO 8601 form (`Z`, `+02:00`, no offset: UTC)",
    ),
    _rule(
        "udh",
        codes.INVALID_UDH,
        "legacy",
        f"{_LEGACY_LIST} (102); the length octet is 3GPP TS 23.040's",
        "`userDataHeader` is not hex octets, is longer than a part, or its first octet is not"
        " the length of the rest",
    ),
    _rule(
        "binary-hex",
        codes.INVALID_PARAMETERS,
        "inferred",
        "binary content is hex on the legacy API; the Platform does not say",
        "`binary` is true and `content` is not whole hex octets (the default counts its UTF-8"
        " bytes)",
    ),
    _rule(
        "parts",
        codes.TOO_MANY_PARTS,
        "legacy",
        f"{_LEGACY_LIST} (113); at most 35 parts, Clickatell's concatenation page",
        "the content needs more than 35 parts (GSM-7, UCS-2 or binary counting)",
    ),
    _rule(
        "from-format",
        codes.INVALID_PARAMETERS,
        "inferred",
        "no format for `from` is published",
        "`from` is not an optional `+` and up to 20 digits",
    ),
    _rule(
        "from-one-way",
        codes.FROM_NOT_TWO_WAY,
        "observed",
        "a 2020 log of a live answer (anecdotal); 200 like 106, whose text it shares (quirk"
        " `from-errors-with-400` answers 400)",
        "a sandbox imitating a one-way integration (`--one-way`, `one_way=True`) gets a"
        " `from`; the default takes any `from`, as Clickatell's example request has one",
    ),
    _rule(
        "from-two-way",
        codes.INVALID_FROM,
        "observed",
        "home-assistant/core issue 23305: a live 106 with HTTP 200 (quirk"
        " `from-errors-with-400` answers 400, as the legacy status table would)",
        "a two-way sandbox (`--two-way NUMBER`) gets no `from`, or one it does not own",
    ),
    # -- each recipient (an entry of the 202) ---------------------------------------------------
    _rule(
        "recipient",
        codes.INVALID_DESTINATION,
        "legacy",
        f"{_LEGACY_LIST} (105: international format, no 00); per recipient in Clickatell's"
        " PHP SDK's fixture",
        "a recipient that is not digits after an optional `+`, or starts with 0 (national or `00`)",
    ),
    _rule(
        "recipient-length",
        codes.INVALID_DESTINATION,
        "inferred",
        "no length is published; 6 to 19 digits spans every country plan",
        "a recipient of fewer than 6 or more than 19 digits",
    ),
    _rule(
        "test-number-114",
        codes.CANNOT_ROUTE.because("Sandbox test number: this number cannot be routed."),
        "sandbox",
        "a test number (Ofcom reserves +44 7700 900xxx for drama; it is never allocated)",
        "the sandbox test number `447700900114`",
    ),
    _rule(
        "test-number-121",
        codes.BLOCKED.because("Sandbox test number: this number is on the block list."),
        "sandbox",
        "a test number (Ofcom's drama range)",
        "the sandbox test number `447700900121`",
    ),
    _rule(
        "test-number-122",
        codes.OPTED_OUT.because("Sandbox test number: this recipient opted out."),
        "sandbox",
        "a test number (Ofcom's drama range)",
        "the sandbox test number `447700900122`",
    ),
    _rule(
        "credit",
        codes.NO_CREDIT,
        "legacy",
        f"{_LEGACY_LIST} (301)",
        "the balance cannot pay for this recipient's parts",
    ),
    # -- the look-ups ---------------------------------------------------------------------------
    _rule(
        "message-id-required",
        codes.MISSING_MESSAGE_ID,
        "legacy",
        f"{_LEGACY_LIST} (109)",
        "a status look-up without `messageId`",
    ),
    _rule(
        "message-id-format",
        codes.INVALID_PARAMETERS,
        "inferred",
        "IDs are 32 hex characters in every example; no format is published",
        "a `messageId` that is not 1 to 64 letters, digits or hyphens (the default looks it up,"
        " and answers 103)",
    ),
    _rule(
        "message-id-unknown",
        codes.UNKNOWN_MESSAGE_ID,
        "legacy",
        f"Clickatell's legacy HTTP error list (103); 404 from {_LEGACY_STATUS}",
        "a status look-up of an ID the sandbox never issued",
    ),
    # -- the sandbox's own ----------------------------------------------------------------------
    _rule(
        "sandbox-header",
        codes.BAD_SANDBOX_HEADER,
        "sandbox",
        "the sandbox's test headers",
        "an unknown `X-Sandbox-Fault`, `X-Sandbox-Quirks` or `X-Sandbox-Latency` value",
    ),
    _rule(
        "body-size",
        codes.BODY_TOO_LARGE,
        "sandbox",
        "the sandbox's own limit",
        "a body over 1 MiB (the connection is then closed)",
    ),
    _rule(
        "fault-429",
        codes.RATE_LIMITED,
        "sandbox",
        "injected on request; no code is known for it",
        "injected fault `429` (with `Retry-After`); nothing is recorded",
    ),
    _rule(
        "fault-500",
        codes.INTERNAL_ERROR,
        "sandbox",
        "injected on request",
        "injected fault `500`; nothing is recorded",
    ),
    _rule(
        "fault-503",
        codes.SERVICE_UNAVAILABLE,
        "sandbox",
        "injected on request",
        "injected fault `503` (with `Retry-After`); nothing is recorded",
    ),
)
"""Every rule, in the order a request meets them."""

_BY_ID: Final[Mapping[str, Rule]] = MappingProxyType({r.id: r for r in RULES})


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError naming the known ids otherwise."""
    try:
        return _BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"no sandbox rule {rule_id!r}; known: {', '.join(_BY_ID)}") from None
