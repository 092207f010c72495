"""The catalogue: requests that settle a question about the live API and cannot send anything.

Every probe is built so that no message can come of it, whatever the API does with the rest of
the request:

* its recipients contain no digit at all (`not-a-number`), so no network can route them, even
  if the API stripped the letters; or
* a field the API needs is missing, or the key is wrong, so the request is refused before any
  recipient is looked at; or
* it only reads (the balance, a status look-up of an ID nobody was given).

A refused validation costs nothing ("There will be no message charge if these errors are
generated", Clickatell's error list), and a recipient refused in its entry is not sent. The
runner still stops at the first answer that reports an accepted recipient, in case the API ever
did something nobody expected.

A probe's `rule` is the sandbox rule its answer settles (see `clickatell_sms.sandbox.rules`); its
`baseline` is the probe whose plain invalid-recipient request it varies: an observation counts
only if the live API took that baseline request (answering per recipient), since otherwise a
refusal could be the recipient's fault rather than the probed field's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import quote

__all__ = [
    "CATALOGUE",
    "INVALID",
    "KeyPlacement",
    "Probe",
    "probe_named",
]

KeyPlacement = Literal["header", "query", "bearer", "wrong", "none"]

INVALID: Final = "not-a-number"
"""The recipient of every send probe: no digit, so nothing can route it."""
WRONG_KEY: Final = "conformance-probe-not-a-key"
CONTENT: Final = "clickatell-sms conformance probe (cannot be delivered)"

_JSON: Final = "application/json"
_XML: Final = "application/xml"
_JSON_BASELINE: Final = "invalid-recipient-json"
_XML_BASELINE: Final = "invalid-recipient-xml"
_GET_BASELINE: Final = "get-send-invalid-recipient"


@dataclass(frozen=True, slots=True)
class Probe:
    """One request of the catalogue, and what its answer tells."""

    name: str
    question: str
    why_free: str
    method: str
    path: str
    body: bytes = b""
    content_type: str | None = None
    accept: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    key: KeyPlacement = "header"
    rule: str | None = None
    baseline: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = field(default=())

    def headers(self, api_key: str) -> dict[str, str]:
        """The request's headers with `api_key` where the probe puts a key."""
        headers: dict[str, str] = {}
        if self.key == "header":
            headers["Authorization"] = api_key
        elif self.key == "bearer":
            headers["Authorization"] = f"Bearer {api_key}"
        elif self.key == "wrong":
            headers["Authorization"] = WRONG_KEY
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        if self.accept is not None:
            headers["Accept"] = self.accept
        headers.update(self.extra_headers)
        return headers

    def target(self, api_key: str) -> str:
        """Path and query, with `api_key` as `apiKey` where the probe puts it there."""
        pairs = list(self.query)
        if self.key == "query":
            pairs.append(("apiKey", api_key))
        if not pairs:
            return self.path
        return (
            self.path + "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
        )


def _json(document: dict[str, object]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _send_json(**fields: object) -> bytes:
    return _json({"content": CONTENT, "to": [INVALID], **fields})


def _send_xml(*elements: str, to: tuple[str, ...] = (INVALID,)) -> bytes:
    recipients = "".join(f"<To>{number}</To>" for number in to)
    inner = f"<Content>{CONTENT}</Content>{recipients}{''.join(elements)}"
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    return f"{declaration}<SendMessageRequest>{inner}</SendMessageRequest>".encode()


def _letters(count: int) -> list[str]:
    """`count` distinct recipients of letters only (invalid-aa, invalid-ab, ...)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    return [f"invalid-{alphabet[i // 26 % 26]}{alphabet[i % 26]}" for i in range(count)]


_NO_ROUTE = "its only recipient has no digit, so no network can route it"
_NONE_ROUTE = "no recipient has a digit, so none can be routed"
_NO_KEY = "there is no key, so the request is refused before anything else"
_REFUSED_FIRST = "a field the API needs is missing, so nothing is sent whatever else it does"


def _post(
    name: str,
    question: str,
    body: bytes,
    *,
    rule: str | None,
    why_free: str = _NO_ROUTE,
    content_type: str | None = _JSON,
    accept: str | None = _JSON,
    key: KeyPlacement = "header",
    baseline: str | None = _JSON_BASELINE,
) -> Probe:
    return Probe(
        name=name,
        question=question,
        why_free=why_free,
        method="POST",
        path="/messages",
        body=body,
        content_type=content_type,
        accept=accept,
        key=key,
        rule=rule,
        baseline=baseline,
    )


def _get_send(
    name: str,
    question: str,
    query: tuple[tuple[str, str], ...],
    *,
    rule: str | None,
    key: KeyPlacement = "query",
    baseline: str | None = _GET_BASELINE,
    why_free: str = _NO_ROUTE,
) -> Probe:
    return Probe(
        name=name,
        question=question,
        why_free=why_free,
        method="GET",
        path="/messages/http/send",
        query=query,
        key=key,
        rule=rule,
        baseline=baseline,
    )


_GET_QUERY: Final = (("to", INVALID), ("content", CONTENT))

CATALOGUE: Final[tuple[Probe, ...]] = (
    # -- baselines: how an invalid-only send is answered, and the answers' shape and headers --
    _post(
        _JSON_BASELINE,
        "Is a send whose only recipient is invalid answered per recipient (105 in a 202), and"
        " with which envelope, Content-Type and charset, and rate-limit headers?",
        _send_json(),
        rule=None,
        baseline=None,
    ),
    _post(
        _XML_BASELINE,
        "The same in XML: the envelope, the declaration (standalone?), per-recipient 105?",
        _send_xml(),
        rule=None,
        content_type=_XML,
        accept=_XML,
        baseline=None,
    ),
    _get_send(
        _GET_BASELINE,
        "Does the GET send answer with the POST's envelope, and which status?",
        _GET_QUERY,
        rule=None,
        baseline=None,
    ),
    # -- what the API tolerates ----------------------------------------------------------------
    _post(
        "unknown-field",
        "Is a JSON field the Platform does not name refused (101), or ignored?",
        _send_json(probeUnknownField="x"),
        rule="unknown-field",
    ),
    _post(
        "unknown-element",
        "Is an XML element the Platform does not name refused, or ignored?",
        _send_xml("<ProbeUnknownElement>x</ProbeUnknownElement>"),
        rule="unknown-element",
        content_type=_XML,
        accept=_XML,
        baseline=_XML_BASELINE,
    ),
    _get_send(
        "get-send-unknown-parameter",
        "Does the GET send refuse a parameter other than to, content and from"
        " (here clientMessageId), or take it?",
        (*_GET_QUERY, ("clientMessageId", "conformance-probe")),
        rule="unknown-parameter",
    ),
    _get_send(
        "get-send-comma-list",
        "Does the GET send take a comma-separated `to` (two entries in the answer)?",
        (("to", f"{INVALID},also-{INVALID}"), ("content", CONTENT)),
        rule=None,
        why_free=_NONE_ROUTE,
    ),
    _post(
        "schedule-z",
        "Is scheduledDeliveryTime with `Z` accepted (the documented form is +0200)?",
        _send_json(scheduledDeliveryTime="2030-01-01T00:00:00Z"),
        rule="delivery-time-offset",
    ),
    _post(
        "schedule-colon-offset",
        "Is scheduledDeliveryTime with `+02:00` (Python's isoformat) accepted?",
        _send_json(scheduledDeliveryTime="2030-01-01T02:00:00+02:00"),
        rule="delivery-time-offset",
    ),
    _post(
        "schedule-impossible",
        "Which status and code refuse a delivery time that does not exist (30 February)?",
        _send_json(scheduledDeliveryTime="2030-02-30T10:00:00+0200"),
        rule="delivery-time",
    ),
    _post(
        "validity-over-a-week",
        "Is a validityPeriod over 10080 minutes (a week) refused?",
        _send_json(validityPeriod=20000),
        rule="validity-period",
    ),
    _post(
        "validity-zero",
        "Is a validityPeriod of 0 refused?",
        _send_json(validityPeriod=0),
        rule="validity-period",
    ),
    _post(
        "client-message-id-256",
        "Is a clientMessageId of 256 characters refused?",
        _send_json(clientMessageId="p" * 256),
        rule="client-message-id-length",
    ),
    _post(
        "client-message-id-space",
        "Is a space in clientMessageId refused, and with 120 (the legacy REST list) or 101?",
        _send_json(clientMessageId="conformance probe"),
        rule="client-message-id-space",
    ),
    _post(
        "bearer-key",
        "Is `Authorization: Bearer KEY` taken, or refused with 108?",
        _send_json(),
        rule="bearer-prefix",
        key="bearer",
    ),
    _post(
        "binary-not-hex",
        "With binary, is content that is not hex refused?",
        _send_json(binary=True, content="not hex"),
        rule="binary-hex",
    ),
    _post(
        "null-field",
        "Is an optional field set to null (`from: null`) read as absent, or refused?",
        _send_json(**{"from": None}),
        rule="null-field",
    ),
    _post(
        "plus-duplicate",
        "Are `+X` and `X` in one request answered once (folded) or twice?",
        _json({"content": CONTENT, "to": [INVALID, f"+{INVALID}"]}),
        rule=None,
        why_free=_NONE_ROUTE,
    ),
    _post(
        "duplicate-recipients",
        "Is the same recipient twice refused (the `uniqueItems` of Clickatell's OpenAPI)?",
        _json({"content": CONTENT, "to": [INVALID, INVALID]}),
        rule="to-unique",
        why_free=_NONE_ROUTE,
    ),
    _post(
        "from-number",
        "Which error (106 or 607) and which HTTP status refuse a `from` this integration does"
        " not own?",
        _send_json(**{"from": INVALID}),
        rule=None,
    ),
    _post(
        "from-and-empty-content",
        "With a `from` and an empty content, which does the API refuse first: the document"
        " (107) or the integration's `from` rule (607 or 106)?",
        _json({"content": "", "to": [INVALID], "from": INVALID}),
        rule=None,
        why_free="the content is empty and its only recipient has no digit",
    ),
    # -- each request-level error: its status and envelope -------------------------------------
    _post(
        "missing-key",
        "Which status and envelope come with a missing key (108)?",
        _send_json(),
        rule="api-key",
        key="none",
        why_free=_NO_KEY,
    ),
    _post(
        "wrong-key",
        "Which status and envelope come with a wrong key (108)?",
        _send_json(),
        rule="api-key",
        key="wrong",
        why_free="the key is not one, so the request is refused before anything else",
    ),
    _post(
        "missing-content",
        "Which status and code refuse a send without content?",
        _json({"to": [INVALID]}),
        rule="content-required",
        why_free=_REFUSED_FIRST,
    ),
    _post(
        "empty-content",
        "Which status and code (107?) refuse empty content?",
        _json({"content": "", "to": [INVALID]}),
        rule="content-empty",
    ),
    _post(
        "missing-to",
        "Which status and code refuse a send without `to`?",
        _json({"content": CONTENT}),
        rule="to-required",
        why_free="there is no recipient at all",
    ),
    _post(
        "malformed-json",
        "Which status and code (100?) refuse a body that is not JSON?",
        b'{"content": "probe", "to": ["' + INVALID.encode() + b'"]',
        rule="malformed",
        why_free="the body cannot be read, so nothing can be sent",
    ),
    _post(
        "malformed-xml",
        "Which status and code refuse XML that is not well formed?",
        b"<SendMessageRequest><Content>probe</Content>",
        rule="malformed",
        content_type=_XML,
        accept=_XML,
        why_free="the body cannot be read, so nothing can be sent",
        baseline=_XML_BASELINE,
    ),
    _post(
        "text-content-type",
        "Which status (400 or 415) and code (167?) refuse a text/plain body?",
        _send_json(),
        rule="content-type",
        content_type="text/plain",
    ),
    _post(
        "unacceptable-accept",
        "Which status and code (166?) refuse an Accept of neither JSON nor XML?",
        _send_json(),
        rule="accept",
        accept="text/csv",
    ),
    _post(
        "too-many-recipients",
        "Which status, code and text refuse 201 recipients?",
        _json({"content": CONTENT, "to": _letters(201)}),
        rule="to-limit",
        why_free=_NONE_ROUTE,
    ),
    _post(
        "udh-not-hex",
        "Which status and code (102?) refuse a user data header that is not hex?",
        _send_json(userDataHeader="ZZ"),
        rule="udh",
    ),
    _post(
        "udh-length-octet",
        "Is a user data header whose length octet lies refused (102)?",
        _send_json(userDataHeader="0705040B8423F0"),
        rule="udh",
    ),
    _post(
        "too-many-parts",
        "Which status and code (113?) refuse 36 parts of text?",
        _send_json(content="p" * (153 * 35 + 1)),
        rule="parts",
    ),
    _post(
        "unknown-charset",
        "Is a charset other than the four documented refused?",
        _send_json(charset="latin-1"),
        rule="charset",
    ),
    Probe(
        name="unknown-path",
        question="Which status and envelope answer an unknown path (161?)?",
        why_free="no such resource, and a GET changes nothing",
        method="GET",
        path="/conformance-probe",
        accept=_JSON,
        rule="path",
    ),
    Probe(
        name="wrong-method",
        question="Which status and code answer GET /messages (160, 405?)?",
        why_free="a GET changes nothing",
        method="GET",
        path="/messages",
        accept=_JSON,
        rule="method",
    ),
    _get_send(
        "get-send-missing-key",
        "Which status and envelope does the GET send answer a missing key with?",
        _GET_QUERY,
        rule="api-key",
        key="none",
        baseline=None,
        why_free=_NO_KEY,
    ),
    # -- the look-ups ---------------------------------------------------------------------------
    Probe(
        name="balance",
        question="What shape, Content-Type and headers does the balance answer have?",
        why_free="a look-up changes nothing",
        method="GET",
        path="/public-client/balance",
        accept=_JSON,
    ),
    Probe(
        name="status-unknown-id",
        question="Which status and code (103, 404?) answer a look-up of an ID never issued?",
        why_free="a look-up changes nothing",
        method="GET",
        path="/public-client/message/status",
        query=(("messageId", "0" * 32),),
        accept=_JSON,
        rule="message-id-unknown",
    ),
    Probe(
        name="status-missing-id",
        question="Which status and code (109?) answer a look-up without messageId?",
        why_free="a look-up changes nothing",
        method="GET",
        path="/public-client/message/status",
        accept=_JSON,
        rule="message-id-required",
    ),
    Probe(
        name="status-odd-id",
        question="Is a messageId that is no ID (with a space) refused, or looked up (103)?",
        why_free="a look-up changes nothing",
        method="GET",
        path="/public-client/message/status",
        query=(("messageId", "conformance probe"),),
        accept=_JSON,
        rule="message-id-format",
    ),
)
"""Every probe, in the order they run: baselines first, then what is tolerated, then errors."""


def probe_named(name: str) -> Probe:
    """A probe by name; KeyError naming the catalogue otherwise."""
    for probe in CATALOGUE:
        if probe.name == name:
            return probe
    raise KeyError(f"no probe {name!r}; the catalogue has {', '.join(p.name for p in CATALOGUE)}")
