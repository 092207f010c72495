# generated from spec/messages.xsd sha256 eb5dc333f582e25ba725368119c610eeccb9f1d4cf85d2d65e49bb16a29eb9d2, do not edit
from .messages import (
    Charset,
    Message,
    Messages,
    SendMessageRequest,
    SendMessagesResponse,
)

__all__ = [
    "Charset",
    "Message",
    "Messages",
    "SendMessageRequest",
    "SendMessagesResponse",
]
