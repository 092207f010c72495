"""Rendering: one report, as plain text for a terminal or Markdown for a pull request.

Both renderings carry the same facts in the same order (spec, generated/, facade, bump), and both
end with the machine-readable line `suggested bump: major|minor|patch|none`, so scripts can take
the last line whatever the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bump import Decision
from .findings import Finding, Level, Section, sort_findings
from .generated import GeneratedReport
from .gitio import ChangedFile


@dataclass
class Report:
    """Everything release-diff found between two refs."""

    old_ref: str
    new_ref: str
    old_sha: str
    new_sha: str
    old_version: str | None
    new_version: str | None
    changed: list[ChangedFile]
    spec_sections: list[Section]
    generated: GeneratedReport
    api: Section
    tests: Section
    decision: Decision
    changelog: str
    red_flags: list[str] = field(default_factory=list)


def _counts(section: Section) -> str:
    """The section's headline: its tally, or (with no findings) its first note."""
    if section.skipped:
        return f"skipped: {section.skipped}"
    if not section.findings:
        return section.notes[0] if section.notes else "no changes found"
    parts = [f"{section.count(level)} {level.value}" for level in Level if section.count(level)]
    return ", ".join(parts)


def _areas(changed: list[ChangedFile]) -> str:
    per: dict[str, int] = {}
    for f in changed:
        top = f.path.split("/", 1)[0] if "/" in f.path else "(root)"
        per[top] = per.get(top, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(per.items()))


def _body_notes(section: Section) -> list[str]:
    """The notes not already shown as the headline by `_counts`."""
    if not section.findings and not section.skipped:
        return section.notes[1:]
    return section.notes


def _line(f: Finding) -> str:
    """`where: text`, without repeating `where` when the text already names it."""
    if f.text.startswith("`") or f.where in f.text:
        return f.text
    return f"{f.where}: {f.text}"


def _pm(f: ChangedFile) -> str:
    if f.added is None or f.deleted is None:
        return "binary"
    return f"+{f.added} -{f.deleted}"


def _file_name(f: ChangedFile) -> str:
    return f"{f.old_path} -> {f.path}" if f.old_path else f.path


def _version_line(r: Report) -> str:
    return f"version: {r.old_version or '?'} (OLD) -> {r.new_version or '?'} (NEW)"


# --------------------------------------------------------------------------------------- text


def _text_findings(section: Section, indent: str = "  ") -> list[str]:
    out: list[str] = []
    for f in sort_findings(section.findings):
        tag = f.level.value.upper() if f.level is Level.BREAKING else f.level.value
        out.append(f"{indent}[{tag}] {_line(f)}")
        detail = f"{indent}    {f.id}"
        if f.pointers:
            more = f" (+{len(f.pointers) - 1} more)" if len(f.pointers) > 1 else ""
            detail += f" at {f.pointers[0]}{more}"
        out.append(detail)
    for note in _body_notes(section):
        first, *rest = note.splitlines()
        out.append(f"{indent}note: {first}")
        out += [f"{indent}      {line}" for line in rest]
    return out


def render_text(r: Report) -> str:
    """The terminal report."""
    out = [
        f"release-diff {r.old_ref}..{r.new_ref} ({r.old_sha[:10]}..{r.new_sha[:10]})",
        _version_line(r),
        f"changed files: {len(r.changed)}" + (f" ({_areas(r.changed)})" if r.changed else ""),
        "",
    ]
    if r.red_flags:
        out.append("RED FLAGS")
        out += [f"  ! {flag}" for flag in r.red_flags]
        out.append("")
    out.append("1. Spec diff")
    for i, section in enumerate(r.spec_sections):
        out.append(f"1{'abcdef'[i]}. {section.title}: {_counts(section)}")
        out += _text_findings(section)
    out.append("")
    g = r.generated
    out.append(f"2. generated/ diff: {len(g.files)} file(s) changed")
    for check in g.checks:
        first = check.detail.splitlines()[0] if check.detail else ""
        out.append(
            f"  regeneration {check.side}: {check.status}" + (f" — {first}" if first else "")
        )
        out += [f"      {line}" for line in check.detail.splitlines()[1:]]
    if g.causes:
        out.append(f"  generator inputs changed: {', '.join(g.causes)}")
    for f, why in g.files:
        out.append(f"  {f.status} {_file_name(f)}  {_pm(f)}  {why}")
    out.append("")
    out.append(f"3a. {r.api.title}: {_counts(r.api)}")
    out += _text_findings(r.api)
    out.append(f"3b. {r.tests.title}: {_counts(r.tests)}")
    out += _text_findings(r.tests)
    out.append("")
    d = r.decision
    out.append(
        f"4. Suggested bump: {d.bump}"
        + (f" (next version {d.next_version})" if d.next_version and d.bump != "none" else "")
    )
    out += [f"  - {reason}" for reason in d.reasons]
    out += [f"  note: {note}" for note in d.notes]
    out.append("")
    out.append("CHANGELOG entry (paste into CHANGELOG.md):")
    out.append("")
    out += [f"    {line}".rstrip() for line in r.changelog.splitlines()]
    out.append("")
    out.append(f"suggested bump: {d.bump}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_findings(section: Section) -> list[str]:
    out: list[str] = []
    if section.findings:
        out += ["| level | change | rule |", "| --- | --- | --- |"]
        for f in sort_findings(section.findings):
            level = f"**{f.level.value}**" if f.level is Level.BREAKING else f.level.value
            where = ""
            if f.pointers:
                more = f" (+{len(f.pointers) - 1})" if len(f.pointers) > 1 else ""
                where = f"<br><sub>`{_md(f.pointers[0])}`{more}</sub>"
            out.append(f"| {level} | {_md(_line(f))}{where} | `{f.id}` |")
        out.append("")
    notes = _body_notes(section)
    for note in notes:
        first, *rest = note.splitlines()
        out.append(f"- {_md(first)}")
        if rest:
            out += ["", "  ```", *[f"  {line}" for line in rest], "  ```"]
    if notes:
        out.append("")
    return out


def render_markdown(r: Report) -> str:
    """The pull-request report."""
    d = r.decision
    out = [
        f"# Release diff `{r.old_ref}`..`{r.new_ref}`",
        "",
        f"**Suggested bump: {d.bump}**"
        + (f" (next version `{d.next_version}`)" if d.next_version and d.bump != "none" else "")
        + f" · {_version_line(r)} · {len(r.changed)} file(s) changed"
        + (f" ({_areas(r.changed)})" if r.changed else ""),
        "",
        f"Commits `{r.old_sha[:10]}`..`{r.new_sha[:10]}`.",
        "",
    ]
    if r.red_flags:
        out.append("> **Red flags**")
        out += [f"> - {_md(flag)}" for flag in r.red_flags]
        out.append("")
    out += ["## 1. Spec diff", ""]
    for section in r.spec_sections:
        out += [f"### {section.title} — {_counts(section)}", ""]
        out += _md_findings(section)
    g = r.generated
    out += ["## 2. `generated/` diff", ""]
    for check in g.checks:
        first = check.detail.splitlines()[0] if check.detail else ""
        out.append(f"- regeneration {check.side}: **{check.status}** — {_md(first)}")
    if g.causes:
        out.append(f"- generator inputs changed: {_md(', '.join(g.causes))}")
    out.append("")
    if g.files:
        out += ["| file | status | lines | explanation |", "| --- | --- | --- | --- |"]
        for f, why in g.files:
            shown = f"**{why}**" if why == "UNEXPLAINED" else _md(why)
            out.append(f"| `{_md(_file_name(f))}` | {f.status} | {_pm(f)} | {shown} |")
        out.append("")
    else:
        out += ["No file under `generated/` changed.", ""]
    out += ["## 3. Facade public API", "", f"### {r.api.title} — {_counts(r.api)}", ""]
    out += _md_findings(r.api)
    out += [f"### {r.tests.title} — {_counts(r.tests)}", ""]
    out += _md_findings(r.tests)
    out += ["## 4. Suggested bump", "", f"**{d.bump}**", ""]
    out += [f"- {_md(reason)}" for reason in d.reasons]
    out += [f"- note: {_md(note)}" for note in d.notes]
    out += ["", "CHANGELOG entry to paste into `CHANGELOG.md`:", "", "```markdown"]
    out += r.changelog.rstrip("\n").splitlines()
    out += ["```", "", f"suggested bump: {d.bump}"]
    return "\n".join(out) + "\n"
