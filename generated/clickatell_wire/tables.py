# generated from spec/openapi.yaml by python -m codegen, do not edit
"""What Clickatell Platform messaging API 1.0.0 says, as data for the layers written by hand.

* `SEND_FIELDS`: every field of `SendMessageRequest`, with all its names (Python keyword, JSON
  key, XML element, model and XML attributes), kind, constraints and description.
  `SEND_OPTIONS` are the optional ones, `SendOptions` types them for keyword arguments.
* `OPERATIONS`: every operation in the spec, by `operationId`.
* `ERROR_CODES`: the API's error codes (the spec's `x-error-codes`), with the HTTP status they
  come with, whether they refuse a request or one recipient, their kind and their evidence.
* `MESSAGE_STATUSES`: the states of a sent message (the spec's `x-message-statuses`), by code,
  with their kind (queued, at the gateway, received, failed...) and their evidence.

The facade, the CLI, the bulk engine and the sandbox read these instead of keeping copies, so a
field or a code added to the spec reaches all of them when codegen runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final, Literal, TypedDict

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "ERROR_CODES",
    "ERROR_KINDS",
    "FINAL_STATUS_KINDS",
    "MESSAGE_STATUSES",
    "OPERATIONS",
    "SEND_FIELDS",
    "SEND_OPTIONS",
    "ErrorCode",
    "Field",
    "MessageStatusEntry",
    "Operation",
    "SendOptions",
    "error_codes_of_kind",
    "operation",
    "send_field",
    "status_codes_of_kind",
]

DEFAULT_BASE_URL: Final = "https://platform.clickatell.com"
"""The spec's first server."""

DEFAULT_MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
"""The largest answer the transports read (the SDK's bound, not the API's: a 200-recipient
answer is about 30 KB; anything near this is not the API talking). Here, with the other
defaults, so that a client's settings need no HTTP module to be read."""

FieldKind = Literal["string", "integer", "number", "boolean", "array"]
ErrorScope = Literal["request", "recipient"]
Evidence = Literal["documented", "observed", "legacy", "inferred"]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the send request.

    `value` says what the value means beyond its JSON type, where the spec says so with
    `x-value` (`datetime`, `minutes`, `octets`, `phone-number`); `carried_by` names the
    operations that can send it (the POST body, and any operation with a query parameter of the
    same name). Constraints are the schema's; None means none. `client_pattern` is the spec's
    `x-client-pattern`: a rule the client applies before sending that the server does not (it
    answers such a value in its own way, as it answers a bad recipient in the recipient's
    entry), so the request schema cannot carry it as a `pattern`. For `to` the constraints are
    its items'.
    """

    name: str
    json_name: str
    xml_element: str
    model_attr: str
    xml_attr: str
    xml_enum: str | None
    kind: FieldKind
    value: str | None
    required: bool
    enum: tuple[str, ...]
    default: object
    minimum: float | None
    maximum: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | None
    client_pattern: str | None
    min_items: int | None
    max_items: int | None
    carried_by: tuple[str, ...]
    description: str


SEND_FIELDS: Final[tuple[Field, ...]] = (
    Field(
        name="content",
        json_name="content",
        xml_element="Content",
        model_attr="content",
        xml_attr="content",
        xml_enum=None,
        kind="string",
        value=None,
        required=True,
        enum=(),
        default=None,
        minimum=None,
        maximum=None,
        min_length=1,
        max_length=None,
        pattern=None,
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage", "sendMessageHttp"),
        description="The message text. With `binary`, the payload as hex octets. Clickatell splits long texts into parts (at most 35) and charges per part.",
    ),
    Field(
        name="to",
        json_name="to",
        xml_element="To",
        model_attr="to",
        xml_attr="to",
        xml_enum=None,
        kind="array",
        value=None,
        required=True,
        enum=(),
        default=None,
        minimum=None,
        maximum=None,
        min_length=None,
        max_length=None,
        pattern=None,
        client_pattern="^\\+?[1-9][0-9]{5,18}$",
        min_items=1,
        max_items=200,
        carried_by=("sendMessage", "sendMessageHttp"),
        description="The recipients, at most 200, each at most once. In XML each recipient is its own `<To>` element.",
    ),
    Field(
        name="from_",
        json_name="from",
        xml_element="From",
        model_attr="from_",
        xml_attr="from_value",
        xml_enum=None,
        kind="string",
        value="phone-number",
        required=False,
        enum=(),
        default=None,
        minimum=None,
        maximum=None,
        min_length=None,
        max_length=None,
        pattern="^\\+?[0-9]{1,20}$",
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage", "sendMessageHttp"),
        description="The two-way number the message is sent from. Only two-way integrations may set it; others answer with error 607.",
    ),
    Field(
        name="binary",
        json_name="binary",
        xml_element="Binary",
        model_attr="binary",
        xml_attr="binary",
        xml_enum=None,
        kind="boolean",
        value=None,
        required=False,
        enum=(),
        default=False,
        minimum=None,
        maximum=None,
        min_length=None,
        max_length=None,
        pattern=None,
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage",),
        description="The content is binary data written as hex octets, sent as 8-bit data.",
    ),
    Field(
        name="client_message_id",
        json_name="clientMessageId",
        xml_element="ClientMessageId",
        model_attr="client_message_id",
        xml_attr="client_message_id",
        xml_enum=None,
        kind="string",
        value=None,
        required=False,
        enum=(),
        default=None,
        minimum=None,
        maximum=None,
        min_length=1,
        max_length=255,
        pattern="^\\S+$",
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage",),
        description="The caller's own reference for the message, echoed back in status callbacks. No spaces (older API versions refused them); the length limit is not published.",
    ),
    Field(
        name="scheduled_delivery_time",
        json_name="scheduledDeliveryTime",
        xml_element="ScheduledDeliveryTime",
        model_attr="scheduled_delivery_time",
        xml_attr="scheduled_delivery_time",
        xml_enum=None,
        kind="string",
        value="datetime",
        required=False,
        enum=(),
        default=None,
        minimum=None,
        maximum=None,
        min_length=None,
        max_length=None,
        pattern="^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+\\-]([01][0-9]|2[0-3])[0-5][0-9]$",
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage",),
        description="When to deliver. The API reads a local time whose UTC offset is written without a colon (`2017-02-27T14:30:00+0200`).",
    ),
    Field(
        name="user_data_header",
        json_name="userDataHeader",
        xml_element="UserDataHeader",
        model_attr="user_data_header",
        xml_attr="user_data_header",
        xml_enum=None,
        kind="string",
        value="octets",
        required=False,
        enum=(),
        default=None,
        minimum=None,
        maximum=None,
        min_length=1,
        max_length=280,
        pattern="^([0-9A-Fa-f]{2})+$",
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage",),
        description="The user data header as hex octets; its first octet is the length of the rest (for example `0605040B8423F0` addresses the WAP push port).",
    ),
    Field(
        name="validity_period",
        json_name="validityPeriod",
        xml_element="ValidityPeriod",
        model_attr="validity_period",
        xml_attr="validity_period",
        xml_enum=None,
        kind="integer",
        value="minutes",
        required=False,
        enum=(),
        default=None,
        minimum=1,
        maximum=10080,
        min_length=None,
        max_length=None,
        pattern=None,
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage",),
        description="Minutes during which Clickatell keeps trying to deliver; 1440 (one day) when not given. Clickatell publishes no bounds; a week is this contract's upper bound.",
    ),
    Field(
        name="charset",
        json_name="charset",
        xml_element="Charset",
        model_attr="charset",
        xml_attr="charset",
        xml_enum="Charset",
        kind="string",
        value=None,
        required=False,
        enum=("ASCII", "UCS2-BE", "UTF-8", "Windows-1252"),
        default="UTF-8",
        minimum=None,
        maximum=None,
        min_length=None,
        max_length=None,
        pattern=None,
        client_pattern=None,
        min_items=None,
        max_items=None,
        carried_by=("sendMessage",),
        description="The character set of `content`; UTF-8 when not given.",
    ),
)
"""Every field of `SendMessageRequest`, in the spec's order."""

SEND_OPTIONS: Final[tuple[Field, ...]] = tuple(f for f in SEND_FIELDS if not f.required)
"""The optional fields: a send's keyword options."""

_FIELDS_BY_NAME: Final[Mapping[str, Field]] = MappingProxyType({f.name: f for f in SEND_FIELDS})


def send_field(name: str) -> Field:
    """A send field by its Python name (KeyError if the spec has no such field)."""
    return _FIELDS_BY_NAME[name]


class SendOptions(TypedDict, total=False):
    """A send's optional fields as keyword arguments, typed as the SDK accepts them."""

    from_: str
    """The two-way number the message is sent from. Only two-way integrations may set it; others answer with error 607. Written as recipients may be; the SDK normalises it."""
    binary: bool
    """The content is binary data written as hex octets, sent as 8-bit data."""
    client_message_id: str
    """The caller's own reference for the message, echoed back in status callbacks. No spaces (older API versions refused them); the length limit is not published."""
    scheduled_delivery_time: datetime
    """When to deliver. The API reads a local time whose UTC offset is written without a colon (`2017-02-27T14:30:00+0200`). Pass a timezone-aware datetime; the SDK writes the API's format."""
    user_data_header: bytes | str
    """The user data header as hex octets; its first octet is the length of the rest (for example `0605040B8423F0` addresses the WAP push port). Pass bytes, or the octets as a hex string."""
    validity_period: timedelta | int
    """Minutes during which Clickatell keeps trying to deliver; 1440 (one day) when not given. Clickatell publishes no bounds; a week is this contract's upper bound. Pass a timedelta of whole minutes, or the minutes as an int."""
    charset: Literal["ASCII", "UCS2-BE", "UTF-8", "Windows-1252"]
    """The character set of `content`; UTF-8 when not given."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the spec."""

    operation_id: str
    name: str
    method: str
    path: str
    summary: str
    security: str | None
    request_media: tuple[str, ...]
    response_media: tuple[str, ...]


OPERATIONS: Final[tuple[Operation, ...]] = (
    Operation(
        operation_id="getBalance",
        name="get_balance",
        method="GET",
        path="/public-client/balance",
        summary="The account's remaining balance",
        security="apiKeyHeader",
        request_media=(),
        response_media=("application/json",),
    ),
    Operation(
        operation_id="getMessageStatus",
        name="get_message_status",
        method="GET",
        path="/public-client/message/status",
        summary="The latest status of one sent message",
        security="apiKeyHeader",
        request_media=(),
        response_media=("application/json",),
    ),
    Operation(
        operation_id="sendMessage",
        name="send_message",
        method="POST",
        path="/messages",
        summary="Send one text to up to 200 recipients",
        security="apiKeyHeader",
        request_media=("application/json", "application/xml"),
        response_media=("application/json", "application/xml"),
    ),
    Operation(
        operation_id="sendMessageHttp",
        name="send_message_http",
        method="GET",
        path="/messages/http/send",
        summary="Send a text with a GET request (HTTP integrations)",
        security="apiKeyQuery",
        request_media=(),
        response_media=("application/json",),
    ),
)

_OPERATIONS_BY_ID: Final[Mapping[str, Operation]] = MappingProxyType(
    {op.operation_id: op for op in OPERATIONS}
)


def operation(operation_id: str) -> Operation:
    """An operation by its operationId (KeyError if the spec has none)."""
    return _OPERATIONS_BY_ID[operation_id]


ErrorKind = Literal[
    "account", "auth", "credit", "limit", "lookup", "protocol", "recipient", "server", "validation"
]
ERROR_KINDS: Final[tuple[ErrorKind, ...]] = (
    "account",
    "auth",
    "credit",
    "limit",
    "lookup",
    "protocol",
    "recipient",
    "server",
    "validation",
)


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One of the API's error codes: its texts, the HTTP status it comes with, whether it
    refuses the whole request or one recipient, its kind, and the evidence for all of that."""

    code: int
    error: str
    description: str
    status: int
    scope: ErrorScope
    kind: ErrorKind
    evidence: Evidence
    source: str


ERROR_CODES: Final[Mapping[int, ErrorCode]] = MappingProxyType(
    {
        1: ErrorCode(
            code=1,
            error="Authentication failed",
            description="Authentication details are incorrect.",
            status=401,
            scope="request",
            kind="auth",
            evidence="legacy",
            source="legacy REST error list",
        ),
        2: ErrorCode(
            code=2,
            error="Unknown username or password",
            description="The account's credentials are not known.",
            status=401,
            scope="request",
            kind="account",
            evidence="legacy",
            source='legacy HTTP error list (One API 2 is "account not active")',
        ),
        3: ErrorCode(
            code=3,
            error="Session ID expired",
            description="The session or integration is no longer active.",
            status=401,
            scope="request",
            kind="account",
            evidence="legacy",
            source='legacy HTTP error list (One API 3 is "integration not active")',
        ),
        4: ErrorCode(
            code=4,
            error="Account frozen",
            description="The account is frozen.",
            status=403,
            scope="request",
            kind="account",
            evidence="legacy",
            source="legacy HTTP error list",
        ),
        7: ErrorCode(
            code=7,
            error="IP lockdown violation",
            description="The request came from an IP address other than the locked-down one.",
            status=401,
            scope="request",
            kind="auth",
            evidence="legacy",
            source="legacy REST error list",
        ),
        100: ErrorCode(
            code=100,
            error="Data malformed",
            description="The JSON/XML data submitted is invalid.",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy REST error list",
        ),
        101: ErrorCode(
            code=101,
            error="Invalid or missing parameters",
            description="One or more parameters are missing or invalid.",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy REST error list",
        ),
        102: ErrorCode(
            code=102,
            error="Invalid user data header",
            description="The format of the user data header is incorrect.",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy REST error list",
        ),
        103: ErrorCode(
            code=103,
            error="Unknown API message ID",
            description="No message with this ID was sent through this integration.",
            status=404,
            scope="request",
            kind="lookup",
            evidence="legacy",
            source="legacy HTTP error list",
        ),
        105: ErrorCode(
            code=105,
            error="Invalid destination address",
            description="The number must be in international format: country code first, digits only, no leading 0 or 00.",
            status=202,
            scope="recipient",
            kind="recipient",
            evidence="legacy",
            source="legacy REST error list; per-recipient in the PHP SDK's fixture",
        ),
        106: ErrorCode(
            code=106,
            error="Invalid FROM number.",
            description="You should specify correct FROM number.",
            status=200,
            scope="request",
            kind="validation",
            evidence="observed",
            source="home-assistant/core issue 23305 (a live answer to the GET send, with HTTP 200); arcturial/clickatell issue 30 (the 2017 text, also with 200)",
        ),
        107: ErrorCode(
            code=107,
            error="Empty message",
            description="The message content is empty.",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy HTTP error list",
        ),
        108: ErrorCode(
            code=108,
            error="Invalid or missing integration API Key.",
            description="The integration API key is either incorrect or has not been included in the API call.",
            status=401,
            scope="request",
            kind="auth",
            evidence="observed",
            source="phpservermon/phpservermon issue 749",
        ),
        109: ErrorCode(
            code=109,
            error="Missing message ID",
            description="The messageId query parameter is required.",
            status=400,
            scope="request",
            kind="lookup",
            evidence="legacy",
            source="legacy REST error list",
        ),
        113: ErrorCode(
            code=113,
            error="Maximum message parts exceeded",
            description="The message needs more parts than allowed.",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy REST error list",
        ),
        114: ErrorCode(
            code=114,
            error="Cannot route message",
            description="The gateway does not route to this network prefix.",
            status=202,
            scope="recipient",
            kind="recipient",
            evidence="legacy",
            source="legacy REST error list",
        ),
        116: ErrorCode(
            code=116,
            error="Invalid Unicode data",
            description="The content is not valid Unicode data.",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy REST error list",
        ),
        120: ErrorCode(
            code=120,
            error="Invalid client message ID",
            description="The clientMessageId contains space(s).",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy REST error list (the legacy HTTP list uses 120 for an invalid delivery time)",
        ),
        121: ErrorCode(
            code=121,
            error="Destination mobile number blocked",
            description="The number is on Clickatell's block list.",
            status=202,
            scope="recipient",
            kind="recipient",
            evidence="legacy",
            source="legacy REST error list",
        ),
        122: ErrorCode(
            code=122,
            error="Destination mobile opted out",
            description="The recipient opted out of messages from this sender.",
            status=202,
            scope="recipient",
            kind="recipient",
            evidence="legacy",
            source="legacy REST error list",
        ),
        123: ErrorCode(
            code=123,
            error="Invalid Sender ID",
            description="The sender ID is not valid or not approved.",
            status=400,
            scope="request",
            kind="validation",
            evidence="legacy",
            source="legacy REST error list",
        ),
        128: ErrorCode(
            code=128,
            error="Number delisted",
            description="The number is delisted.",
            status=202,
            scope="recipient",
            kind="recipient",
            evidence="legacy",
            source="legacy REST error list",
        ),
        130: ErrorCode(
            code=130,
            error="Maximum MT limit exceeded",
            description="The account's MT limit is exceeded until the UNIX timestamp in the text.",
            status=400,
            scope="request",
            kind="limit",
            evidence="legacy",
            source="legacy REST error list",
        ),
        160: ErrorCode(
            code=160,
            error="HTTP method is not supported on this resource",
            description="This resource does not support this HTTP method.",
            status=405,
            scope="request",
            kind="protocol",
            evidence="legacy",
            source="legacy REST error list",
        ),
        161: ErrorCode(
            code=161,
            error="Resource does not exist",
            description="The requested resource does not exist.",
            status=404,
            scope="request",
            kind="protocol",
            evidence="legacy",
            source="legacy REST error list",
        ),
        165: ErrorCode(
            code=165,
            error="Invalid or no version header specified",
            description="The legacy REST API needed X-Version 1.",
            status=400,
            scope="request",
            kind="protocol",
            evidence="legacy",
            source="legacy REST error list",
        ),
        166: ErrorCode(
            code=166,
            error="Invalid accept header specified",
            description="Accept must allow application/json or application/xml.",
            status=400,
            scope="request",
            kind="protocol",
            evidence="legacy",
            source="legacy REST error list",
        ),
        167: ErrorCode(
            code=167,
            error="Invalid or no content-type specified",
            description="Content-Type must be application/json or application/xml.",
            status=400,
            scope="request",
            kind="protocol",
            evidence="legacy",
            source="legacy REST error list (status: the legacy status table has 400 and no 415)",
        ),
        301: ErrorCode(
            code=301,
            error="No credit left",
            description="The balance does not cover this message.",
            status=202,
            scope="recipient",
            kind="credit",
            evidence="legacy",
            source="legacy REST error list",
        ),
        607: ErrorCode(
            code=607,
            error="Invalid FROM number.",
            description="User specified FROM number, but integration isn't two-way.",
            status=200,
            scope="request",
            kind="validation",
            evidence="observed",
            source="a 2020 SQL log found via the code index (anecdotal; no status recorded, so it takes the status of 106, whose error text it shares)",
        ),
        901: ErrorCode(
            code=901,
            error="Internal error - please retry",
            description="An internal error occurred; the request may or may not have been processed.",
            status=500,
            scope="request",
            kind="server",
            evidence="legacy",
            source='legacy REST error list ("This should be exceptionally rare")',
        ),
    }
)


def error_codes_of_kind(*kinds: ErrorKind) -> frozenset[int]:
    """The codes of the given kinds, such as `error_codes_of_kind("auth")`."""
    return frozenset(code for code, entry in ERROR_CODES.items() if entry.kind in kinds)


StatusKind = Literal[
    "unknown", "queued", "scheduled", "gateway", "received", "failed", "expired", "cancelled"
]
FINAL_STATUS_KINDS: Final[frozenset[StatusKind]] = frozenset(
    {"received", "failed", "expired", "cancelled"}
)
"""The kinds after which nothing more happens to a message."""


@dataclass(frozen=True, slots=True)
class MessageStatusEntry:
    """One state of a sent message: its code and name, what it means (`kind`), whether it says
    the message reached the upstream gateway, and the evidence for all of that."""

    code: int
    name: str
    description: str
    kind: StatusKind
    reached_gateway: bool
    evidence: Evidence
    source: str

    @property
    def final(self) -> bool:
        """Nothing more will happen to the message."""
        return self.kind in FINAL_STATUS_KINDS


MESSAGE_STATUSES: Final[Mapping[int, MessageStatusEntry]] = MappingProxyType(
    {
        1: MessageStatusEntry(
            code=1,
            name="MESSAGE_UNKNOWN",
            description="The message ID is unknown, or its report is delayed.",
            kind="unknown",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (001); name inferred",
        ),
        2: MessageStatusEntry(
            code=2,
            name="MESSAGE_QUEUED",
            description="Not delivered yet; waiting to be tried again.",
            kind="queued",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (002); name inferred",
        ),
        3: MessageStatusEntry(
            code=3,
            name="DELIVERED_TO_GATEWAY",
            description="Handed over to the upstream gateway or network.",
            kind="gateway",
            reached_gateway=True,
            evidence="documented",
            source="legacy status list (003); name in clickatell/clickatell-python README",
        ),
        4: MessageStatusEntry(
            code=4,
            name="RECEIVED_BY_RECIPIENT",
            description="The handset confirmed receipt.",
            kind="received",
            reached_gateway=True,
            evidence="documented",
            source="legacy status list (004); name in clickatell/clickatell-python README",
        ),
        5: MessageStatusEntry(
            code=5,
            name="ERROR_WITH_MESSAGE",
            description="The message failed, probably because of its content.",
            kind="failed",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (005); name inferred",
        ),
        6: MessageStatusEntry(
            code=6,
            name="USER_CANCELLED",
            description="Delivery was stopped by the user.",
            kind="cancelled",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (006); name inferred",
        ),
        7: MessageStatusEntry(
            code=7,
            name="ERROR_DELIVERING",
            description="The message could not be delivered to the handset.",
            kind="failed",
            reached_gateway=True,
            evidence="legacy",
            source="legacy status list (007); name inferred",
        ),
        8: MessageStatusEntry(
            code=8,
            name="RECEIVED_BY_GATEWAY",
            description="Accepted by Clickatell's gateway.",
            kind="queued",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (008); name inferred",
        ),
        9: MessageStatusEntry(
            code=9,
            name="ROUTING_ERROR",
            description="No route could be found for the message.",
            kind="failed",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (009); name inferred",
        ),
        10: MessageStatusEntry(
            code=10,
            name="MESSAGE_EXPIRED",
            description="Expired before reaching the upstream gateway.",
            kind="expired",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (010); name inferred",
        ),
        11: MessageStatusEntry(
            code=11,
            name="SCHEDULED",
            description="Held for delivery at a later time.",
            kind="scheduled",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (011); name inferred",
        ),
        12: MessageStatusEntry(
            code=12,
            name="OUT_OF_CREDIT",
            description="The account did not have enough credit.",
            kind="failed",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (012); name inferred",
        ),
        13: MessageStatusEntry(
            code=13,
            name="CLICKATELL_CANCELLED",
            description="Delivery was stopped by Clickatell.",
            kind="cancelled",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (013); name inferred",
        ),
        14: MessageStatusEntry(
            code=14,
            name="MAX_MT_EXCEEDED",
            description="The allowed amount of outbound messaging was used up.",
            kind="failed",
            reached_gateway=False,
            evidence="legacy",
            source="legacy status list (014); name inferred",
        ),
    }
)


def status_codes_of_kind(*kinds: StatusKind) -> frozenset[int]:
    """The status codes of the given kinds, such as `status_codes_of_kind("failed")`."""
    return frozenset(code for code, entry in MESSAGE_STATUSES.items() if entry.kind in kinds)
