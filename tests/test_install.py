"""The README's install, as a new user runs it, gives a package that `mypy --strict` can see.

setuptools' default editable install maps the two source folders (`clickatell_sms/` and
`generated/clickatell_wire/`) with an import hook that only a running interpreter executes, so
mypy would report "Cannot find implementation or library stub". pyproject.toml asks for the
strict editable mode, which puts one plain folder on sys.path. These tests run the README's
first command in a copy of the project (the checkout itself is never touched) and type-check a
small user script against the venv it made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

USER_SCRIPT = textwrap.dedent(
    """\
    from datetime import timedelta
    from clickatell_sms import Client, SendResult


    def notify(client: Client, numbers: list[str]) -> SendResult:
        return client.send(numbers, "Your code is 1234", validity_period={validity})


    with Client("key", base_url="http://127.0.0.1:9") as client:
        print(notify(client, ["+27821234567"]).all_accepted)
    """
)


def readme_first_command() -> str:
    """The command the README gives first: make a venv, install, send through the sandbox."""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("python3 -m venv"):
            return line
    raise AssertionError("README.md has no line starting with 'python3 -m venv'")


def copy_of_the_project(dest: Path, *more: str) -> Path:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info", ".venv")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    for folder in ("clickatell_sms", "generated", *more):
        shutil.copytree(ROOT / folder, dest / folder, ignore=skip)
    return dest


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`command` in bash, as a user without any CLICKATELL_* setting would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def mypy_strict(script: Path, python: Path) -> subprocess.CompletedProcess[str]:
    """mypy from the test toolchain, resolving imports in the user's venv, with no config file
    of ours (the user's project has none of our settings)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-executable",
            str(python),
            "--cache-dir",
            str(script.parent / ".mypy_cache"),
            "--config-file",
            "",
            str(script),
        ],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_readme_install_type_checks_and_catches_a_wrong_argument(tmp_path: Path) -> None:
    clone = copy_of_the_project(tmp_path / "clickatell-sms")
    installed = shell(readme_first_command(), clone)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "2 accepted, 0 rejected" in installed.stdout
    assert "sandbox: nothing was really sent" in installed.stderr

    app = tmp_path / "app"
    app.mkdir()
    script = app / "notify.py"
    python = clone / ".venv" / "bin" / "python"

    script.write_text(USER_SCRIPT.format(validity="timedelta(hours=6)"))
    assert len(script.read_text().splitlines()) == 10
    good = mypy_strict(script, python)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Success: no issues found in 1 source file" in good.stdout

    script.write_text(USER_SCRIPT.format(validity='"6 hours"'))
    bad = mypy_strict(script, python)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert (
        'notify.py:6: error: Argument "validity_period" to "send" of "Client" has incompatible'
        ' type "str"; expected "timedelta | int"  [arg-type]'
    ) in bad.stdout
    assert "import-not-found" not in bad.stdout


WHEEL_BUILD = "python3 -m pip wheel --no-deps -w dist ."
WHEEL_INSTALL = "/path/to/your/venv/bin/pip install dist/clickatell_sms-*.whl"


def test_the_wheel_install_of_the_docs_works_in_another_venv(tmp_path: Path) -> None:
    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    assert WHEEL_BUILD in usage and WHEEL_INSTALL in usage  # the steps tested are the steps shown
    # with the folders a clone has beside the packages, which the wheel must leave out
    clone = copy_of_the_project(tmp_path / "clickatell-sms", "codegen", "tests", "spec")
    venv = tmp_path / "elsewhere"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = WHEEL_INSTALL.replace("/path/to/your/venv", str(venv))
    done = shell(f"{WHEEL_BUILD} && {install}", clone)
    assert done.returncode == 0, done.stdout + done.stderr
    sent = shell(f"{venv}/bin/clickatell-sms send --to +27821234567 --text hi", tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert "1 accepted, 0 rejected" in sent.stdout
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import clickatell_sms; print(clickatell_sms.__file__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout  # the wheel's copy, not the clone
    (wheel,) = (clone / "dist").glob("clickatell_sms-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert not any(n.startswith(("codegen/", "tests/", "spec/")) for n in names), names
    assert "clickatell_wire/py.typed" in names and "clickatell_sms/py.typed" in names
    assert "clickatell_wire/MANIFEST.json" in names
    probe = "import clickatell_wire, clickatell_wire.xml.codec; print(clickatell_wire.__file__)"
    wire = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert wire.returncode == 0 and str(venv) in wire.stdout, wire.stderr
