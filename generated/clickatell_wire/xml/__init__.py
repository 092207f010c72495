# generated from spec/messages.xsd sha256 68d95ef8c8d39c6413973b0cc76ac502efac99981eb413b4a048108773c30190, do not edit
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
