"""A live conformance probe: what the real API does, measured for free, beside the sandbox.

Much of the sandbox's behaviour rests on inference (`clickatell_sms.sandbox.rules`). A user with
an account can settle it: `clickatell-sms conformance --live` sends a catalogue of requests that
cannot deliver anything (`probes`) to the API with the user's key, sends each also to an embedded
sandbox, and reports both answers and a verdict per probe (`report`). The report's observations
make a sandbox answer as the live API did (`clickatell-sms sandbox --observed report.json`).
See docs/conformance.md.
"""

from __future__ import annotations

from .probes import CATALOGUE, Probe
from .report import to_json, to_markdown
from .runner import ProbeResult, Run, run

__all__ = [
    "CATALOGUE",
    "Probe",
    "ProbeResult",
    "Run",
    "run",
    "to_json",
    "to_markdown",
]
