"""An account's rate limit shared by every sender, as a token bucket in Redis.

Each host's own `RateLimiter` only knows its own threads; an account sending from several workers
needs one bucket that all of them draw from. This one keeps the bucket's whole state in one
Redis key and changes it in a Lua script, which Redis runs atomically: no two workers can take
the same tokens, and the clock is Redis's own (`TIME`), so the workers' clocks do not matter.

The algorithm is the same virtual schedule as `RateLimiter` (GCRA): the key holds the time at
which the bucket will next be empty; a request for `count` messages moves it `count / rate`
seconds on, and waits until it is within `burst / rate` of now. The key expires once idle.

Counted in messages (recipients) per second, for everyone using the same `key`: name it after
the account (the default is a hash of the API key, the same for every worker using that key).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Final

from ..errors import ValidationError

__all__ = ["RedisRateLimiter", "account_key"]

# KEYS[1]: the bucket. ARGV: interval (µs per message), tolerance (µs), count.
# Returns the µs to wait before sending (0: at once). The reservation is made either way, so a
# waiting sender keeps its place and the long-run rate is exact.
_SCRIPT: Final = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + count * interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX',
    math.floor((new_tat - now) / 1000) + 60000)
local wait = new_tat - tolerance - now
if wait < 0 then wait = 0 end
return wait
"""


def account_key(api_key: str, prefix: str = "clickatell-sms:rate") -> str:
    """The bucket of everyone sending with this API key (the key itself never reaches Redis)."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()[:16]
    return f"{prefix}:{digest}"


class RedisRateLimiter:
    """A `Limiter` (see `_rate_limit`) whose bucket lives in Redis, shared by every process.

    `redis` is a `redis.Redis` client or a URL; `per_second` the account's limit in messages
    per second; `burst` how many may go at once after a pause (default: a second's worth, at
    most 200, the largest request).
    """

    def __init__(
        self, redis: Any, per_second: float, *, key: str, burst: int | None = None
    ) -> None:
        if isinstance(per_second, bool) or not isinstance(per_second, int | float):
            raise ValidationError("rate_limit", "must be messages per second", per_second)
        if not per_second > 0:
            raise ValidationError("rate_limit", "must be messages per second > 0", per_second)
        if isinstance(redis, str):
            import redis as redis_py  # the `redis` extra

            redis = redis_py.Redis.from_url(redis, socket_timeout=10)
        self.per_second = float(per_second)
        self.key = key
        self._burst = max(1, min(200, int(per_second))) if burst is None else burst
        self._interval_us = 1_000_000 / per_second
        self._tolerance_us = self._burst * self._interval_us
        self._script = redis.register_script(_SCRIPT)

    def acquire(self, count: int, stop: threading.Event | None = None) -> bool:
        """Wait until `count` messages may go; False if `stop` was set while waiting."""
        wait_us = int(
            self._script(keys=[self.key], args=[self._interval_us, self._tolerance_us, count])
        )
        if wait_us <= 0:
            return True
        delay = wait_us / 1_000_000
        if stop is None:
            time.sleep(delay)
            return True
        return not stop.wait(delay)
