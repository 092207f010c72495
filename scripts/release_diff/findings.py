"""The one shape every rule reports in, so the bump, the changelog and the renderers share it.

Levels follow oasdiff's: `breaking` (its ERR), `warning` (its WARN: may break some clients, a human
decides), `compatible` (an addition users can start relying on: a minor release), `info` (no effect
on users: at most a patch release).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    """How much a change matters to a user of the previous release."""

    BREAKING = "breaking"
    WARNING = "warning"
    COMPATIBLE = "compatible"
    INFO = "info"


LEVEL_ORDER = {Level.BREAKING: 0, Level.WARNING: 1, Level.COMPATIBLE: 2, Level.INFO: 3}


@dataclass(frozen=True)
class Finding:
    """One classified change.

    `id` is a stable rule name (oasdiff's where one exists, e.g. `response-property-removed`),
    `where` is the human anchor (`POST /messages`, `SendMessageRequest/to`,
    `clickatell_sms.Client.send`), `pointers` are machine locations (JSON pointers into the
    spec with `$ref`s inlined, or file:line for Python).
    """

    id: str
    level: Level
    where: str
    text: str
    pointers: tuple[str, ...] = ()


@dataclass
class Section:
    """The outcome of one kind of diff: its findings plus notes a reviewer must read."""

    title: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None  # why the section could not be evaluated, if it could not

    def count(self, level: Level) -> int:
        """How many findings of `level`, for summary lines."""
        return sum(1 for f in self.findings if f.level is level)


def whole_file_section(
    title: str, kind: str, old_text: str | None, new_text: str | None, path: str
) -> Section | None:
    """The section for `path` when the file's presence alone decides it, else None.

    Absent at both refs, added, removed or unchanged need no comparison of contents; None
    tells the caller to compare. `kind` ("spec", "XSD") names the finding ids and the text.
    """
    section = Section(title)
    if old_text is None and new_text is None:
        section.skipped = f"{path} exists at neither ref"
    elif old_text is None:
        text = f"{path} added (no {kind} at OLD)"
        section.findings.append(Finding(f"{kind.lower()}-added", Level.COMPATIBLE, path, text))
    elif new_text is None:
        text = f"{path} removed at NEW"
        section.findings.append(Finding(f"{kind.lower()}-removed", Level.BREAKING, path, text))
    elif old_text == new_text:
        section.notes.append("unchanged")
    else:
        return None
    return section


def merge_duplicates(findings: list[Finding]) -> list[Finding]:
    """Fold findings that say the same thing at the same place (e.g. JSON and XML bodies).

    The same schema is usually served as application/json and application/xml; listing a removed
    field twice adds noise, so the pointers are kept and the finding is shown once.
    """
    merged: dict[tuple[str, Level, str, str], list[str]] = {}
    for f in findings:
        key = (f.id, f.level, f.where, f.text)
        pointers = merged.setdefault(key, [])
        for p in f.pointers:
            if p not in pointers:
                pointers.append(p)
    return [Finding(k[0], k[1], k[2], k[3], tuple(v)) for k, v in merged.items()]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first; stable otherwise so the report follows the spec's order."""
    return sorted(findings, key=lambda f: LEVEL_ORDER[f.level])
