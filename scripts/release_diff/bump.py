"""From the diffs to a semver suggestion and a Keep-a-Changelog entry.

Rules: anything breaking (spec, XSD, public API, or an OLD facade test that now fails) -> major;
compatible additions or warnings to review -> minor; any other change (docs, internals, generated
code that changes no API) -> patch; identical trees -> none. While the version is 0.x semver lets
a break ship as a minor bump; the suggestion still says `major` so the break cannot be missed, and
the text names both candidate versions.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .findings import Finding, Level, Section

VERSION_RE = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.MULTILINE)
BUMPS = ("none", "patch", "minor", "major")


def parse_version_file(text: str | None) -> str | None:
    """`X.Y.Z` from clickatell_sms/_version.py, the single place the version lives."""
    if text is None:
        return None
    m = VERSION_RE.search(text)
    return m.group(1) if m else None


def _triple(version: str | None) -> tuple[int, int, int] | None:
    if version is None:
        return None
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def apply_bump(version: str | None, bump: str) -> str | None:
    """The next version for `bump` (semver proper, not the 0.x convention)."""
    t = _triple(version)
    if t is None:
        return None
    major, minor, patch = t
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return f"{major}.{minor}.{patch}"


def bump_between(old: str | None, new: str | None) -> str | None:
    """Which bump takes `old` to `new` (None when either is unreadable or NEW went backwards)."""
    o, n = _triple(old), _triple(new)
    if o is None or n is None:
        return None
    if n == o:
        return "none"
    if n < o:
        return None
    if n[0] > o[0]:
        return "major"
    if n[1] > o[1]:
        return "minor"
    return "patch"


@dataclass
class Decision:
    """The suggested bump, why, and what the reviewer should know about the version."""

    bump: str
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    next_version: str | None = None
    red_flags: list[str] = field(default_factory=list)


def decide(
    sections: list[Section],
    anything_changed: bool,
    old_version: str | None,
    new_version: str | None,
    api_section: Section | None = None,
    tests_section: Section | None = None,
) -> Decision:
    """Combine every section's findings into one suggestion."""
    breaking = [(s, f) for s in sections for f in s.findings if f.level is Level.BREAKING]
    warnings = [(s, f) for s in sections for f in s.findings if f.level is Level.WARNING]
    compatible = [(s, f) for s in sections for f in s.findings if f.level is Level.COMPATIBLE]

    def tally(items: list[tuple[Section, Finding]]) -> str:
        per: dict[str, int] = {}
        for s, _ in items:
            per[s.title.split(" (")[0]] = per.get(s.title.split(" (")[0], 0) + 1
        return ", ".join(f"{n} in {t}" for t, n in per.items())

    d = Decision("none")
    if breaking:
        d.bump = "major"
        d.reasons.append(f"{len(breaking)} breaking change(s): {tally(breaking)}")
    elif warnings or compatible:
        d.bump = "minor"
    elif anything_changed:
        d.bump = "patch"
        d.reasons.append("files changed, but nothing a user of the API can observe was found")
    else:
        d.reasons.append("OLD and NEW are the same tree")
    if compatible:
        d.reasons.append(f"{len(compatible)} compatible change(s): {tally(compatible)}")
    if warnings:
        d.reasons.append(f"{len(warnings)} warning(s) to review: {tally(warnings)}")

    facade_clean = (
        api_section is not None
        and api_section.skipped is None
        and api_section.count(Level.BREAKING) == 0
        and tests_section is not None
        and tests_section.skipped is None
        and tests_section.count(Level.BREAKING) == 0
        and not any(f.id == "old-tests-not-run" for f in tests_section.findings)
    )
    if breaking and facade_clean:  # so every break is in the spec or the XSD
        d.notes.append(
            "every break is in the wire contract; the facade's public API and OLD's facade "
            "tests show none. If clickatell_wire is not treated as public, the facade absorbs "
            "it and a minor release is defensible."
        )

    d.next_version = apply_bump(old_version, d.bump)
    t = _triple(old_version)
    if d.bump == "major" and t is not None and t[0] == 0:
        alt = apply_bump(old_version, "minor")
        d.notes.append(
            f"{old_version} is a 0.x version: semver's 0.x convention lets a breaking change ship "
            f"as a minor bump ({old_version} -> {alt}); the suggestion stays `major` "
            f"({old_version} -> {d.next_version}) so the break is a deliberate choice."
        )
    if old_version is None:
        d.notes.append("no readable __version__ at OLD (clickatell_sms/_version.py)")
    actual = bump_between(old_version, new_version)
    if new_version is not None and old_version is not None:
        if actual == "none" and d.bump != "none":
            d.notes.append(
                f"the version is still {new_version} at NEW: set clickatell_sms/_version.py to "
                f"the release's version before tagging"
            )
        elif actual is None:
            d.red_flags.append(
                f"version went from {old_version} to {new_version}: not a semver step"
            )
        elif BUMPS.index(actual) < BUMPS.index(d.bump):
            zero_ok = d.bump == "major" and actual == "minor" and t is not None and t[0] == 0
            message = (
                f"NEW's version {new_version} is a {actual} bump from {old_version}; "
                f"the changes call for {d.bump}"
            )
            if zero_ok:
                d.notes.append(message + " (acceptable under the 0.x convention)")
            else:
                d.red_flags.append(message)
        else:
            d.notes.append(f"NEW's version {new_version} is a {actual} bump from {old_version}")
    return d


CATEGORIES = ("Added", "Changed", "Deprecated", "Removed", "Fixed")


def _category(f: Finding) -> str:
    rule = f.id
    if "deprecated" in rule:
        return "Deprecated"
    if "removed" in rule or rule.startswith("old-test"):
        return "Removed" if "removed" in rule else "Changed"
    if "added" in rule or rule.startswith("new-") or rule == "endpoint-added":
        return "Added"
    return "Changed"


def changelog_entry(
    sections: list[Section], decision: Decision, version: str | None, date: dt.date | None = None
) -> str:
    """A Keep-a-Changelog section to paste under `## [Unreleased]` or as the release's heading."""
    day = (date or dt.datetime.now(dt.UTC).date()).isoformat()
    lines = [f"## [{version or 'X.Y.Z'}] - {day}", ""]
    grouped: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for section in sections:
        area = section.title.split(" (")[0]
        for f in section.findings:
            if f.level is Level.INFO:
                continue
            if f.id == "old-test-failed":
                line = (
                    f"**Breaking:** behaviour change caught by the previous release's test "
                    f"`{f.where}` — describe it for users"
                )
            else:
                mark = "**Breaking:** " if f.level is Level.BREAKING else ""
                where = "" if f.text.startswith("`") or f.where in f.text else f"{f.where}: "
                line = f"{mark}{area} — {where}{f.text}"
            if line not in grouped[_category(f)]:
                grouped[_category(f)].append(line)
    if not any(grouped.values()):
        if decision.bump == "none":
            grouped["Changed"].append("Nothing: OLD and NEW are the same tree.")
        else:
            grouped["Fixed"].append("Internal changes only — describe them for users.")
    for category in CATEGORIES:
        if grouped[category]:
            lines.append(f"### {category}")
            lines += [f"- {item}" for item in grouped[category]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
