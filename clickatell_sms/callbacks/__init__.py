"""Clickatell's delivery-status and reply callbacks: parsing, a WSGI receiver, a listener.

* `parsing`: any callback request (GET query, POST JSON or form) into a typed, immutable event.
* `receiver`: `CallbackReceiver`, a WSGI app that hands each event to your handler.
* `listener`: `CallbackServer`, a small HTTP server for the receiver (the CLI's `listen`,
  tests, a local loop with the sandbox); imported only by those who use it.
"""

from __future__ import annotations

from .parsing import (
    CallbackKind,
    ReplyCallback,
    StatusCallback,
    is_newer,
    parse_callback_request,
    parse_reply_callback,
    parse_status_callback,
)
from .receiver import CallbackReceiver

__all__ = [
    "CallbackKind",
    "CallbackReceiver",
    "ReplyCallback",
    "StatusCallback",
    "is_newer",
    "parse_callback_request",
    "parse_reply_callback",
    "parse_status_callback",
]
