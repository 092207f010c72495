"""A run as a JSON report (for `sandbox --observed` and for tools) and as Markdown (for people).

The JSON carries the date and the target's host, every probe with its request (key redacted),
both answers and the verdict, and the `observations` the sandbox can adopt (their format is
`clickatell_sms.sandbox.observed`'s). The Markdown is meant to be pasted into a bug report as it
is: a summary table, then each probe whose answers differ with both answers in full.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from .._version import __version__
from ..sandbox.observed import REPORT_FORMAT
from .runner import ProbeResult, Run

__all__ = ["REPORT_VERSION", "to_json", "to_markdown", "write"]

REPORT_VERSION: Final = 1


def to_json(run: Run) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "tool": f"clickatell-sms {__version__}",
        "date": run.date.isoformat(timespec="seconds"),
        "host": run.host,
        "summary": run.counts(),
        "stopped": run.stopped,
        "notRun": run.not_run,
        "probes": [_probe_json(result) for result in run.results],
        "observations": [item.to_json() for item in run.observations()],
    }


def _probe_json(result: ProbeResult) -> dict[str, Any]:
    probe, request = result.probe, result.request
    return {
        "name": probe.name,
        "question": probe.question,
        "whyFree": probe.why_free,
        "rule": probe.rule,
        "baseline": probe.baseline,
        "request": {
            "method": request.method,
            "target": request.target,
            "headers": request.headers,
            "body": request.body,
        },
        "live": result.live.to_json(),
        "sandbox": result.sandbox.to_json(),
        "verdict": result.verdict,
        "differences": list(result.differences),
    }


def to_markdown(run: Run) -> str:
    counts = run.counts()
    lines = [
        f"# Clickatell conformance report: {run.host}",
        "",
        f"Run {run.date:%Y-%m-%d %H:%M} UTC with clickatell-sms {__version__} against"
        f" `{run.host}`, beside its embedded sandbox (default profile). Every probe was built"
        " so that it cannot deliver a message (recipients without a digit, a missing field, a"
        " wrong key, or a read-only look-up).",
        "",
        f"**{counts['same']} same, {counts['different']} different,"
        f" {counts['unexpected']} unexpected, {counts['not run']} not run.**",
        "",
    ]
    if run.stopped:
        lines += [f"> **Stopped:** {run.stopped}", ""]
    lines += ["| Probe | Verdict | Live answer | Sandbox answer |", "|---|---|---|---|"]
    for result in run.results:
        lines.append(
            f"| `{result.probe.name}` | {result.verdict} | {_cell(result.live.summary())} |"
            f" {_cell(result.sandbox.summary())} |"
        )
    for name in run.not_run:
        lines.append(f"| `{name}` | not run | | |")
    details = [r for r in run.results if r.verdict != "same"]
    if details:
        lines += ["", "## Where the answers differ", ""]
    for result in details:
        lines += _details(result)
    return "\n".join(lines).rstrip() + "\n"


def _details(result: ProbeResult) -> list[str]:
    probe = result.probe
    lines = [
        f"### `{probe.name}`: {result.verdict}",
        "",
        probe.question,
        "",
        f"Why it costs nothing: {probe.why_free}."
        + (f" Settles the sandbox rule `{probe.rule}`." if probe.rule else ""),
        "",
    ]
    lines += [f"- {item}" for item in result.differences]
    lines += ["", "Request:", "", "```http", *result.request.lines(limit=2000), "```", ""]
    for title, answer in (("Live answer", result.live), ("Sandbox answer", result.sandbox)):
        lines += [f"{title}:", "", "```http"]
        if answer.failure is not None:
            lines.append(f"(no answer: {answer.failure})")
        else:
            lines.append(f"HTTP {answer.status}")
            lines += [f"{name}: {value}" for name, value in answer.headers.items()]
            lines += ["", answer.body]
        lines += ["```", ""]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def write(run: Run, *, json_path: Path | None, markdown_path: Path | None) -> None:
    if json_path is not None:
        json_path.write_text(json.dumps(to_json(run), indent=2, ensure_ascii=False) + "\n")
    if markdown_path is not None:
        markdown_path.write_text(to_markdown(run))
