"""Injected failures: latency, 429, 500, 503 and dropped connections, reproducible from a seed.

A client's retry rules are only as good as the failures it was tested against, so the sandbox
can fail on purpose. Two ways to ask:

* `Faults` on the server: each API request draws once from a seeded random stream, so the same
  seed and the same order of requests give the same failures. `max_faults` bounds how many
  requests fail in total, so a retrying client always gets through in the end.
* The `X-Sandbox-Fault` header on one request (`429`, `500`, `503`, `drop-before-body`,
  `drop-after-body`, or `none` to exempt it), and `X-Sandbox-Latency: SECONDS`, so one test can
  target exactly one request. Header faults do not count against `max_faults`.

What each fault means for the message, which is what a client has to get right:

* `429`, `500`, `503` answer without reading the document: nothing is recorded or charged.
  (A real 500 might have been processed; the sandbox never does, so it can be retried in tests
  only when the client decides to.)
* `drop-before-body` closes the connection once the headers are read: nothing is recorded.
* `drop-after-body` processes the request completely (records and charges every accepted
  recipient) and then closes the connection without answering. The client cannot know which,
  so it must report the outcome as unknown rather than send again.
* Latency delays the answer; the request is processed first, so a client that times out has,
  in fact, sent the message.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["FAULT_KINDS", "FaultDecision", "FaultInjector", "FaultKind", "Faults"]

FaultKind = Literal["429", "500", "503", "drop-before-body", "drop-after-body"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = (
    "429",
    "500",
    "503",
    "drop-before-body",
    "drop-after-body",
)
_MAX_LATENCY: Final = 60.0


@dataclass(frozen=True, slots=True)
class Faults:
    """How often each failure happens. Rates are shares of API requests, 0 to 1, summing to <= 1.

    `latency` is seconds added to every answer: a number, or a `(low, high)` range drawn
    uniformly per request. `retry_after` is the `Retry-After` value (seconds) sent with 429 and
    503. `max_faults` bounds the failures injected by rate (None: unbounded). `seed` overrides
    the sandbox's seed for the fault stream.
    """

    latency: float | tuple[float, float] = 0.0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    drop_before_body: float = 0.0
    drop_after_body: float = 0.0
    retry_after: int = 1
    max_faults: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        rates = self.rates()
        for kind, rate in rates:
            if not (0.0 <= rate <= 1.0) or math.isnan(rate):
                raise ValueError(f"fault rate for {kind} must be between 0 and 1, not {rate}")
        if sum(rate for _, rate in rates) > 1.0 + 1e-9:
            raise ValueError("fault rates add up to more than 1")
        low, high = self.latency_range()
        if not (0.0 <= low <= high <= _MAX_LATENCY):
            raise ValueError(f"latency must be within 0..{_MAX_LATENCY:g} s, low <= high")
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.max_faults is not None and self.max_faults < 0:
            raise ValueError("max_faults must not be negative")

    def rates(self) -> tuple[tuple[FaultKind, float], ...]:
        """Each fault with its rate, in the order the random draw is cut into bands."""
        return (
            ("429", self.rate_429),
            ("500", self.rate_500),
            ("503", self.rate_503),
            ("drop-before-body", self.drop_before_body),
            ("drop-after-body", self.drop_after_body),
        )

    def latency_range(self) -> tuple[float, float]:
        """The latency as a (low, high) range; a fixed latency has low == high."""
        if isinstance(self.latency, tuple):
            low, high = self.latency
            return float(low), float(high)
        return float(self.latency), float(self.latency)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request: an optional fault, and seconds to wait before it shows."""

    kind: FaultKind | None
    latency: float
    retry_after: int


NO_FAULT: Final = FaultDecision(None, 0.0, 0)


class FaultInjector:
    """Draws each request's fate from `Faults`; called only from the server's event loop.

    Two random streams (one for faults, one for latency) keep the failure sequence the same when
    only the latency setting changes.
    """

    __slots__ = ("_bands", "_fault_rng", "_latency", "_latency_rng", "faults", "injected")

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        base = faults.seed if faults.seed is not None else seed
        self._fault_rng = random.Random(f"faults:{base}")
        self._latency_rng = random.Random(f"latency:{base}")
        self._latency = faults.latency_range()
        bands: list[tuple[float, FaultKind]] = []
        edge = 0.0
        for kind, rate in faults.rates():
            if rate > 0:
                edge += rate
                bands.append((edge, kind))
        self._bands = tuple(bands)
        self.injected = 0
        """Faults injected so far by rate (header faults not included)."""

    @property
    def idle(self) -> bool:
        """No fault or latency can ever come from this configuration (the common, fast case)."""
        return not self._bands and self._latency == (0.0, 0.0)

    def decide(self, fault_header: str | None, latency_header: str | None) -> FaultDecision:
        """The fate of the next API request. Raises ValueError for an unknown header value."""
        forced = _parse_fault_header(fault_header)
        latency = _parse_latency_header(latency_header)
        if self.idle and forced is None and latency is None:
            return NO_FAULT
        kind: FaultKind | None = None
        if self._bands:
            draw = self._fault_rng.random()  # drawn even when forced, so streams stay aligned
            if forced is None and self._within_bound():
                for edge, candidate in self._bands:
                    if draw < edge:
                        kind = candidate
                        self.injected += 1
                        break
        if forced is not None:
            kind = None if forced == "none" else forced
        if latency is None:
            low, high = self._latency
            latency = low if low == high else self._latency_rng.uniform(low, high)
        return FaultDecision(kind, latency, self.faults.retry_after)

    def _within_bound(self) -> bool:
        bound = self.faults.max_faults
        return bound is None or self.injected < bound


def _parse_fault_header(value: str | None) -> FaultKind | Literal["none"] | None:
    if value is None:
        return None
    text = value.strip().lower()
    if text == "none":
        return "none"
    for kind in FAULT_KINDS:
        if text == kind:
            return kind
    raise ValueError(
        f"X-Sandbox-Fault: unknown fault {value!r}; use one of {', '.join(FAULT_KINDS)}"
    )


def _parse_latency_header(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"X-Sandbox-Latency: {value!r} is not a number of seconds") from None
    if not (0.0 <= seconds <= _MAX_LATENCY):
        raise ValueError(f"X-Sandbox-Latency: must be within 0..{_MAX_LATENCY:g} seconds")
    return seconds
