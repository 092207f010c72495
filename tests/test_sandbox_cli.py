"""`clickatell-sms sandbox` as a user runs it: a separate process, stopped by a signal."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from clickatell_sms.sandbox.cli import build_parser, main


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "clickatell_sms.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("Clickatell sandbox listening on "), (first, process.stderr)
    return process, first.rsplit(" ", 1)[-1].strip()


def _post(base_url: str, key: str, document: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        base_url + "/messages",
        data=json.dumps(document).encode(),
        headers={"Authorization": key, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_runs_until_a_signal_and_then_frees_its_port(tmp_path: Path, stop_with: int) -> None:
    database = tmp_path / "records.sqlite"
    process, base_url = _start(
        "sandbox",  # accepted as the first word, as the facade CLI passes it through
        "--port",
        "0",
        "--api-key",
        "cli-key",
        "--two-way",
        "27830000001",
        "--sqlite",
        str(database),
        "--quirk",
        "extra-fields",
    )
    try:
        assert base_url.startswith("http://127.0.0.1:")
        status, answer = _post(
            base_url, "cli-key", {"content": "hi", "to": ["27821234567"], "from": "27830000001"}
        )
        assert status == 202 and "requestId" in answer
        assert _post(base_url, "sandbox-key", {"content": "hi", "to": ["27821234567"]})[0] == 401
    finally:
        process.send_signal(stop_with)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stopped" in out
    port = int(base_url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert database.exists()


def test_fault_options_reach_the_server() -> None:
    process, base_url = _start("--fault-rate-503", "1", "--max-faults", "1", "--retry-after", "3")
    try:
        first = _post(base_url, "sandbox-key", {"content": "hi", "to": ["27821234567"]})
        second = _post(base_url, "sandbox-key", {"content": "hi", "to": ["27821234567"]})
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert (first[0], first[1]["errorCode"]) == (503, 901)
    assert second[0] == 202


def test_bad_options_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--fault-rate-503", "2"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["--fault-rate-503", "0.7", "--fault-rate-429", "0.7"])
    assert "add up to more than 1" in capsys.readouterr().err
    help_text = build_parser().format_help()
    for option in (
        "--port",
        "--api-key",
        "--two-way",
        "--sqlite",
        "--callback-url",
        "--fault-rate-503",
    ):
        assert option in help_text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real `clickatell-sms` command (its console script's entry point) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_busy_port_is_a_one_line_error_and_exit_2_as_listen_gives() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        sandbox = _cli("sandbox", "--port", port)
        listen = _cli("listen", "--port", port)
        direct = subprocess.run(
            [sys.executable, "-m", "clickatell_sms.sandbox", "--port", port],
            capture_output=True,
            text=True,
            timeout=30,
        )
    for done in (sandbox, listen, direct):
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""
    (line,) = sandbox.stderr.splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "Address already in use" in line
    assert direct.stderr == sandbox.stderr
    assert listen.stderr.splitlines()[0].startswith(f"error: cannot listen on 127.0.0.1:{port}: ")


def test_a_port_out_of_range_or_an_unusable_sqlite_path_is_a_one_line_error(
    tmp_path: Path,
) -> None:
    done = _cli("sandbox", "--port", "70000")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "--port" in done.stderr and "between 0 and 65535" in done.stderr
    missing = tmp_path / "no-such-directory" / "records.sqlite"
    done = _cli("sandbox", "--sqlite", str(missing))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: cannot use --sqlite {missing}: unable to open database file"
    ]


def test_sandbox_help_describes_every_option() -> None:
    done = _cli("sandbox", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps lines: compare as one line
    parser = build_parser()
    options = [action for action in parser._actions if action.option_strings]
    assert len(options) > 25
    for action in options:
        assert action.help, f"{action.option_strings[0]} has no help text"
        assert action.option_strings[-1] in text
    for option, words in {
        "--balance": "starting credit",
        "--currency": "currency the balance look-up reports",
        "--price-per-part": "each message part costs",
        "--latency": "delay every answer",
        "--fault-rate-429": "answer 429 with Retry-After",
        "--drop-after-body": "recorded and charged",
        "--max-faults": "at most N faults",
        "--idle-timeout": "no request under way",
        "--max-connections": "open connections at most",
    }.items():
        assert words in text, (option, words)
    assert f"(default: {parser.get_default('balance')})" in text  # defaults are shown
