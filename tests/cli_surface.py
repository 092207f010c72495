"""The command line's surface, as data: every command's options (flags, metavars, choices, how
many values, required, default) and the exit status of representative usage errors.

`tests/data/cli_surface.json` holds the surface as it was before the commands were rebuilt
around one shape; `test_cli_surface.py` holds the command line to it. Help wording may change;
the options and exit statuses may not. To record it again (only when a flag is added or
changed on purpose): `python -m tests.cli_surface > tests/data/cli_surface.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

RECORD = Path(__file__).parent / "data" / "cli_surface.json"

Main = Callable[[Sequence[str]], int]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _metavar(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The value's placeholder as `--help` shows it (metavar, `{a,b}` for choices, nargs)."""
    if action.nargs == 0:
        return ""
    formatter = parser._get_formatter()
    default = action.dest.upper() if action.option_strings else action.dest
    return formatter._format_args(action, default)


def _option(parser: argparse.ArgumentParser, action: argparse.Action) -> dict[str, Any]:
    return {
        "flags": list(action.option_strings),
        "metavar": _metavar(parser, action),
        "choices": None if action.choices is None else sorted(map(str, action.choices)),
        "nargs": action.nargs if isinstance(action.nargs, int | str | None) else repr(action.nargs),
        "required": bool(action.required),
        "default": repr(action.default),
    }


def parser_surface(
    parser: argparse.ArgumentParser, path: str = ""
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(command path, its options and mutually exclusive sets), this command and every one
    under it, depth first."""
    options = [
        _option(parser, action)
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
    ]
    exclusive = sorted(
        sorted(action.option_strings[0] for action in group._group_actions)
        for group in parser._mutually_exclusive_groups
    )
    key = lambda option: (option["flags"][:1] or [option["metavar"]])[0]  # noqa: E731
    yield path, {"options": sorted(options, key=key), "exclusive": exclusive}
    for name, command in _commands(parser).items():
        yield from parser_surface(command, f"{path} {name}".strip())


def surface(
    root: argparse.ArgumentParser, replaced: dict[str, argparse.ArgumentParser] | None = None
) -> dict[str, dict[str, Any]]:
    """Every command's options. `replaced` stands in for a command whose parser is not the
    one registered under the root (main's `sandbox` before it had one home)."""
    found: dict[str, dict[str, Any]] = {}
    for path, described in parser_surface(root):
        top = path.split(" ")[0]
        if replaced and top in replaced:
            continue
        found[path] = described
    for name, parser in (replaced or {}).items():
        for path, described in parser_surface(parser, name):
            found[path] = described
    return found


# -- exit statuses ----------------------------------------------------------------------------

# Usage errors found after parsing: by the check step of a command (its own rules and the
# library's, worded as flags). `{tmp}` is a folder the case may write in; `people.csv` in it
# has a header and one row. Each case names the flag its error must mention.
CHECKED_CASES: tuple[tuple[list[str], str], ...] = (
    (["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--concurrency", "0"], "--concurrency"),
    (["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--stop-after", "0"], "--stop-after"),
    (["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--rate-limit", "0"], "--rate-limit"),
    (["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--delimiter", "ab"], "--delimiter"),
    (["bulk", "--csv", "{tmp}/people.csv", "--template", "{"], ""),
    (["bulk", "--csv", "{tmp}/people.csv"], "--text"),
    (["bulk", "--text", "hi"], "--csv"),
    (["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--resend-unknown"], "--resume"),
    (
        ["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--new-campaign", "--resume", "j"],
        "--new-campaign",
    ),
    (
        ["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--journal", "a", "--resume", "b"],
        "--resume",
    ),
    (
        ["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--price-per-part", "1"],
        "--price-per-part",
    ),
    (
        ["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--dry-run", "--output", "o.csv"],
        "--output",
    ),
    (
        ["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--celery", "redis://127.0.0.1:1/0"],
        "--journal",
    ),
    (
        [
            "bulk",
            "--csv",
            "{tmp}/people.csv",
            "--text",
            "hi",
            "--journal",
            "postgresql://u@127.0.0.1:1/db",
        ],
        "--celery",
    ),
    (
        [
            "bulk",
            "--csv",
            "{tmp}/people.csv",
            "--text",
            "hi",
            "--journal",
            "postgresql://u@127.0.0.1:1/db",
            "--celery",
            "redis://127.0.0.1:1/0",
            "--api-key",
            "k",
        ],
        "--api-key",
    ),
    (
        [
            "bulk",
            "--csv",
            "{tmp}/people.csv",
            "--text",
            "hi",
            "--journal",
            "postgresql://u@127.0.0.1:1/db",
            "--celery",
            "redis://127.0.0.1:1/0",
            "--output",
            "o.txt",
        ],
        "--output",
    ),
    (["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--output", "o.txt"], "--output"),
    (["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--journal", "{tmp}/no/j"], "--journal"),
    (
        ["bulk", "--csv", "{tmp}/people.csv", "--text", "hi", "--json", "--concurrency", "0"],
        "--concurrency",
    ),
    (["send", "--to", "+27821234567", "--text", ""], "--text"),
    (
        ["send", "--to", "+27821234567", "--text", "hi", "--validity-period", "0"],
        "--validity-period",
    ),
    (
        ["send", "--to", "+27821234567", "--text", "hi", "--json", "--validity-period", "0"],
        "--validity-period",
    ),
    (["estimate", "--text", ""], "--text"),
    (["listen", "--port", "0", "--allow", "not-a-network"], "--allow"),
    (["listen", "--port", "0", "--head-timeout", "0"], "--head-timeout"),
    (["listen", "--port", "70000"], "70000"),
    (["report", "{tmp}/missing.journal"], ""),
    (["opt-outs", "add", "not-a-number", "--opt-outs", "{tmp}/o.sqlite"], ""),
    (["send", "--json"], "--to"),
    (["balance", "--json", "--timeout", "soon"], "--timeout"),
    (["conformance", "--json"], "--json"),
    (["sandbox", "--rules", "--observed", "{tmp}/missing.json"], "missing.json"),
    (["sandbox", "--fault-rate-429", "0.6", "--fault-rate-500", "0.6"], ""),
    (["sandbox", "--sqlite", "{tmp}/no/such/folder.sqlite"], "--sqlite"),
    (["sandbox", "--host", "203.0.113.1", "--port", "0"], "203.0.113.1"),
)


def parse_cases(
    root: argparse.ArgumentParser, surface: dict[str, dict[str, Any]]
) -> list[list[str]]:
    """Command lines argparse itself refuses (or answers, for `--help`): for every command,
    `--help`, an unknown option, and a bad value for each option with choices or a type."""
    cases: list[list[str]] = [[], ["no-such-command"], ["--version"], ["--help"], ["-v"]]
    typed = {
        path: {
            tuple(action.option_strings)
            for action in _actions_at(root, path)
            if action.option_strings and action.type not in (None, str) and action.nargs != 0
        }
        for path in surface
    }
    for path, described in surface.items():
        words = path.split(" ") if path else []
        cases += [[*words, "--help"], [*words, "--no-such-option"]]
        if path:
            cases.append(["-v", *words, "--help"])
        for option in described["options"]:
            flags = option["flags"]
            if not flags or option["nargs"] == 0:
                continue
            if option["choices"] is not None or tuple(flags) in typed[path]:
                count = option["nargs"] if isinstance(option["nargs"], int) else 1
                cases.append([*words, flags[0], *["not-a-good-value%"] * count])
    return cases


def _actions_at(root: argparse.ArgumentParser, path: str) -> list[argparse.Action]:
    parser = root
    for word in path.split(" ") if path else []:
        parser = _commands(parser)[word]
    return list(parser._actions)


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def exit_status(main: Main, argv: Sequence[str]) -> tuple[int, str, str]:
    """What `main(argv)` returns (or exits with), and its stdout and stderr."""
    with _captured() as (out, err):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # main's own contract is to return it; note if it does not
            status = exc.code if isinstance(exc.code, int) else -1
    return status, out.getvalue(), err.getvalue()


def prepare(tmp: Path) -> None:
    (tmp / "people.csv").write_text("to,name\n+27821234567,Ann\n", encoding="utf-8")


def checked_statuses(main: Main, tmp: Path) -> list[dict[str, Any]]:
    prepare(tmp)
    found = []
    for argv, mentions in CHECKED_CASES:
        real = [word.replace("{tmp}", str(tmp)) for word in argv]
        status, out, err = exit_status(main, real)
        found.append(
            {
                "argv": argv,
                "mentions": mentions,
                "mentioned": mentions in err,
                "status": status,
                "json": _json(out),
            }
        )
    return found


def _json(out: str) -> int | None:
    """The exit status a `--json` failure document on stdout states, if there is one."""
    lines = out.strip().splitlines()
    if not lines:
        return None
    try:
        document = json.loads(lines[-1])
    except ValueError:
        return None
    return document.get("exitStatus") if isinstance(document, dict) else None


def record() -> dict[str, Any]:  # pragma: no cover - run by hand, against the command line of main
    import tempfile

    from clickatell_sms.cli import build_parser, main

    root = build_parser()
    replaced: dict[str, argparse.ArgumentParser] = {}
    with contextlib.suppress(ImportError):  # main's layout: `sandbox` parsed by sandbox.cli
        from clickatell_sms.sandbox.cli import build_parser as sandbox_parser

        replaced["sandbox"] = sandbox_parser()
    options = surface(root, replaced)
    parse_roots = {**_commands(root), **replaced}
    walker = _Root(parse_roots)
    cases = [argv for argv in parse_cases(walker, options) if _refused_by_argparse(walker, argv)]
    with tempfile.TemporaryDirectory() as folder:
        parsed = [{"argv": argv, "status": exit_status(main, argv)[0]} for argv in cases]
        checked = checked_statuses(main, Path(folder))
    return {"options": options, "parse_errors": parsed, "check_errors": checked}


def _refused_by_argparse(walker: argparse.ArgumentParser, argv: list[str]) -> bool:
    """Whether argparse ends the command line itself (an error, or `--help`), so recording it
    runs no command."""
    words = argv[1:] if argv[:1] == ["-v"] else argv
    if not words or words[0].startswith("-") or words[0] == "no-such-command":
        return True
    with _captured():
        try:
            walker.parse_args(words)
        except SystemExit:
            return True
    return False


class _Root(argparse.ArgumentParser):
    """A root parser over the given commands, for `parse_cases` to walk."""

    def __init__(self, commands: dict[str, argparse.ArgumentParser]) -> None:
        super().__init__(add_help=False)
        sub = self.add_subparsers()
        sub.choices.update(commands)


if __name__ == "__main__":  # pragma: no cover
    json.dump(record(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
