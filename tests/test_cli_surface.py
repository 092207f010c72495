"""The command line's surface is the one recorded in tests/data/cli_surface.json: every command's
options (flags, metavars, choices, values, defaults), and the exit status of each recorded
usage error, whether argparse finds it or a command's check step does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms.cli import build_parser, main

from .cli_surface import RECORD, exit_status, prepare, surface

RECORDED: dict[str, Any] = json.loads(RECORD.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _no_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded errors are the ones of a machine with no CLICKATELL_* settings."""
    import os

    for name in [name for name in os.environ if name.startswith("CLICKATELL_")]:
        monkeypatch.delenv(name)


def test_every_command_has_the_recorded_options() -> None:
    found = surface(build_parser())
    assert sorted(found) == sorted(RECORDED["options"]), "commands added or gone"
    for path, described in RECORDED["options"].items():
        assert found[path] == described, f"the options of `clickatell-sms {path}` changed"


@pytest.mark.parametrize(
    "case", RECORDED["parse_errors"], ids=lambda case: " ".join(case["argv"]) or "(nothing)"
)
def test_argparse_answers_with_the_recorded_status(case: dict[str, Any]) -> None:
    status, _, _ = exit_status(main, case["argv"])
    assert status == case["status"]


@pytest.mark.parametrize("case", RECORDED["check_errors"], ids=lambda case: " ".join(case["argv"]))
def test_checked_usage_errors_have_the_recorded_status(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    prepare(tmp_path)
    argv = [word.replace("{tmp}", str(tmp_path)) for word in case["argv"]]
    status, out, err = exit_status(main, argv)
    assert status == case["status"], err
    assert (case["mentions"] in err) == case["mentioned"], err
    documented = json.loads(out.strip().splitlines()[-1])["exitStatus"] if case["json"] else None
    assert documented == case["json"], out
