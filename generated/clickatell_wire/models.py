# generated from spec/openapi.yaml by python -m codegen, do not edit
from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from msgspec import UNSET, Meta, Struct, UnsetType, field

PhoneNumber: TypeAlias = Annotated[
    str,
    Meta(
        description="A handset number in international format: country code first, digits only, no leading\n0 or 00 (Clickatell's legacy list, error 105). A leading `+` is allowed (Clickatell's\nown example mixes both); responses echo the number without it. The API takes any string\nhere: a number it cannot use does not fail the request, it is refused in its own entry\nof the answer (105) and the other recipients are still sent. So the schema has no\npattern; `x-client-pattern` is the rule a client applies before sending, whose 6 to 19\ndigits are this contract's bound (the shortest and longest numbers any country plan\nhas), not a published one.\n",
        examples=["27821234567"],
    ),
]


SenderNumber: TypeAlias = Annotated[
    str,
    Meta(
        description="A two-way number owned by the integration, in international format.",
        examples=["380671234567"],
        pattern="^\\+?[0-9]{1,20}$",
    ),
]


ApiMessageId: TypeAlias = Annotated[
    str,
    Meta(
        description="Clickatell's ID of one message to one recipient (32 hex characters in every example seen).",
        max_length=64,
        min_length=1,
        pattern="^[0-9A-Za-z-]+$",
    ),
]


ErrorCode: TypeAlias = (
    Annotated[
        int,
        Meta(description="Clickatell's numeric error code; null or absent when there is no error."),
    ]
    | None
)


ErrorText: TypeAlias = (
    Annotated[str, Meta(description="A short error text; null or absent when there is no error.")]
    | None
)


class SendMessageRequest(Struct):
    """
    One text to one or more recipients.
    """

    content: Annotated[
        str,
        Meta(
            description="The message text. With `binary`, the payload as hex octets. Clickatell splits long\ntexts into parts (at most 35) and charges per part.\n",
            min_length=1,
        ),
    ]
    to: Annotated[
        list[PhoneNumber],
        Meta(
            description="The recipients, at most 200, each at most once. In XML each recipient is its own\n`<To>` element.\n",
            max_length=200,
            min_length=1,
        ),
    ]
    from_: (
        Annotated[
            SenderNumber,
            Meta(
                description="The two-way number the message is sent from. Only two-way integrations may set it;\nothers answer with error 607.\n"
            ),
        ]
        | UnsetType
    ) = field(name="from", default=UNSET)
    binary: (
        Annotated[
            bool,
            Meta(
                description="The content is binary data written as hex octets, sent as 8-bit data."
            ),
        ]
        | UnsetType
    ) = False
    client_message_id: (
        Annotated[
            str,
            Meta(
                description="The caller's own reference for the message, echoed back in status callbacks. No\nspaces (older API versions refused them); the length limit is not published.\n",
                max_length=255,
                min_length=1,
                pattern="^\\S+$",
            ),
        ]
        | UnsetType
    ) = field(name="clientMessageId", default=UNSET)
    scheduled_delivery_time: (
        Annotated[
            str,
            Meta(
                description="When to deliver. The API reads a local time whose UTC offset is written without\na colon (`2017-02-27T14:30:00+0200`).\n",
                pattern="^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+\\-]([01][0-9]|2[0-3])[0-5][0-9]$",
            ),
        ]
        | UnsetType
    ) = field(name="scheduledDeliveryTime", default=UNSET)
    user_data_header: (
        Annotated[
            str,
            Meta(
                description="The user data header as hex octets; its first octet is the length of the rest\n(for example `0605040B8423F0` addresses the WAP push port).\n",
                max_length=280,
                min_length=1,
                pattern="^([0-9A-Fa-f]{2})+$",
            ),
        ]
        | UnsetType
    ) = field(name="userDataHeader", default=UNSET)
    validity_period: (
        Annotated[
            int,
            Meta(
                description="Minutes during which Clickatell keeps trying to deliver; 1440 (one day) when not\ngiven. Clickatell publishes no bounds; a week is this contract's upper bound.\n",
                ge=1,
                le=10080,
            ),
        ]
        | UnsetType
    ) = field(name="validityPeriod", default=UNSET)
    charset: (
        Annotated[
            Literal["ASCII", "UCS2-BE", "UTF-8", "Windows-1252"],
            Meta(description="The character set of `content`; UTF-8 when not given."),
        ]
        | UnsetType
    ) = "UTF-8"


class MessageResponse(Struct):
    """
    The outcome for one recipient.
    """

    api_message_id: (
        Annotated[
            str,
            Meta(
                description="Clickatell's ID of the message to this recipient; null when it was not accepted."
            ),
        ]
        | UnsetType
        | None
    ) = field(name="apiMessageId", default=UNSET)
    accepted: (
        Annotated[bool, Meta(description="Whether Clickatell took the message for this recipient.")]
        | UnsetType
    ) = UNSET
    to: (
        Annotated[
            str, Meta(description="The recipient, as Clickatell read it (without a leading `+`).")
        ]
        | UnsetType
        | None
    ) = UNSET
    error_code: ErrorCode | UnsetType = field(name="errorCode", default=UNSET)
    error: ErrorText | UnsetType = UNSET
    error_description: ErrorText | UnsetType = field(name="errorDescription", default=UNSET)


class ErrorResponse(Struct):
    """
    A request-level error from the account and status look-ups.
    """

    error_code: ErrorCode | UnsetType = field(name="errorCode", default=UNSET)
    error: ErrorText | UnsetType = UNSET
    error_description: ErrorText | UnsetType = field(name="errorDescription", default=UNSET)


class BalanceResponse(Struct):
    """
    The account's balance.
    """

    balance: Annotated[
        float,
        Meta(
            description="What is left, in the account's billing currency (fractions of a cent included)."
        ),
    ]
    currency: Annotated[
        str, Meta(description="The billing currency's ISO 4217 code.", examples=["ZAR"])
    ]


class MessageStatusResponse(Struct):
    """
    The latest status of one message.
    """

    message_id: (
        Annotated[str, Meta(description="The `apiMessageId` looked up.")] | UnsetType | None
    ) = field(name="messageId", default=UNSET)
    status: (
        Annotated[
            str, Meta(description="The status name, such as `DELIVERED_TO_GATEWAY`; an open set.")
        ]
        | UnsetType
        | None
    ) = UNSET
    status_code: (
        Annotated[
            int,
            Meta(
                description="The numeric status (1 to 14 in Clickatell's table; others may appear)."
            ),
        ]
        | UnsetType
        | None
    ) = field(name="statusCode", default=UNSET)
    status_description: (
        Annotated[str, Meta(description="The status in words.")] | UnsetType | None
    ) = field(name="statusDescription", default=UNSET)
    timestamp: (
        Annotated[
            int,
            Meta(description="When the status was last updated, in milliseconds since the epoch."),
        ]
        | UnsetType
        | None
    ) = UNSET
    error_code: ErrorCode | UnsetType = field(name="errorCode", default=UNSET)
    error: ErrorText | UnsetType = UNSET
    error_description: ErrorText | UnsetType = field(name="errorDescription", default=UNSET)


class StatusCallback(Struct):
    """
    A delivery status update for one message.
    """

    message_id: Annotated[str, Meta(description="The message's `apiMessageId`.")] = field(
        name="messageId"
    )
    integration_name: (
        Annotated[str, Meta(description="The integration that sent the message.")] | UnsetType
    ) = field(name="integrationName", default=UNSET)
    request_id: (
        Annotated[str, Meta(description="The ID of the send request that carried the message.")]
        | UnsetType
    ) = field(name="requestId", default=UNSET)
    client_message_id: (
        Annotated[str, Meta(description="The caller's reference given at send time.")] | UnsetType
    ) = field(name="clientMessageId", default=UNSET)
    to: Annotated[str, Meta(description="The recipient.")] | UnsetType = UNSET
    from_: Annotated[str, Meta(description="The two-way number it was sent from.")] | UnsetType = (
        field(name="from", default=UNSET)
    )
    status_code: Annotated[int, Meta(description="The numeric status.")] | UnsetType = field(
        name="statusCode", default=UNSET
    )
    status: Annotated[str, Meta(description="The status name; an open set.")] | UnsetType = UNSET
    status_description: Annotated[str, Meta(description="The status in words.")] | UnsetType = (
        field(name="statusDescription", default=UNSET)
    )
    timestamp: (
        Annotated[
            str,
            Meta(
                description='When the status changed. Clickatell documents a string and publishes no format;\nepoch milliseconds (`"1516217711000"`) in every example seen. Readers should also\ntake a JSON number, and epoch seconds or an ISO-8601 time.\n'
            ),
        ]
        | UnsetType
    ) = UNSET


class ReplyCallback(Struct):
    """
    A message a handset sent to a two-way number.
    """

    reply_message_id: Annotated[str, Meta(description="Clickatell's ID of the reply itself.")] = (
        field(name="replyMessageId")
    )
    integration_name: (
        Annotated[str, Meta(description="The two-way integration that received the reply.")]
        | UnsetType
    ) = field(name="integrationName", default=UNSET)
    message_id: (
        Annotated[
            str, Meta(description="The `apiMessageId` of the message being answered, when known.")
        ]
        | UnsetType
    ) = field(name="messageId", default=UNSET)
    from_number: (
        Annotated[str, Meta(description="The handset that sent the reply.")] | UnsetType
    ) = field(name="fromNumber", default=UNSET)
    to_number: (
        Annotated[str, Meta(description="The two-way number that received it.")] | UnsetType
    ) = field(name="toNumber", default=UNSET)
    timestamp: (
        Annotated[
            str,
            Meta(
                description='When it arrived. A string, like the status callback\'s (Clickatell publishes no\nformat); epoch milliseconds (`"1516217711000"`) in every example seen. Readers should\nalso take a JSON number.\n'
            ),
        ]
        | UnsetType
    ) = UNSET
    text: (
        Annotated[
            str,
            Meta(
                description="The reply's text, in `charset` (percent-encoded raw bytes for UTF-16BE and ISO-8859-1)."
            ),
        ]
        | UnsetType
    ) = UNSET
    charset: (
        Annotated[
            str,
            Meta(
                description="The character set of `text`, such as `UTF-8`, `UTF-16BE` or `ISO-8859-1`."
            ),
        ]
        | UnsetType
    ) = UNSET
    udh: (
        Annotated[str, Meta(description="The reply's user data header, as hex, when it had one.")]
        | UnsetType
    ) = UNSET
    network: (
        Annotated[str, Meta(description="The mobile network the reply came from.")] | UnsetType
    ) = UNSET
    keyword: (
        Annotated[
            str, Meta(description="The keyword the reply matched, when keywords are configured.")
        ]
        | UnsetType
    ) = UNSET


class MessagesHttpSendGetParametersQuery(Struct):
    to: Annotated[list[PhoneNumber], Meta(max_length=200, min_length=1)]
    content: Annotated[str, Meta(min_length=1)]
    from_: SenderNumber | UnsetType = field(name="from", default=UNSET)


class PublicClientMessageStatusGetParametersQuery(Struct):
    message_id: ApiMessageId = field(name="messageId")


class SendMessagesResponse(Struct):
    """
    The answer to a send: one entry per recipient, and the request-level error fields,
    which are null, or absent, when the request as a whole was taken. A request-level error
    (an `errorCode` or an `error` set at the top) comes with an empty `messages`, whatever
    the HTTP status; readers should still not rely on that.

    """

    messages: (
        Annotated[
            list[MessageResponse],
            Meta(
                description="One entry per recipient, in the order of the request; empty on a request-level error."
            ),
        ]
        | UnsetType
    ) = UNSET
    error_code: ErrorCode | UnsetType = field(name="errorCode", default=UNSET)
    error: ErrorText | UnsetType = UNSET
    error_description: ErrorText | UnsetType = field(name="errorDescription", default=UNSET)
