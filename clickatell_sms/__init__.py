"""A typed client for Clickatell's Platform SMS API, in JSON or XML.

    from clickatell_sms import Client

    with Client() as client:                 # CLICKATELL_API_KEY from the environment
        for result in client.send(["+27 82 123 4567"], "Hello"):
            print(result.number, result.accepted, result.api_message_id or result.description)

Only the names below are public. The client and its result types are imported on first use, so
`import clickatell_sms` stays cheap for programs that only need, say, the errors.
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
    ResponseError,
    TimeoutError,
    ValidationError,
)
from .raw import RawResponse

if TYPE_CHECKING:
    from .client import Client
    from .config import ClientConfig
    from .encoding import Estimate
    from .results import MessageResult, SendResult
    from .retry import RetryPolicy

__all__ = [
    "APIError",
    "AuthenticationError",
    "ClickatellError",
    "Client",
    "ClientConfig",
    "ConnectionError",
    "Estimate",
    "MessageResult",
    "OutcomeUnknownError",
    "RateLimitError",
    "RawResponse",
    "ResponseError",
    "RetryPolicy",
    "SendResult",
    "TimeoutError",
    "ValidationError",
    "__version__",
]

_LAZY = {
    "Client": "client",
    "ClientConfig": "config",
    "Estimate": "encoding",
    "MessageResult": "results",
    "SendResult": "results",
    "RetryPolicy": "retry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
