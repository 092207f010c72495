"""A bulk run's settings, checked before anything is opened or sent, and the facts that make
two runs the same campaign (compared when a journal is resumed)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from clickatell_wire.tables import SEND_OPTIONS

from ..errors import ValidationError
from ..options import MAX_RECIPIENTS
from ._rate_limit import Limiter, RateLimiter

if TYPE_CHECKING:
    from ._sender import MessageSender

__all__ = ["MAX_BATCH", "RunSettings"]

logger = logging.getLogger("clickatell_sms.bulk")

MAX_BATCH: Final = MAX_RECIPIENTS
# Options that do not change what the recipients receive, so a resume may change them.
_TRANSPORT_OPTIONS: Final = frozenset({"timeout", "retries", "extra_headers"})
# Every option `Client.send` takes: the spec's fields, how a request travels, and its transport.
_SEND_OPTIONS: Final = frozenset(
    {f.name for f in SEND_OPTIONS} | {"integration"} | _TRANSPORT_OPTIONS
)


@dataclass(frozen=True, slots=True)
class RunSettings:
    """`send_many`'s arguments that shape the run, checked (see `check`).

    `send_options` are passed to every `Client.send` without `client_message_id`, which is
    `prefix` here: each request's ID is `<prefix>-<batch number>`. `batch_size` is already
    capped to a second's worth of recipients when there is a rate limit (`limiter`).
    """

    content: str | None
    concurrency: int
    unique: bool
    stop_after: int | None
    batch_size: int
    limiter: Limiter | None
    send_options: dict[str, Any]
    prefix: str | None

    @classmethod
    def check(
        cls,
        client: MessageSender,
        content: str | None,
        *,
        concurrency: int,
        rate_limit: float | Limiter | None,
        unique: bool,
        stop_after: int | None,
        batch_size: int,
        send_options: Mapping[str, Any],
    ) -> RunSettings:
        """The settings, or `ValidationError` (`TypeError` for an unknown send option)."""
        if content is not None and (not isinstance(content, str) or not content):
            raise ValidationError("content", "must be a non-empty string (or None)", content)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError("concurrency", "must be an int >= 1", concurrency)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise ValidationError("batch_size", f"must be an int from 1 to {MAX_BATCH}", batch_size)
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValidationError("batch_size", f"must be from 1 to {MAX_BATCH}", batch_size)
        if stop_after is not None and (
            isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1
        ):
            raise ValidationError("stop_after", "must be an int >= 1, or None", stop_after)
        unknown_options = set(send_options) - _SEND_OPTIONS
        if unknown_options:
            raise TypeError(
                f"send_many() got unexpected options: {', '.join(sorted(unknown_options))}"
            )
        options = {name: value for name, value in send_options.items() if value is not None}
        prefix = options.pop("client_message_id", None)
        if prefix is not None and (
            not isinstance(prefix, str) or not prefix or any(c.isspace() for c in prefix)
        ):
            raise ValidationError("client_message_id", "must be a prefix without spaces", prefix)
        if concurrency > client.config.max_connections:
            logger.warning(
                "concurrency %d is above the client's max_connections %d: connections beyond"
                " the pool are opened and closed for every request",
                concurrency,
                client.config.max_connections,
            )
        limiter: Limiter | None = None
        if rate_limit is not None and not isinstance(rate_limit, int | float):
            if not hasattr(rate_limit, "acquire"):
                raise ValidationError("rate_limit", "must be recipients per second", rate_limit)
            limiter = rate_limit  # shared with others (e.g. RedisRateLimiter), already set up
            batch_size = max(1, min(batch_size, int(rate_limit.per_second)))
        elif rate_limit is not None:
            if isinstance(rate_limit, bool) or not isinstance(rate_limit, int | float):
                raise ValidationError("rate_limit", "must be recipients per second", rate_limit)
            # One request never carries more than a second's worth of recipients.
            batch_size = max(1, min(batch_size, int(rate_limit)))
            limiter = RateLimiter(rate_limit, batch_size)
        return cls(content, concurrency, unique, stop_after, batch_size, limiter, options, prefix)

    def identity(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        """What makes a campaign the same campaign: checked when a journal is resumed."""
        options = {
            name: repr(value)
            for name, value in sorted(self.send_options.items())
            if name not in _TRANSPORT_OPTIONS and value is not None
        }
        facts = {
            "content": "" if self.content is None else _sha256(self.content),
            "options": json.dumps(options, sort_keys=True),
            "unique": str(self.unique),
        }
        facts.update(extra or {})
        return facts


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
