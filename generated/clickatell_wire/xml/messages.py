# generated from spec/messages.xsd by python -m codegen, do not edit
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Charset(Enum):
    ASCII = "ASCII"
    UCS2_BE = "UCS2-BE"
    UTF_8 = "UTF-8"
    WINDOWS_1252 = "Windows-1252"


@dataclass(slots=True, kw_only=True)
class Message:
    """
    The outcome for one recipient; absent elements mean null.
    """

    api_message_id: str | None = field(
        default=None,
        metadata={
            "name": "ApiMessageId",
            "type": "Element",
            "namespace": "",
        },
    )
    accepted: bool | None = field(
        default=None,
        metadata={
            "name": "Accepted",
            "type": "Element",
            "namespace": "",
        },
    )
    to: str | None = field(
        default=None,
        metadata={
            "name": "To",
            "type": "Element",
            "namespace": "",
        },
    )
    error_code: int | None = field(
        default=None,
        metadata={
            "name": "ErrorCode",
            "type": "Element",
            "namespace": "",
        },
    )
    error: str | None = field(
        default=None,
        metadata={
            "name": "Error",
            "type": "Element",
            "namespace": "",
        },
    )
    error_description: str | None = field(
        default=None,
        metadata={
            "name": "ErrorDescription",
            "type": "Element",
            "namespace": "",
        },
    )


@dataclass(slots=True, kw_only=True)
class Messages:
    message: list[Message] = field(
        default_factory=list,
        metadata={
            "name": "Message",
            "type": "Element",
            "namespace": "",
        },
    )


@dataclass(slots=True, kw_only=True)
class SendMessageRequest:
    """
    One text to between 1 and 200 recipients, one To element each.
    """

    content: str = field(
        metadata={
            "name": "Content",
            "type": "Element",
            "namespace": "",
            "min_length": 1,
        }
    )
    to: list[str] = field(
        default_factory=list,
        metadata={
            "name": "To",
            "type": "Element",
            "namespace": "",
            "min_occurs": 1,
            "max_occurs": 200,
        },
    )
    from_value: str | None = field(
        default=None,
        metadata={
            "name": "From",
            "type": "Element",
            "namespace": "",
            "pattern": r"\+?[0-9]{1,20}",
        },
    )
    binary: bool | None = field(
        default=None,
        metadata={
            "name": "Binary",
            "type": "Element",
            "namespace": "",
        },
    )
    client_message_id: str | None = field(
        default=None,
        metadata={
            "name": "ClientMessageId",
            "type": "Element",
            "namespace": "",
            "min_length": 1,
            "max_length": 255,
            "pattern": r"\S+",
        },
    )
    scheduled_delivery_time: str | None = field(
        default=None,
        metadata={
            "name": "ScheduledDeliveryTime",
            "type": "Element",
            "namespace": "",
            "pattern": r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+\-]([01][0-9]|2[0-3])[0-5][0-9]",
        },
    )
    user_data_header: str | None = field(
        default=None,
        metadata={
            "name": "UserDataHeader",
            "type": "Element",
            "namespace": "",
            "min_length": 1,
            "max_length": 280,
            "pattern": r"([0-9A-Fa-f]{2})+",
        },
    )
    validity_period: int | None = field(
        default=None,
        metadata={
            "name": "ValidityPeriod",
            "type": "Element",
            "namespace": "",
            "min_inclusive": 1,
            "max_inclusive": 10080,
        },
    )
    charset: Charset | None = field(
        default=None,
        metadata={
            "name": "Charset",
            "type": "Element",
            "namespace": "",
        },
    )


@dataclass(slots=True, kw_only=True)
class SendMessagesResponse:
    """
    The answer to a send, or a request-level error when ErrorCode/Error are set.
    """

    messages: Messages | None = field(
        default=None,
        metadata={
            "name": "Messages",
            "type": "Element",
            "namespace": "",
        },
    )
    error_code: int | None = field(
        default=None,
        metadata={
            "name": "ErrorCode",
            "type": "Element",
            "namespace": "",
        },
    )
    error: str | None = field(
        default=None,
        metadata={
            "name": "Error",
            "type": "Element",
            "namespace": "",
        },
    )
    error_description: str | None = field(
        default=None,
        metadata={
            "name": "ErrorDescription",
            "type": "Element",
            "namespace": "",
        },
    )
