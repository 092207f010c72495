"""A typed client for Clickatell's Platform SMS API, in JSON or XML.

    from clickatell_sms import Client

    with Client() as client:                 # CLICKATELL_API_KEY from the environment
        for result in client.send(["+27 82 123 4567"], "Hello"):
            print(result.number, result.accepted, result.api_message_id or result.description)
        print(client.balance())                              # 99.9 ZAR
        print(client.message_status(result.api_message_id).status)   # DELIVERED_TO_GATEWAY

`AsyncClient` is the same client for asyncio (`async with AsyncClient() as client:
await client.send(...)`), with the `async` extra.

Callbacks: `parse_status_callback`, `parse_reply_callback`, `parse_callback_request` (any web
framework) and `CallbackReceiver` (a WSGI app).

Only the names below are public. The clients and their result types are imported on first use,
so `import clickatell_sms` stays cheap for programs that only need, say, the errors, and loads
nothing of asyncio or aiohttp. `CLICKATELL_LOG=info` (or `debug`) sends the SDK's log to stderr
without any code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    APIError,
    AuthenticationError,
    ClickatellError,
    ConnectionError,
    OutcomeUnknownError,
    RateLimitError,
    RedirectError,
    ResponseError,
    TimeoutError,
    ValidationError,
)
from .settings import log_level

if TYPE_CHECKING:
    from .async_client import AsyncClient
    from .callbacks import (
        CallbackReceiver,
        ReplyCallback,
        StatusCallback,
        is_newer,
        parse_callback_request,
        parse_reply_callback,
        parse_status_callback,
    )
    from .client import Client
    from .config import ClientConfig
    from .encoding import Estimate
    from .hooks import Attempt
    from .raw import RawResponse
    from .results import Anomaly, Balance, MessageResult, SendResult, StatusResult
    from .retry import RetryPolicy
    from .statuses import MessageStatus

__all__ = [
    "APIError",
    "Anomaly",
    "AsyncClient",
    "Attempt",
    "AuthenticationError",
    "Balance",
    "CallbackReceiver",
    "ClickatellError",
    "Client",
    "ClientConfig",
    "ConnectionError",
    "Estimate",
    "MessageResult",
    "MessageStatus",
    "OutcomeUnknownError",
    "RateLimitError",
    "RawResponse",
    "RedirectError",
    "ReplyCallback",
    "ResponseError",
    "RetryPolicy",
    "SendResult",
    "StatusCallback",
    "StatusResult",
    "TimeoutError",
    "ValidationError",
    "__version__",
    "is_newer",
    "parse_callback_request",
    "parse_reply_callback",
    "parse_status_callback",
]

_LAZY = {
    "Anomaly": "results",
    "AsyncClient": "async_client",
    "Attempt": "hooks",
    "Balance": "results",
    "CallbackReceiver": "callbacks",
    "Client": "client",
    "ClientConfig": "config",
    "Estimate": "encoding",
    "MessageResult": "results",
    "MessageStatus": "statuses",
    "RawResponse": "raw",
    "ReplyCallback": "callbacks",
    "SendResult": "results",
    "StatusCallback": "callbacks",
    "StatusResult": "results",
    "RetryPolicy": "retry",
    "is_newer": "callbacks",
    "parse_callback_request": "callbacks",
    "parse_reply_callback": "callbacks",
    "parse_status_callback": "callbacks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module  # only a lazy name's first look-up needs importlib

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _log_from_env() -> None:
    """`CLICKATELL_LOG=info|debug`: a stderr handler on the SDK's loggers, set at import."""
    level = log_level()
    if level is None:
        return
    import logging  # only a program that asked for the SDK's log lines pays for logging

    logger = logging.getLogger(__name__)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


_log_from_env()
