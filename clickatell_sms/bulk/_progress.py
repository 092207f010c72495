"""Progress of a bulk run on standard error: a tqdm bar on a terminal, or a plain line now and
then, and a way to print other lines without tearing the bar."""

from __future__ import annotations

import importlib
import sys
import time
from typing import IO, Any, Protocol

from ._records import BulkSummary

__all__ = ["Progress", "ProgressSink"]


class ProgressSink(Protocol):
    """What the bulk engine tells about its progress (`Progress` shows it on standard error)."""

    def update(self, count: int, summary: BulkSummary) -> None:
        """`count` more rows were settled; `summary` is the run's counts so far."""
        ...

    def finish(self, summary: BulkSummary) -> None:
        """The run ended (or stopped) with these counts."""
        ...


class Progress:
    """Progress on standard error: a tqdm bar when tqdm is installed (extra `progress`) and
    standard error is a terminal, else a plain line every `every` seconds."""

    def __init__(self, total: int | None, *, bar: bool | None = None, every: float = 10.0) -> None:
        self._bar: Any = None
        self._every = every
        self._last = time.monotonic()
        self._done = 0
        self._total = total
        self._file: IO[str] = sys.stderr  # the bar's stream, which `write` must clear
        use_bar = sys.stderr.isatty() if bar is None else bar
        if use_bar:
            try:  # an optional extra, untyped: imported by name so type checkers see Any
                tqdm = importlib.import_module("tqdm").tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(
                    total=total, unit="msg", unit_scale=True, file=self._file, smoothing=0.05
                )

    def update(self, count: int, summary: BulkSummary) -> None:
        self._done += count
        if self._bar is not None:
            self._bar.update(count)
            now = time.monotonic()
            if now - self._last >= 0.5:
                self._last = now
                self._show_counts(summary)
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            of = f"/{self._total}" if self._total else ""
            self.write(
                f"bulk: {self._done}{of} rows: {summary.accepted} accepted, {summary.rejected}"
                f" rejected, {summary.failed} failed, {summary.unknown} unknown"
            )

    def finish(self, summary: BulkSummary) -> None:
        """Show the final counts, so the bar's last word agrees with the summary (between
        updates its counts are refreshed only twice a second)."""
        if self._bar is not None:
            self._show_counts(summary)
            self._bar.refresh()

    def _show_counts(self, summary: BulkSummary) -> None:
        self._bar.set_postfix(
            ok=summary.accepted,
            rej=summary.rejected,
            fail=summary.failed,
            unk=summary.unknown,
            refresh=False,
        )

    def write(self, line: str) -> None:
        """Print a line on standard error. A line printed past an active bar would be glued to
        it and redrawn over; tqdm's own `write` clears the bar, prints, and draws it again."""
        if self._bar is not None:
            self._bar.write(line, file=self._file)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
