# generated from spec/messages.xsd sha256 5edbc799caea1c9e166ac4d0a66c6a8ca5681dca3db2843a38393f389dd852aa, do not edit
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
