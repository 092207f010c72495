"""The per-row results file of a bulk run: CSV or JSON lines, written as the answers arrive."""

from __future__ import annotations

import contextlib
import csv
import sys
from pathlib import Path
from typing import IO, Final, Literal

import msgspec

from ..errors import ValidationError
from ._records import BulkResult
from .journal import BulkStorageError

__all__ = ["ResultWriter", "ResultsWriteError", "results_format"]

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


def results_format(
    target: str | Path, fmt: Literal["csv", "jsonl"] | None = None
) -> Literal["csv", "jsonl"]:
    """The format a results file will be written in, checked with its folder before anything
    of a run is created: a bad `output` must not leave a journal behind. `ValidationError`
    names the problem."""
    name = str(target)
    if fmt is not None:
        if fmt not in ("csv", "jsonl"):
            raise ValidationError("output_format", "must be 'csv' or 'jsonl'", fmt)
    else:
        suffix = Path(name).suffix.lower()
        if name == "-" or suffix in (".jsonl", ".ndjson", ".json"):
            fmt = "jsonl"
        elif suffix == ".csv":
            fmt = "csv"
        else:
            raise ValidationError("output", "must end in .csv or .jsonl (or give the format)", name)
    if name != "-":
        folder = Path(name).parent
        if Path(name).is_dir():
            raise ValidationError("output", "is a folder, not a file", name)
        if not folder.is_dir():
            raise ValidationError("output", f"its folder {folder} does not exist", name)
    return fmt


class ResultsWriteError(BulkStorageError):
    """The results file could not be written (disk full, file size limit): the run stops
    sending, since what it sends could no longer be reported."""

    def __init__(self, target: str, cause: BaseException) -> None:
        self.target = target
        super().__init__(f"the results file {target} could not be written: {cause}")


class ResultWriter:
    """Streams results to a CSV or JSON-lines file (or standard output with '-') as they come."""

    def __init__(self, target: str | Path, fmt: Literal["csv", "jsonl"] | None = None) -> None:
        name = str(target)
        self._name = "standard output" if name == "-" else name
        fmt = results_format(target, fmt)
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
        """Write one row; `ResultsWriteError` if the file cannot take it."""
        try:
            self._write(result)
        except OSError as exc:
            raise ResultsWriteError(self._name, exc) from exc

    def _write(self, result: BulkResult) -> None:
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
        try:
            self._file.flush()
        except OSError as exc:
            raise ResultsWriteError(self._name, exc) from exc

    def close(self) -> None:
        """Flush and close; `ResultsWriteError` if the last rows could not be written (the
        file is closed all the same)."""
        try:
            if self.path is None:
                self._file.flush()
            else:
                self._file.close()
        except OSError as exc:
            raise ResultsWriteError(self._name, exc) from exc

    def abandon(self) -> None:
        """Close after a failed write, without raising again: what is buffered is lost."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                self._file.close()
