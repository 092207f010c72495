"""`report --csv FILE`: one row per recipient with what became of it, streamed from the journal."""

from __future__ import annotations

import csv
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TextIO

from ..bulk.delivery import DeliveryStore
from .queries import ROWS_SELECT

__all__ = ["CSV_COLUMNS", "write_csv"]

CSV_COLUMNS: Final = (
    "row",
    "to",
    "number",
    "state",
    "api_outcome",
    "api_message_id",
    "client_message_id",
    "error_code",
    "error",
    "description",
    "duplicate_of",
    "status_code",
    "status",
    "status_description",
    "status_via",
    "sent_at",
    "at_gateway_at",
    "final_at",
)


def write_csv(store: DeliveryStore, path: str | Path, *, sync: bool = True) -> int:
    """Write the campaign's rows (input order) to `path` (`-`: standard output); returns how
    many. The file is written beside its final name and renamed when whole."""
    if sync:
        store.sync()
    if str(path) == "-":
        return _write(store, sys.stdout)
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as out:
            count = _write(store, out)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _write(store: DeliveryStore, out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    select = ROWS_SELECT.format(
        messages=store.table("delivery_messages"), statuses=store.table("delivery_status")
    )
    count = 0
    for found in store.stream(f"{select} ORDER BY m.row, m.shard, m.position", (store.scope,)):
        (_, _, row, to, number, outcome, api_id, cmid, code, error, text, dup, state) = found[:13]
        status_code, status, status_text, _, via, sent, gateway, final, _ = found[13:]
        writer.writerow(
            (
                row,
                to,
                number or "",
                state,
                outcome,
                api_id or "",
                cmid or "",
                "" if code is None else code,
                error or "",
                text or "",
                "" if dup is None else dup,
                "" if status_code is None else status_code,
                status or "",
                status_text or "",
                via or "",
                _iso(sent),
                _iso(gateway),
                _iso(final),
            )
        )
        count += 1
    return count


def _iso(moment: float | None) -> str:
    if moment is None:
        return ""
    stamp = datetime.fromtimestamp(float(moment), UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")
