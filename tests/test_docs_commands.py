"""The docs hold to the program: every command they show uses flags the command has, by their
current names, and every example that needs nothing beyond this machine prints what it shows.

Examples are read from README.md and docs/: the `$ ` lines of code blocks, their output (the
lines up to the next `$ ` line), and `clickatell-sms COMMAND ...` anywhere in code. An example
is run when it can only be answered here: no API key in its command, nor exported earlier in its
block (those show a real account's answers), no `$(...)`, no file it would read (a CSV, a
journal), and not a server (`listen`, `sandbox`). With no key and no base URL the CLI answers
from its embedded sandbox, so these outputs are the program's own: standard output and standard
error as written (`2>/dev/null` shows standard output alone). Message IDs (32 hex digits) differ per run and match
any other; a `...` line stands for any number of lines.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clickatell_sms.cli import build_parser

from .conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SCRIPT = Path(sys.executable).with_name("clickatell-sms")
INVOCATION = re.compile(
    r"(?:(?<=[\s/`])|^)(?:clickatell-sms|python3? -m clickatell_sms)\s+([a-z]+(?:-[a-z]+)*)"
)
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
MESSAGE_ID = re.compile(r"\b[0-9a-f]{32}\b")
SERVERS = frozenset({"listen", "sandbox"})
NEEDS_AN_ACCOUNT = re.compile(r"CLICKATELL_API_KEY=|--api-key\b|\.\.\.")


@dataclass
class Example:
    page: str
    line: int
    command: str
    output: list[str] = field(default_factory=list)
    after_exports: str = ""  # what the block exported before it

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: $ {self.command}"


def code_lines(page: Path) -> Iterator[tuple[int, str | None, bool]]:
    """(line number, text, inside a fenced block) of each line of code: fenced lines whole
    (continuations joined), and inline `code` spans elsewhere; text None where a block ends."""
    fenced, pending, start = False, "", 0
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            if not fenced:
                yield number, None, True
            continue
        if not fenced:
            for span in re.findall(r"`([^`]+)`", line):
                yield number, span, False
            continue
        if line.endswith("\\"):
            pending, start = pending + line[:-1] + " ", start or number
            continue
        yield start or number, pending + line, True
        pending, start = "", 0


def examples(page: Path) -> Iterator[Example]:
    """Each `$ ` line of the page's code blocks, with the output shown under it."""
    current: Example | None = None
    exports = ""
    for number, text, fenced in code_lines(page):
        if not fenced:
            continue
        if text is None:  # the block ends, and what it exported with it
            if current is not None:
                yield current
            current, exports = None, ""
            continue
        if text.startswith("$ "):
            if current is not None:
                yield current
            command = text[2:]
            current = Example(str(page.relative_to(ROOT)), number, command, after_exports=exports)
            if command.startswith("export "):
                exports += command + "\n"
        elif current is not None:
            current.output.append(text)
    if current is not None:
        yield current


def _canonical_flags() -> dict[str, tuple[set[str], set[str]]]:
    """Per command: (its flags by their current names, every name it accepts)."""
    parser = build_parser()
    commands: dict[str, argparse.ArgumentParser] = dict(
        parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    )
    found: dict[str, tuple[set[str], set[str]]] = {}
    for name, command in commands.items():
        current, accepted = {"--help", "--version"}, {"--help", "--version"}
        actions = list(command._actions)
        for action in command._actions:  # a command's actions' flags (`opt-outs list --json`)
            if isinstance(action, argparse._SubParsersAction):
                actions += [a for sub in action.choices.values() for a in sub._actions]
        for action in actions:
            longs = [option for option in action.option_strings if option.startswith("--")]
            if longs:
                current.add(longs[0])
                accepted.update(longs)
        found[name] = (current, accepted)
    return found


def documented_invocations() -> Iterator[tuple[str, str, str]]:
    """(where, command, the text after it) for every `clickatell-sms COMMAND` in code."""
    for page in PAGES:
        for number, text, _ in code_lines(page):
            for match in INVOCATION.finditer(text or ""):
                rest = re.split(r"\s#\s|&&|;", text[match.end() :])[0]
                where = f"{page.relative_to(ROOT)}:{number}"
                yield where, match.group(1), rest


def test_documented_commands_use_the_flags_their_help_lists_by_their_current_names() -> None:
    flags = _canonical_flags()
    problems = []
    seen = 0
    for where, command, rest in documented_invocations():
        seen += 1
        if command not in flags:
            problems.append(f"{where}: no command {command!r}")
            continue
        current, accepted = flags[command]
        for flag in FLAG.findall(rest):
            if flag not in accepted:
                problems.append(f"{where}: {command} has no {flag}")
            elif flag not in current:
                problems.append(f"{where}: {command} {flag} is an old name; the help says another")
    assert seen > 30  # the docs' commands were found
    assert problems == [], "\n".join(problems)


def runnable(example: Example) -> bool:
    words = example.command.split()
    invocation = INVOCATION.search(example.command)
    return (
        invocation is not None
        and bool(example.output)
        and not NEEDS_AN_ACCOUNT.search(example.after_exports + example.command)
        and "$(" not in example.command
        and invocation.group(1) not in SERVERS
        and not any(word.endswith((".csv", ".txt", ".json", ".sqlite")) for word in words)
    )


RUNNABLE = [example for page in PAGES for example in examples(page) if runnable(example)]


def test_the_examples_that_run_here_are_the_ones_expected() -> None:
    """The rule picks what it should: a change to it, or to the docs, shows here."""
    picked = {(example.page, example.command) for example in RUNNABLE}
    assert ("docs/cli.md", "clickatell-sms balance") in picked
    assert ("docs/cli.md", 'clickatell-sms estimate --text "Hello €"') in picked
    assert ("docs/usage.md", 'clickatell-sms send --to +27821234567 --text "Hello"') in picked
    real_account = [
        command
        for _, command in picked
        if command.endswith("status 5eaefd67a0dc4f3981591e742f8ff7de")
    ]
    assert real_account == []  # shown with a real account's answer: not run here
    assert len(RUNNABLE) >= 8


def _environment(assignments: list[str]) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    environ["PYTHONUNBUFFERED"] = "1"  # stdout and stderr in the order they were written
    environ.update(item.split("=", 1) for item in assignments)
    return environ


def run_example(example: Example) -> list[str]:
    """The example as a user runs it: its variables, the installed script, both streams."""
    words = shlex.split(example.command, comments=True)
    assignments = []
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        assignments.append(words.pop(0))
    assert words[0] == "clickatell-sms", example
    quiet = "2>/dev/null" in words  # the docs show standard output alone
    done = subprocess.run(
        [str(SCRIPT), *(word for word in words[1:] if word != "2>/dev/null")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else subprocess.STDOUT,
        text=True,
        env=_environment(assignments),
        timeout=60,
    )
    return done.stdout.splitlines()


def same_output(shown: list[str], printed: list[str]) -> bool:
    """Line by line, any message ID for any other, `...` for any number of lines."""
    pattern = ""
    for line in (text.rstrip() for text in shown):
        if line == "...":
            pattern += r"(?:[^\n]*\n)*?"
            continue
        pieces = [re.escape(piece) for piece in MESSAGE_ID.split(line)]
        pattern += "[0-9a-f]{32}".join(pieces) + "\n"
    text = "".join(line.rstrip() + "\n" for line in printed)
    return re.fullmatch(pattern, text) is not None


@pytest.mark.parametrize("example", RUNNABLE, ids=str)
def test_a_documented_example_prints_what_the_docs_show(example: Example) -> None:
    printed = run_example(example)
    assert same_output(example.output, printed), (
        f"{example}\nthe docs show:\n"
        + "\n".join(example.output)
        + "\nit prints:\n"
        + "\n".join(printed)
    )


def test_the_output_comparison_holds_ids_and_gaps_loosely_and_the_rest_exactly() -> None:
    shown = ["0  27821234567  accepted  5eaefd67a0dc4f3981591e742f8ff7de", "...", "done"]
    assert same_output(shown, ["0  27821234567  accepted  " + "ab" * 16, "x", "y", "done"])
    assert same_output(shown, ["0  27821234567  accepted  " + "0" * 32, "done"])
    assert not same_output(shown, ["0  27821234567  rejected  " + "0" * 32, "done"])
    assert not same_output(["100.0 ZAR"], ["1000000.0 ZAR"])


def test_docs_state_the_sandbox_s_default_balance_as_the_sandbox_has_it() -> None:
    from clickatell_sms.sandbox.billing import DEFAULT_BALANCE, DEFAULT_PRICE_PER_PART

    balance, price = f"{DEFAULT_BALANCE:,}", f"{DEFAULT_PRICE_PER_PART}"
    parts = f"{int(DEFAULT_BALANCE / DEFAULT_PRICE_PER_PART) // 1_000_000} million parts"
    for page in ("docs/bulk.md", "docs/sandbox.md"):
        text = " ".join((ROOT / page).read_text(encoding="utf-8").split())
        assert f"{balance} " in text and f"{price} per part" in text, page
        assert f"{parts}" in text, page
        assert "about 1,000 messages" not in text


def test_the_readme_says_how_to_run_the_scale_out_tests_by_the_variables_they_read() -> None:
    """The README tells a user without root on Debian to set the variables the scale-out tests
    read: the names must be the ones the tests and scripts/services use, and the test command stops
    when it cannot start them instead of skipping their tests."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    tests = (ROOT / "tests" / "test_bulk_scale.py").read_text(encoding="utf-8")
    services = (ROOT / "scripts" / "services").read_text(encoding="utf-8")
    for name in ("CLICKATELL_TEST_REDIS_URL", "CLICKATELL_TEST_POSTGRES_URL"):
        assert f'os.environ.get("{name}")' in tests and f"export {name}=" in services
        assert f"`{name}`" in readme
    chromium = (ROOT / "scripts" / "chromium").read_text(encoding="utf-8")
    assert "export CLICKATELL_TEST_CHROMIUM=" in chromium and "`CLICKATELL_TEST_CHROMIUM`" in readme
    assert "only as root on Debian or Ubuntu" in readme and "stops before the tests" in readme
    # scripts/test starts them in the background and checks how that ended before it evals
    # their output, so their failure stops the run
    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    started = 'scripts/services start >"$background/services"'
    checked = '[ "$status" = 0 ] || {'
    used = 'eval "$(cat "$background/services")"\n'
    assert started in script and checked in script and used in script
    assert script.index(started) < script.index(checked) < script.index(used)
    assert 'wait "$system_pid" || status=$?' in script.split(checked)[0]
