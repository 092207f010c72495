"""What became of a campaign: its funnel, time to delivery and failures, from its journal.

    from clickatell_sms.bulk.delivery import open_delivery
    from clickatell_sms.report import build_report

    with open_delivery("run.sqlite") as journal:
        report = build_report(journal)
    print(report.funnel.count("received"), "of", report.funnel.accepted, "received")

The command is `clickatell-sms report JOURNAL` (or `--campaign ID --journal postgresql://...`).
One job per module: `model` (what a report holds, `to_dict` for JSON), `queries` (the aggregate
queries that fill it), `refresh` (looking up the messages that never called back), `text` (the
terminal), `export` (one CSV row per recipient), `html` and `svg` (the page, its charts drawn on
the server as inline SVG).
"""

from __future__ import annotations

from .model import CampaignReport, Delays, Funnel, Histogram, Reason, Timeline
from .queries import build_report

__all__ = [
    "CampaignReport",
    "Delays",
    "Funnel",
    "Histogram",
    "Reason",
    "Timeline",
    "build_report",
]
