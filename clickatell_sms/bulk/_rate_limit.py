"""The rate limit of a bulk run: recipients per second, shared by every sending thread."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from ..errors import ValidationError

__all__ = ["Limiter", "RateLimiter"]


class Limiter(Protocol):
    """What a bulk run needs of a rate limit: permission to send `count` recipients now.

    `RateLimiter` is one (this process's threads); `redis_rate_limit.RedisRateLimiter` is
    another (every worker of an account, through Redis).
    """

    @property
    def per_second(self) -> float:
        """The limit, in recipients per second (a request never carries more)."""
        ...

    def acquire(self, count: int, stop: threading.Event | None = None) -> bool:
        """Wait until `count` recipients may go; False if `stop` was set while waiting."""
        ...


class RateLimiter:
    """A token bucket in recipients per second, shared by every sending thread.

    Implemented as a virtual schedule (GCRA): each request reserves its recipients' share of
    time, so the long-run rate is exact; `burst` recipients may go at once after a pause.
    """

    def __init__(self, per_second: float, burst: int) -> None:
        if not per_second > 0:
            raise ValidationError("rate_limit", "must be a number of recipients per second > 0")
        self.per_second = per_second
        self._interval = 1.0 / per_second
        self._tolerance = burst / per_second
        self._tat = 0.0
        self._lock = threading.Lock()

    def acquire(self, count: int, stop: threading.Event | None = None) -> bool:
        """Wait until `count` recipients may go; False if `stop` was set while waiting."""
        with self._lock:
            now = time.monotonic()
            start = max(self._tat, now)
            self._tat = start + count * self._interval
            delay = self._tat - self._tolerance - now
        if delay <= 0:
            return True
        if stop is None:
            time.sleep(delay)
            return True
        return not stop.wait(delay)
