"""The report in the terminal: the funnel, time to delivery, the top failure reasons."""

from __future__ import annotations

from .model import NOT_SENT_STATES, CampaignReport

__all__ = ["render_text", "seconds"]

_BAR = 30


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "     -"


def seconds(value: float | None) -> str:
    """A duration as people read it: ms, s or min."""
    if value is None:
        return "-"
    if abs(value) < 1:
        return f"{value * 1000:.0f} ms"
    if abs(value) < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def render_text(report: CampaignReport) -> str:
    """The report as lines for a terminal (no colour, 80 columns)."""
    funnel = report.funnel
    campaign = f"campaign {report.campaign}" if report.campaign else "no campaign journalled yet"
    lines = [f"{report.journal}: {campaign}", ""]
    stages = funnel.stages()
    width = max(len(label) for label, _ in stages)
    top = max(funnel.rows, 1)
    for label, count in stages:
        bar = "#" * round(_BAR * count / top)
        lines.append(f"  {label:<{width}}  {count:>9,}  {_share(count, funnel.rows)}  {bar}")
    lines += _breakdown(report)
    delays = report.delays
    lines += [
        "",
        f"time to delivery ({delays.count:,} received): p50 {seconds(delays.p50)},"
        f" p90 {seconds(delays.p90)}, p99 {seconds(delays.p99)}, max {seconds(delays.max)}",
    ]
    reasons = report.failure_reasons()
    if reasons:
        lines += ["", "most common failure reasons:"]
        lines += [f"  {r.count:>9,}  {r.label}" for r in reasons]
    if report.unknown_callbacks:
        examples = ", ".join(mid for mid, _ in report.unknown_examples)
        lines += [
            "",
            f"{report.unknown_callbacks:,} status callbacks are for messages this campaign does"
            f" not know (kept apart, not counted above): {examples}",
        ]
    return "\n".join(lines) + "\n"


def _breakdown(report: CampaignReport) -> list[str]:
    """What the funnel's stages do not say: rows not sent or not accepted, and why; pending
    rows still at the gateway; rows the look-ups settled."""
    funnel = report.funnel
    lines = [""]
    not_sent = funnel.count(*NOT_SENT_STATES)
    if not_sent:
        lines.append(
            f"not sent: {funnel.count('not_sent'):,} (bad rows, or not sent before the run"
            f" stopped), {funnel.count('duplicate'):,} repeats of a number,"
            f" {funnel.count('opted_out'):,} opted out"
        )
    if funnel.count("rejected", "unknown"):
        lines.append(
            f"sent, not accepted: {funnel.count('rejected'):,} refused by the API,"
            f" {funnel.count('unknown'):,} whose request's outcome is unknown"
        )
    if funnel.confirmed_by_callback:
        lines.append(
            f"accepted rows of requests whose answer was lost, shown sent by a callback:"
            f" {funnel.confirmed_by_callback:,}"
        )
    if funnel.count("pending"):
        lines.append(
            f"pending: {funnel.count('pending'):,}, of which {funnel.pending_at_gateway:,} last"
            " seen at the gateway; `report --refresh` looks up those silent for long"
        )
    if report.by_lookup:
        lines.append(f"statuses from look-ups (not callbacks): {report.by_lookup:,}")
    return lines if len(lines) > 1 else []
