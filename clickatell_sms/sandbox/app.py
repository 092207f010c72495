"""The API's behaviour: routing, authentication, negotiation, validation, billing and recording.

This module knows nothing about sockets. The HTTP layer (`protocol`) hands it each request twice:
once when the headers are in (`plan`: which fault, if any, this request gets), and once with the
body (`handle`: the answer). Everything runs on the server's event loop thread, so the per-request
path needs no locks of its own; the store, the account and the rule log lock for readers in other
threads.

Every refusal is a rule of `rules`, weighed by the sandbox's `Profile`: the answer to a refused
request names it (`X-Sandbox-Rule`), and an accepted request that broke an inferred rule says
so (`X-Sandbox-Warning`, and a note on its records). The order of checks for `POST /messages` is
the order a client meets them: path and method (404/161, 405/160), key (401/108), Accept
(400/166), Content-Type (400/167), the document (100, 101, 102, 107, 120), parts (113), the `from`
rule (607, 106, with status 200 as observed), and then each recipient (inside the 202: 105, 114,
121, 122, 301). The `from` rule is about the integration, not the document, so it comes after
every rule of the document: a request that is wrong in itself gets the document's error first.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Final, TypeVar
from urllib.parse import parse_qs

import msgspec
from clickatell_wire import models
from clickatell_wire.tables import OPERATIONS, SEND_OPTIONS

from .. import encoding
from ..errors import ValidationError
from ..redact import mask_secret
from . import codes
from .billing import Account
from .callbacks import CallbackPoster
from .codes import ApiError
from .documents import (
    Outcome,
    WireFormat,
    error_document,
    read_json_request,
    read_query_request,
    read_xml_request,
    send_document,
)
from .faults import NO_FAULT, FaultDecision, FaultInjector, Faults
from .profile import Findings, Profile, Refusal, RuleLog, header_safe
from .quirks import Quirks
from .recipients import check_recipient, normalised
from .replies import NO_REPLIES, Replies
from .store import MessageStore, RecordedMessage, RecordFormat
from .timeline import NO_FAILURES, Failures, StatusDelays, StatusEvent, status_at, timeline
from .validation import check_document

__all__ = ["Plan", "Request", "Response", "SandboxApp"]

SANDBOX_PREFIX: Final = "/_sandbox/"
_JSON: Final = "application/json"
_XML: Final = "application/xml"
_MEDIA: Final[dict[WireFormat, str]] = {"json": _JSON, "xml": _XML}
_SEND_PATHS: Final = frozenset({"/messages", "/messages/http/send"})
_MESSAGE_ID_CHARS: Final = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
)
_BEARER: Final = "bearer "
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_FAULT_RULES: Final[dict[str, str]] = {"429": "fault-429", "500": "fault-500", "503": "fault-503"}
_DELIVERY_TIME_120: Final = ApiError(
    120, "Invalid delivery time", "The scheduled delivery time is not valid.", 400
)
_json_encoder: Final = msgspec.json.Encoder()
_T = TypeVar("_T")


@dataclass(slots=True)
class Request:
    """One HTTP request as the protocol read it; header names are lower-case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Response:
    """One answer. `close` asks the protocol to close the connection after writing it."""

    status: int
    body: bytes
    content_type: str = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens to a request, decided from its headers before the body is read."""

    fault: FaultDecision
    quirks: Quirks
    refusal: ApiError | None = None

    @property
    def drop_before_body(self) -> bool:
        return self.fault.kind == "drop-before-body"

    @property
    def drop_after_body(self) -> bool:
        return self.fault.kind == "drop-after-body"

    @property
    def latency(self) -> float:
        return self.fault.latency


Handler = Callable[[Request, "Plan"], Response]


class SandboxApp:
    """The Clickatell Platform API, played by one integration with the given keys and numbers."""

    HANDLERS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "sendMessage": "_send",
            "sendMessageHttp": "_send_http",
            "getBalance": "_balance",
            "getMessageStatus": "_status",
        }
    )
    """The method that answers each of the spec's operations, by operationId."""

    def __init__(
        self,
        *,
        api_keys: Collection[str],
        two_way_numbers: Collection[str],
        account: Account,
        store: MessageStore,
        delays: StatusDelays,
        faults: Faults,
        quirks: Quirks,
        seed: int,
        profile: Profile | None = None,
        callbacks: CallbackPoster | None = None,
        clock: Callable[[], float] = time.time,
        one_way: bool = False,
        failures: Failures = NO_FAILURES,
        replies: Replies = NO_REPLIES,
    ) -> None:
        if one_way and two_way_numbers:
            raise ValueError("an integration is one-way or owns two-way numbers, not both")
        self.api_keys = frozenset(api_keys)
        self.two_way_numbers = frozenset(number.removeprefix("+") for number in two_way_numbers)
        self.one_way = one_way
        self.account = account
        self.store = store
        self.delays = delays
        self.failures = failures
        self.replies = replies
        self.quirks = quirks
        self.profile = profile or Profile()
        self.rule_log = RuleLog()
        self.seed = seed
        self.injector = FaultInjector(faults, seed)
        self.callbacks = callbacks
        self.clock = clock
        self.requests_seen = 0
        self._plain_plan = Plan(NO_FAULT, quirks)
        self._routes = self._route_table()

    def _route_table(self) -> dict[str, tuple[str, Handler]]:
        """Path -> (method, handler), from the spec's operations (`clickatell_wire.tables`).

        An operation of the spec without a handler here is a sandbox that disagrees with the
        spec: refused at start-up, naming it, rather than answered 404 at run time.
        """
        handlers = self.HANDLERS
        missing = [op.operation_id for op in OPERATIONS if op.operation_id not in handlers]
        if missing:
            raise NotImplementedError(
                f"the sandbox has no handler for the spec's operations: {', '.join(missing)}"
            )
        routes = {
            op.path: (op.method, getattr(self, handlers[op.operation_id])) for op in OPERATIONS
        }
        routes["/_sandbox/messages"] = ("GET", self._list_messages)
        return routes

    # ----------------------------------------------------------------------------------------
    # Runtime settings (called from other threads: each is one attribute swap)

    def set_faults(self, faults: Faults | None, seed: int | None = None) -> None:
        """New fault settings, with a fresh random stream and fault count."""
        self.injector = FaultInjector(faults or Faults(), self.seed if seed is None else seed)

    def set_quirks(self, quirks: Quirks | None) -> None:
        self.quirks = quirks or Quirks()
        self._plain_plan = Plan(NO_FAULT, self.quirks)

    # ----------------------------------------------------------------------------------------
    # The two entry points

    def plan(self, path: str, headers: dict[str, str]) -> Plan:
        """Decide a request's fault and quirks from its headers alone (before the body)."""
        if path.startswith(SANDBOX_PREFIX):
            return self._plain_plan
        self.requests_seen += 1
        fault_header = headers.get("x-sandbox-fault")
        latency_header = headers.get("x-sandbox-latency")
        quirks_header = headers.get("x-sandbox-quirks")
        injector = self.injector
        if injector.idle and fault_header is None and latency_header is None and not quirks_header:
            return self._plain_plan
        try:
            quirks = self.quirks.merged(quirks_header)
            decision = injector.decide(fault_header, latency_header)
        except ValueError as exc:
            self.rule_log.refused("sandbox-header")
            return Plan(NO_FAULT, self.quirks, codes.BAD_SANDBOX_HEADER.because(f"{exc}."))
        return Plan(decision, quirks)

    def handle(self, request: Request, plan: Plan) -> Response:
        """The answer to a request whose body has been read.

        An injected 429/500/503 comes first, before routing, as it would from a gateway in front
        of the API; the request is then not looked at at all.
        """
        if plan.refusal is not None:
            return self._error(request, plan, plan.refusal, "sandbox-header")
        if plan.fault.kind in ("429", "500", "503"):
            return self._fault(request, plan)
        route = self._routes.get(request.path)
        if route is None:
            self.rule_log.refused("path")
            return self._error(request, plan, codes.NOT_FOUND, "path")
        method, handler = route
        if request.method != method:
            self.rule_log.refused("method")
            response = self._error(request, plan, codes.METHOD_NOT_ALLOWED, "method")
            response.headers.append(("Allow", method))
            return response
        return handler(request, plan)

    def framing_error(self, headers: dict[str, str], error: ApiError) -> Response:
        """An answer for a request the protocol could not read; the connection then closes."""
        fmt = _negotiate(headers.get("accept"), "json") or "json"
        body = error_document(error, fmt, self.quirks, envelope=True)
        return Response(error.status, body, _MEDIA[fmt], close=True)

    # ----------------------------------------------------------------------------------------
    # POST /messages

    def _send(self, request: Request, plan: Plan) -> Response:
        headers = request.headers
        media = _media_type(headers.get("content-type"))
        body_format: WireFormat | None = (
            "json" if media == _JSON else "xml" if media == _XML else None
        )
        fmt = _negotiate(headers.get("accept"), body_format or "json")
        findings = self._findings()
        try:
            self._check_key(headers.get("authorization"), findings)
            if fmt is None:
                fmt = body_format or "json"
                findings.fatal("accept")
            if body_format is None:
                findings.fatal("content-type")
            if body_format == "json":
                fields = read_json_request(request.body, findings)
            else:
                fields = read_xml_request(request.body, findings)
            outcomes, request_id = self._take(fields, body_format, findings)
        except Refusal as refusal:
            return self._refused(refusal, fmt or body_format or "json", plan, findings)
        body = send_document(outcomes, fmt, plan.quirks, request_id)
        return Response(202, body, _MEDIA[fmt], headers=findings.headers())

    # GET /messages/http/send

    def _send_http(self, request: Request, plan: Plan) -> Response:
        query = parse_qs(request.query, keep_blank_values=True)
        keys = query.get("apiKey")
        findings = self._findings()
        try:
            self._check_key(keys[0] if keys else None, findings)
            fields = read_query_request(query, findings)
            outcomes, request_id = self._take(fields, "http", findings)
        except Refusal as refusal:
            return self._refused(refusal, "json", plan, findings)
        body = send_document(outcomes, "json", plan.quirks, request_id)
        return Response(202, body, headers=findings.headers())

    def _findings(self) -> Findings:
        return Findings(self.profile, self.rule_log)

    def _check_key(self, given: str | None, findings: Findings) -> None:
        """The key must be one of the integration's, as it is (`api-key`); a `Bearer ` prefix
        before a valid key breaks only `bearer-prefix`, an inferred rule."""
        if given in self.api_keys:
            return
        if given and given[: len(_BEARER)].lower() == _BEARER:
            key = given[len(_BEARER) :].strip()
            if key in self.api_keys:
                findings.broken(
                    "bearer-prefix", "Bearer before the key; the API shows the key alone."
                )
                return
        findings.fatal("api-key")

    def _take(
        self, fields: dict[str, object], source: RecordFormat, findings: Findings
    ) -> tuple[list[Outcome], str]:
        """Check the message as a whole, then accept or refuse each recipient; record and charge."""
        document = check_document(fields, findings)
        parts = _parts(document, findings)
        recipients = _distinct(document.to, findings)
        self._sender(document, findings)  # last: the integration's rule, once the document holds
        given = ((f.json_name, _given(getattr(document, f.model_attr))) for f in SEND_OPTIONS)
        options = MappingProxyType({name: value for name, value in given if value is not None})
        request_id = uuid.uuid4().hex
        received_at = datetime.fromtimestamp(self.clock(), UTC)
        outcomes: list[Outcome] = []
        records: list[RecordedMessage] = []
        for number, raw in recipients:
            refusal = check_recipient(number, raw, findings)
            if refusal is None and not self.account.try_charge(parts):
                self.rule_log.refused("credit")
                refusal = codes.NO_CREDIT
            if refusal is not None:
                outcomes.append(Outcome(number, None, refusal))
                continue
            message_id = uuid.uuid4().hex
            outcomes.append(Outcome(number, message_id, None))
            records.append(
                RecordedMessage(
                    api_message_id=message_id,
                    to=number,
                    content=document.content,
                    options=options,
                    parts=parts,
                    format=source,
                    request_id=request_id,
                    received_at=received_at,
                )
            )
        if records:
            if findings.unknown or findings.warnings:
                # What a client sent unasked is kept as sent, but never a key: a client that
                # puts its key in the body must not find it in the record (or its SQLite file).
                unknown = MappingProxyType(_without_keys(findings.unknown, self.api_keys))
                notes = tuple(_without_keys(findings.warnings, self.api_keys))
                records = [replace(r, unknown=unknown, notes=notes) for r in records]
            self.store.add(records)
            poster = self.callbacks
            if poster is not None:
                for record in records:
                    events = timeline(record, self.delays, self.failures)
                    poster.schedule(record, events)
                    self._reply(poster, record, events)
        return outcomes, request_id

    def _reply(
        self, poster: CallbackPoster, record: RecordedMessage, events: list[StatusEvent]
    ) -> None:
        """The handset's reply to a message sent from a two-way number, when it draws one."""
        at = self.replies.reply_at(record, events, self.two_way_numbers)
        if at is not None:
            reply_id = self.replies.reply_id(record.api_message_id)
            poster.schedule_reply(record, at, self.replies.text, reply_id)

    def _sender(self, document: models.SendMessageRequest, findings: Findings) -> None:
        """The `from` rule, as the integration the sandbox plays: a one-way one refuses any
        `from` (607), a two-way one requires one of its own (106), and one whose numbers the
        sandbox was not told (the default) takes the `from` it is given, as the documented
        example request is taken."""
        sender = _given(document.from_)
        if self.one_way:
            if sender is not None:
                findings.broken("from-one-way")
            return
        owned = self.two_way_numbers
        if owned and (sender is None or sender.removeprefix("+") not in owned):
            findings.broken("from-two-way")

    # ----------------------------------------------------------------------------------------
    # GET /public-client/balance and /public-client/message/status

    def _balance(self, request: Request, plan: Plan) -> Response:
        findings = self._findings()
        try:
            self._check_key(request.headers.get("authorization"), findings)
        except Refusal as refusal:
            return self._refused(refusal, "json", plan, findings, envelope=False)
        document = models.BalanceResponse(
            balance=float(self.account.balance), currency=self.account.currency
        )
        body = _extras(_json_encoder.encode(document), plan.quirks)
        return Response(200, body, headers=findings.headers())

    def _status(self, request: Request, plan: Plan) -> Response:
        findings = self._findings()
        try:
            self._check_key(request.headers.get("authorization"), findings)
            ids = parse_qs(request.query, keep_blank_values=True).get("messageId")
            if not ids or not ids[0]:
                findings.fatal("message-id-required")
            message_id = ids[0]
            if len(message_id) > 64 or not _MESSAGE_ID_CHARS.issuperset(message_id):
                findings.broken(
                    "message-id-format", "messageId must be 1 to 64 letters, digits or hyphens."
                )
            record = self.store.get(message_id)
            if record is None:
                findings.fatal("message-id-unknown")
        except Refusal as refusal:
            return self._refused(refusal, "json", plan, findings, envelope=False)
        event = status_at(record, self.delays, self.clock(), self.failures)
        document = models.MessageStatusResponse(
            message_id=record.api_message_id,
            status=event.status.name,
            status_code=event.status.code,
            status_description=event.status.description,
            timestamp=int(event.at * 1000),
            error_code=None,
            error=None,
            error_description=None,
        )
        body = _extras(_json_encoder.encode(document), plan.quirks)
        return Response(200, body, headers=findings.headers())

    # ----------------------------------------------------------------------------------------
    # GET /_sandbox/messages (not part of the API: the record, for tests and people)

    def _list_messages(self, request: Request, plan: Plan) -> Response:
        query = parse_qs(request.query)
        wanted_to = {n.removeprefix("+") for n in query.get("to", [])}
        wanted_ref = set(query.get("clientMessageId", []))
        now = self.clock()
        listing = []
        for record in self.store.all():
            if wanted_to and record.to not in wanted_to:
                continue
            if wanted_ref and record.client_message_id not in wanted_ref:
                continue
            item = record.to_json()
            event = status_at(record, self.delays, now, self.failures)
            item["statusCode"] = event.status.code
            item["status"] = event.status.name
            listing.append(item)
        return Response(200, _json_encoder.encode(listing))

    # ----------------------------------------------------------------------------------------
    # Errors and faults

    def _error(self, request: Request, plan: Plan, error: ApiError, rule_id: str) -> Response:
        """An error before any handler ran: format from Accept, then the body's Content-Type."""
        envelope = request.path in _SEND_PATHS
        fmt: WireFormat = "json"
        if request.path == "/messages":
            media = _media_type(request.headers.get("content-type"))
            fallback: WireFormat = "xml" if media == _XML else "json"
            fmt = _negotiate(request.headers.get("accept"), fallback) or fallback
        response = self._answer_error(error, fmt, plan, envelope=envelope, routing=True)
        response.headers.append(("X-Sandbox-Rule", rule_id))
        return response

    def _fault(self, request: Request, plan: Plan) -> Response:
        kind = plan.fault.kind
        error = (
            codes.RATE_LIMITED
            if kind == "429"
            else codes.INTERNAL_ERROR
            if kind == "500"
            else codes.SERVICE_UNAVAILABLE
        )
        response = self._error(request, plan, error, _FAULT_RULES[str(kind)])
        if kind in ("429", "503"):
            response.headers.append(("Retry-After", str(plan.fault.retry_after)))
        return response

    def _refused(
        self,
        refusal: Refusal,
        fmt: WireFormat,
        plan: Plan,
        findings: Findings,
        *,
        envelope: bool = True,
    ) -> Response:
        """The answer to a request a rule refused: the rule named, the warnings so far kept."""
        error = refusal.error
        if refusal.rule_id == "delivery-time" and plan.quirks.delivery_time_120:
            error = _DELIVERY_TIME_120.because(error.description)
        response = self._answer_error(error, fmt, plan, envelope=envelope)
        response.headers.append(("X-Sandbox-Rule", header_safe(refusal.rule_id)))
        response.headers.extend(findings.headers())
        return response

    def _answer_error(
        self,
        error: ApiError,
        fmt: WireFormat,
        plan: Plan,
        *,
        envelope: bool = True,
        routing: bool = False,
    ) -> Response:
        quirks = plan.quirks
        status = error.status
        if quirks.from_errors_with_400 and error.other_status is not None:
            status = error.other_status
        if quirks.errors_with_200 and envelope and not routing and status < 500:
            status = 200
        body = error_document(error, fmt, quirks, envelope=envelope)
        return Response(status, body, _MEDIA[fmt])


# --------------------------------------------------------------------------------------------
# Helpers


def _given(value: _T | msgspec.UnsetType) -> _T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


def _parts(document: models.SendMessageRequest, findings: Findings) -> int:
    """Parts the content needs, counted as the client counts them; refuses over 35.

    Binary content that is not hex octets breaks only an inferred rule: when the profile lets it
    through, its UTF-8 bytes are counted as the octets.
    """
    header = _given(document.user_data_header)
    binary = document.binary is True
    content = document.content
    if binary and not _is_hex_octets(content):
        findings.broken(
            "binary-hex", "content: with binary, content must be whole hex octets (00 to FF)."
        )
        content = content.encode("utf-8", "surrogatepass").hex()
    try:
        estimate = encoding.estimate(
            content, binary=binary, user_data_header=bytes.fromhex(header) if header else None
        )
    except ValidationError as exc:
        if exc.field == "user_data_header":
            findings.broken("udh", f"userDataHeader: {exc.problem}.")
        findings.fatal("field-value", f"{exc.field}: {exc.problem}.")
    if estimate.parts > encoding.MAX_PARTS:
        findings.broken(
            "parts",
            f"The message needs {estimate.parts} parts ({estimate.encoding}); at most"
            f" {encoding.MAX_PARTS} are allowed.",
        )
    return estimate.parts


def _is_hex_octets(text: str) -> bool:
    return len(text) % 2 == 0 and text.isascii() and all(c in _HEX for c in text)


def _without_keys(value: Any, keys: Collection[str]) -> Any:
    """`value` (JSON-like) with every API key in its strings, keys and values, masked."""
    if isinstance(value, str):
        for key in keys:
            value = mask_secret(value, key)
        return value
    if isinstance(value, Mapping):
        return {_without_keys(k, keys): _without_keys(v, keys) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_keys(item, keys) for item in value]
    return value


def _distinct(recipients: list[str], findings: Findings) -> list[tuple[str, str]]:
    """Each recipient as (number, as sent), the second spelling of one number (`+27...` after
    `27...`) left out, as `to-unique-normalised` allows (or refused, where the profile says)."""
    if len(recipients) == 1:
        return [(normalised(recipients[0]), recipients[0])]
    numbers = [normalised(raw) for raw in recipients]
    if len(set(numbers)) == len(numbers):  # the usual case: nothing to fold
        return list(zip(numbers, recipients, strict=True))
    first: dict[str, int] = {}
    kept: list[tuple[str, str]] = []
    for index, (number, raw) in enumerate(zip(numbers, recipients, strict=True)):
        earlier = first.setdefault(number, index)
        if earlier == index:
            kept.append((number, raw))
            continue
        findings.broken(
            "to-unique-normalised",
            f"{raw!r} is {recipients[earlier]!r} again once the + is dropped (the default"
            " answers it once).",
        )
    return kept


def _media_type(value: str | None) -> str:
    if not value:
        return ""
    return value.split(";", 1)[0].strip().lower()


def _negotiate(accept: str | None, fallback: WireFormat) -> WireFormat | None:
    """The answer's format from Accept; None when Accept allows neither JSON nor XML.

    No Accept, `*/*` or `application/*` follow the request's own format, as the spec says. An
    empty Accept lists nothing acceptable, so it is refused like an unknown type.
    """
    if accept is None:
        return fallback
    if accept == _JSON:
        return "json"
    if accept == _XML:
        return "xml"
    best: WireFormat | None = None
    best_q = 0.0
    for item in accept.split(","):
        media, _, params = item.partition(";")
        media = media.strip().lower()
        if media == _JSON:
            fmt: WireFormat | None = "json"
        elif media == _XML:
            fmt = "xml"
        elif media in ("*/*", "application/*"):
            fmt = fallback
        else:
            fmt = None
        if fmt is None:
            continue
        q = _quality(params)
        if q > best_q:
            best, best_q = fmt, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def _extras(body: bytes, quirks: Quirks) -> bytes:
    """With `extra_fields`, an unknown key in a look-up answer too."""
    if not quirks.extra_fields:
        return body
    return b'{"sandbox":true,' + body[1:] if body.startswith(b"{") and body != b"{}" else body
