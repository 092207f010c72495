# generated from spec/messages.xsd sha256 e0865968265c82749f86f3c8413d0913a7b3764060cfe3a6e822b3c71c21b8bc, do not edit
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
