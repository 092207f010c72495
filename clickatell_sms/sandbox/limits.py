"""`ServerLimits`: how long a client may take and how many may be connected at once.

The sandbox is a server like any other: a test suite that leaks connections, a client that
pipelines without reading, or someone on the network who opens sockets and sends nothing must not
make it grow without bound or stop answering everybody else. These are the bounds, in one object,
so the Python API and the command line (`--idle-timeout`, `--max-connections`, ...) share them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = ["ServerLimits"]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Per-connection timeouts (seconds) and the connection cap.

    * `idle_timeout`: a connection with no request under way is closed (quietly) after this
      long. Clients keep-alive pools notice and reconnect.
    * `header_timeout`: a request line and headers must be complete this long after their first
      byte, however steadily they trickle in; else 408 and close.
    * `body_timeout`: the body must be complete this long after the headers; else 408 and close.
    * `write_timeout`: a client that reads none of its answers for this long (the sandbox has
      stopped reading its further requests meanwhile) is disconnected.
    * `max_connections`: at most this many open connections. A new one displaces the connection
      idle longest (then one still sending its headers); when every connection is in the middle
      of a request, the new one waits until one ends.
    """

    idle_timeout: float = 15.0
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    write_timeout: float = 30.0
    max_connections: int = 1024

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"ServerLimits.{field.name} must be a number, not {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(
                    f"ServerLimits.{field.name} must be a finite number above 0, not {value!r}"
                )
        if not isinstance(self.max_connections, int):
            raise TypeError(
                f"ServerLimits.max_connections must be a whole number, not {self.max_connections!r}"
            )

    @property
    def sweep_interval(self) -> float:
        """How often deadlines are checked: a quarter of the shortest timeout, 10 ms to 1 s, so
        a connection is closed at most that late."""
        shortest = min(self.idle_timeout, self.header_timeout, self.body_timeout)
        return min(1.0, max(0.01, min(shortest, self.write_timeout) / 4))
