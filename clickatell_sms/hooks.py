"""Request and response hooks: what a metrics or tracing library needs to see of each attempt.

`ClientConfig(on_request=..., on_response=...)` (or the same keywords on `Client` and
`AsyncClient`) are called for every attempt of every request, retries included, with an
`Attempt`. The SDK depends on no metrics or tracing package: a hook is a plain function, so
Prometheus counters or an OpenTelemetry span fit in a few lines (docs/usage.md shows both).

An `Attempt` carries no key, no header and no query string: `path` is the operation's path as
the spec writes it, so the HTTP integration's GET send (whose URL holds the key) shows as
`/messages/http/send`. A hook that raises is logged at WARNING and otherwise ignored: a
failing metrics call must never turn a sent message into an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["Attempt", "Hook", "Outcome", "call_hook"]

logger = logging.getLogger("clickatell_sms")

Outcome: TypeAlias = Literal["answered", "retry", "failed", "unknown", "cancelled"]
"""How an attempt ended: "answered" (an HTTP answer that is final, success or refusal),
"retry" (refused for now, 429/503, or not sent, and tried again), "failed" (provably not sent,
no more tries), "unknown" (no answer, and it may have been sent), "cancelled" (the asyncio task
was cancelled; unknown if it may have been sent)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of one request. `on_request` gets it with `status`, `duration` and
    `outcome` left None; `on_response` gets them filled (`status` None without an answer).

    `operation` is the spec's operationId (`sendMessage`, `sendMessageHttp`, `getBalance`,
    `getMessageStatus`); `attempt` counts from 1; `duration` is in seconds; `maybe_sent` is
    true when a request without an answer may have reached the API.
    """

    operation: str
    method: str
    path: str
    attempt: int
    status: int | None = None
    duration: float | None = None
    outcome: Outcome | None = None
    maybe_sent: bool = False


Hook: TypeAlias = Callable[[Attempt], object]
"""A request or response hook: called with each `Attempt`; its return value is ignored."""


def call_hook(hook: Hook, attempt: Attempt) -> None:
    """Call a user's hook; an exception from it is logged, never raised."""
    try:
        hook(attempt)
    except Exception:
        logger.warning(
            "a %s hook raised on %s attempt %d; ignored",
            "response" if attempt.outcome is not None else "request",
            attempt.operation,
            attempt.attempt,
            exc_info=True,
        )
