"""`scripts/release-diff OLD_REF NEW_REF`: the release review as one report.

Reads both refs from git (never the work tree), runs what must run (griffe, OLD's facade tests,
the regeneration check) in temporary detached worktrees that are always removed, and prints one
report whose last line is `suggested bump: major|minor|patch|none`.

Exit status: 0 whatever the findings (the report is the output), 1 with `--fail-on-breaking` when
the suggestion is major, 2 when release-diff itself could not work (bad ref, git failure, crash).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from .api_diff import diff_api
from .bump import bump_between, changelog_entry, decide, parse_version_file
from .findings import Section
from .generated import summarize
from .gitio import GitError, changed_files, read_text, resolve_commit, toplevel, worktree
from .old_tests import run_old_tests
from .project import VERSION_FILE, spec_paths
from .report import Report, render_markdown, render_text
from .spec_rules import diff_openapi
from .xsd_rules import diff_xsd


def build_report(
    repo: Path,
    old_ref: str,
    new_ref: str,
    *,
    run_tests: bool = True,
    run_regen: bool = True,
    timeout: float = 600.0,
) -> Report:
    """Every diff between two refs of `repo`, combined; raises GitError on a bad ref."""
    repo = toplevel(repo)
    old_sha, new_sha = resolve_commit(repo, old_ref), resolve_commit(repo, new_ref)
    changed = changed_files(repo, old_sha, new_sha)

    (old_spec, old_xsd), (new_spec, new_xsd) = spec_paths(repo, old_sha), spec_paths(repo, new_sha)
    openapi = diff_openapi(
        read_text(repo, old_sha, old_spec), read_text(repo, new_sha, new_spec), new_spec
    )
    xsd = diff_xsd(read_text(repo, old_sha, old_xsd), read_text(repo, new_sha, new_xsd), new_xsd)

    with ExitStack() as stack:
        old_tree = stack.enter_context(worktree(repo, old_sha))
        new_tree = stack.enter_context(worktree(repo, new_sha))
        api = diff_api(old_tree, new_tree)
        if run_tests:
            tests = run_old_tests(repo, old_sha, old_tree, new_tree, timeout)
        else:
            tests = Section(
                "OLD's facade tests against NEW's code", skipped="disabled (--no-tests)"
            )
        generated = summarize(
            repo,
            old_sha,
            new_sha,
            old_tree if run_regen else None,
            new_tree if run_regen else None,
            timeout,
        )

    old_version = parse_version_file(read_text(repo, old_sha, VERSION_FILE))
    new_version = parse_version_file(read_text(repo, new_sha, VERSION_FILE))
    sections = [openapi, xsd, api, tests]
    decision = decide(sections, bool(changed), old_version, new_version, api, tests)
    chosen = bump_between(old_version, new_version)
    version_flagged = any("version" in flag for flag in decision.red_flags)
    bumped = chosen not in (None, "none") and not version_flagged
    release_version = new_version if bumped else decision.next_version
    changelog = changelog_entry(sections, decision, release_version)
    return Report(
        old_ref=old_ref,
        new_ref=new_ref,
        old_sha=old_sha,
        new_sha=new_sha,
        old_version=old_version,
        new_version=new_version,
        changed=changed,
        spec_sections=[openapi, xsd],
        generated=generated,
        api=api,
        tests=tests,
        decision=decision,
        changelog=changelog,
        red_flags=generated.red_flags + decision.red_flags,
    )


def parser() -> argparse.ArgumentParser:
    """The command line, documented in docs/releasing.md."""
    p = argparse.ArgumentParser(
        prog="release-diff",
        description="Review a release as diffs: spec, generated/, facade API; suggest the bump.",
    )
    p.add_argument("old_ref", metavar="OLD_REF", help="the previous release, e.g. v0.1.0")
    p.add_argument("new_ref", metavar="NEW_REF", help="the candidate, e.g. HEAD")
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository (default: cwd)")
    p.add_argument("--no-tests", action="store_true", help="skip running OLD's facade tests")
    p.add_argument("--no-regen", action="store_true", help="skip `python -m codegen --check`")
    p.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per test or codegen run (600)"
    )
    p.add_argument(
        "--fail-on-breaking", action="store_true", help="exit 1 when the suggestion is major"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status instead of exiting, so tests can call it."""
    args = parser().parse_args(argv)
    try:
        report = build_report(
            args.repo,
            args.old_ref,
            args.new_ref,
            run_tests=not args.no_tests,
            run_regen=not args.no_regen,
            timeout=args.timeout,
        )
    except GitError as exc:
        print(f"release-diff: error: {exc}", file=sys.stderr)
        return 2
    render = render_markdown if args.format == "markdown" else render_text
    sys.stdout.write(render(report))
    sys.stdout.flush()
    if args.fail_on_breaking and report.decision.bump == "major":
        return 1
    return 0
