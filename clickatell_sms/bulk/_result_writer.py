"""The per-row results file of a bulk run: CSV or JSON lines, written as the answers arrive."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import IO, Final, Literal

import msgspec

from ..errors import ValidationError
from ._records import BulkResult

__all__ = ["ResultWriter"]

_CSV_COLUMNS: Final = (
    "row",
    "to",
    "number",
    "status",
    "api_message_id",
    "error_code",
    "error",
    "description",
    "client_message_id",
    "duplicate_of",
    "earlier",
)


class ResultWriter:
    """Streams results to a CSV or JSON-lines file (or standard output with '-') as they come."""

    def __init__(self, target: str | Path, fmt: Literal["csv", "jsonl"] | None = None) -> None:
        name = str(target)
        if fmt is None:
            suffix = Path(name).suffix.lower()
            if name == "-" or suffix in (".jsonl", ".ndjson", ".json"):
                fmt = "jsonl"
            elif suffix == ".csv":
                fmt = "csv"
            else:
                raise ValidationError(
                    "output", "must end in .csv or .jsonl (or give the format)", name
                )
        self.format = fmt
        self.path = None if name == "-" else Path(name)
        self._file: IO[str] = (
            sys.stdout if self.path is None else self.path.open("w", encoding="utf-8", newline="")
        )
        self._csv = None
        if fmt == "csv":
            self._csv = csv.writer(self._file)
            self._csv.writerow(_CSV_COLUMNS)
        self._encoder = msgspec.json.Encoder()

    def write(self, result: BulkResult) -> None:
        if self._csv is not None:
            self._csv.writerow(
                [
                    result.row,
                    result.to,
                    result.number or "",
                    result.status,
                    result.api_message_id or "",
                    "" if result.error_code is None else result.error_code,
                    result.error or "",
                    result.description or "",
                    result.client_message_id or "",
                    "" if result.duplicate_of is None else result.duplicate_of,
                    "1" if result.earlier else "",
                ]
            )
        else:
            self._file.write(self._encoder.encode(result).decode() + "\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if self.path is None:
            self._file.flush()
        else:
            self._file.close()
