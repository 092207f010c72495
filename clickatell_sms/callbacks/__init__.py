"""Clickatell's delivery-status and reply callbacks: parsing, a WSGI receiver, a listener.

* `parsing`: any callback request (GET query, POST JSON or form) into a typed, immutable event.
* `access`: who may post: the secret the callback URL carries (`generate_secret`,
  `url_with_secret`), source allow-lists.
* `receiver`: `CallbackReceiver`, a WSGI app that refuses callbacks without the secret and
  hands each event to your handler.
* `listener`: `CallbackServer`, a bounded HTTP server for the receiver (timeouts, a worker pool,
  a connection cap): the CLI's `listen`, tests, a local loop with the sandbox; imported only by
  those who use it.
"""

from __future__ import annotations

from .access import generate_secret, url_with_secret
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
    "generate_secret",
    "is_newer",
    "parse_callback_request",
    "parse_reply_callback",
    "parse_status_callback",
    "url_with_secret",
]
