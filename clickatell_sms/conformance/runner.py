"""Running the catalogue: each probe against the target and against an embedded sandbox.

The target is the user's base URL with the user's key; beside it runs a default sandbox in this
process, which gets the very same request (with its own key). Every request is printed before
it is sent, with the key redacted. The run stops at once when the target reports an accepted
recipient: no probe is meant to get one, so the API did something nobody expected and nothing
more is sent.

Requests go out with urllib3 directly, not through the `Client`: probes are deliberately wrong,
and the client would refuse to send most of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, TextIO
from urllib.parse import urlsplit

import urllib3

from ..redact import mask_secret_bytes, scrub
from ..sandbox import Sandbox
from ..sandbox.observed import Observation
from .answers import Answer, Verdict, differences, failed, read_answer, verdict
from .probes import CATALOGUE, Probe

__all__ = ["ProbeResult", "Run", "run"]

SANDBOX_KEY: Final = "conformance-sandbox-key"
_SHOWN_BODY: Final = 300  # characters of a request body printed before it is sent
_KEY_IN_HEADER: Final = "<redacted>"
_KEY_IN_QUERY: Final = "REDACTED"


@dataclass(frozen=True, slots=True)
class ShownRequest:
    """A probe's request as printed and reported: the key redacted."""

    method: str
    target: str
    headers: dict[str, str]
    body: str

    def lines(self, limit: int | None = _SHOWN_BODY) -> list[str]:
        body = (
            self.body
            if limit is None or len(self.body) <= limit
            else (self.body[:limit] + f"... ({len(self.body)} characters)")
        )
        shown = [f"{self.method} {self.target}"]
        shown += [f"{name}: {value}" for name, value in self.headers.items()]
        if body:
            shown.append(body)
        return shown


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe: the request, the target's ("live") and the sandbox's answers, the verdict."""

    probe: Probe
    request: ShownRequest
    live: Answer
    sandbox: Answer
    verdict: Verdict
    differences: tuple[str, ...]


@dataclass(slots=True)
class Run:
    """What a run found; `stopped` says why it ended early, if it did."""

    host: str
    date: datetime
    results: list[ProbeResult] = field(default_factory=list)
    stopped: str | None = None
    not_run: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"same": 0, "different": 0, "unexpected": 0, "not run": len(self.not_run)}
        for result in self.results:
            counts[result.verdict] += 1
        return counts

    def observations(self) -> list[Observation]:
        """What the target's answers settle, rule by rule, for `sandbox --observed`.

        A probe counts only when its answer is one a probe allows for, and when the target took
        the probe's baseline (the same request without the probed change): otherwise a refusal
        might be the invalid recipient's doing, not the probed field's.
        """
        taken = {r.probe.name: r.live.taken for r in self.results}
        source = f"conformance report, {self.host}, {self.date:%Y-%m-%d}"
        found = []
        for result in self.results:
            probe, live = result.probe, result.live
            if probe.rule is None or result.verdict == "unexpected" or live.status is None:
                continue
            if probe.baseline is not None and not taken.get(probe.baseline, False):
                continue
            found.append(
                Observation(
                    rule=probe.rule,
                    probe=probe.name,
                    taken=live.taken,
                    status=live.status,
                    error_code=live.error_code,
                    error=live.error,
                    description=live.description,
                    source=source,
                )
            )
        return found


def run(
    base_url: str,
    api_key: str,
    out: TextIO,
    *,
    probes: Iterable[Probe] = CATALOGUE,
    timeout: float = 15.0,
) -> Run:
    """Send each probe to `base_url` and to an embedded sandbox, printing as it goes."""
    chosen = list(probes)
    base = base_url.rstrip("/")
    outcome = Run(host=urlsplit(base).netloc, date=datetime.now(UTC))
    http = urllib3.PoolManager(
        retries=False, timeout=urllib3.Timeout(connect=timeout, read=timeout)
    )
    with Sandbox(api_keys=(SANDBOX_KEY,)) as sandbox:
        for index, probe in enumerate(chosen, 1):
            shown = _shown(probe)
            print(f"\n[{index}/{len(chosen)}] {probe.name}: {probe.question}", file=out)
            for line in shown.lines():
                print(f"    {line}", file=out)
            out.flush()
            live = _send(http, base, probe, api_key)
            if live.failure is not None and not outcome.results:
                outcome.stopped = f"no answer from {outcome.host}: {live.failure}"
                outcome.not_run = [p.name for p in chosen[index - 1 :]]
                print(f"    STOPPED: {outcome.stopped}", file=out)
                break
            mirror = _send(http, sandbox.base_url, probe, SANDBOX_KEY)
            decided = verdict(live, mirror)
            outcome.results.append(
                ProbeResult(probe, shown, live, mirror, decided, tuple(differences(live, mirror)))
            )
            print(f"    live:    {live.summary()}", file=out)
            print(f"    sandbox: {mirror.summary()}", file=out)
            print(f"    -> {decided}", file=out)
            if live.accepted:
                outcome.stopped = (
                    f"probe {probe.name}: the API reported {live.accepted} accepted recipient(s);"
                    " no probe should get one, so no further probe was sent. Check the account's"
                    " message log."
                )
                outcome.not_run = [p.name for p in chosen[index:]]
                print(f"    STOPPED: {outcome.stopped}", file=out)
                break
    http.clear()
    return outcome


def _send(http: urllib3.PoolManager, base: str, probe: Probe, api_key: str) -> Answer:
    try:
        response = http.request(
            probe.method,
            base + probe.target(api_key),
            body=probe.body or None,
            headers=probe.headers(api_key),
        )
    except urllib3.exceptions.HTTPError as exc:
        return failed(scrub(f"{type(exc).__name__}: {exc}", api_key))
    headers = {name.lower(): scrub(value, api_key) for name, value in response.headers.items()}
    return read_answer(response.status, headers, mask_secret_bytes(response.data, api_key))


def _shown(probe: Probe) -> ShownRequest:
    """The request with a stand-in wherever the key goes (the wrong-key probe's is no secret)."""
    return ShownRequest(
        probe.method,
        probe.target(_KEY_IN_QUERY),
        probe.headers(_KEY_IN_HEADER),
        probe.body.decode("utf-8", "replace"),
    )
