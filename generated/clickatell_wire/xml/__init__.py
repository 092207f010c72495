# generated from spec/messages.xsd by python -m codegen, do not edit
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
