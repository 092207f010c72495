"""`clickatell-sms sandbox` as a user runs it: a separate process, stopped by a signal."""

from __future__ import annotations

import argparse
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

from clickatell_sms.cli import build_parser, main


def _sandbox_parser() -> argparse.ArgumentParser:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    parser: argparse.ArgumentParser = commands["sandbox"]
    return parser


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
    assert main(["sandbox", "--fault-rate-503", "2"]) == 2
    assert main(["sandbox", "--fault-rate-503", "0.7", "--fault-rate-429", "0.7"]) == 2
    assert "add up to more than 1" in capsys.readouterr().err
    help_text = _sandbox_parser().format_help()
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
    parser = _sandbox_parser()
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


def test_one_way_imitates_a_one_way_integration_and_the_default_takes_a_from() -> None:
    document = {"content": "hi", "to": ["27821234567"], "from": "380671234567"}
    one_way, one_way_url = _start("--one-way")
    default, default_url = _start()
    try:
        refused = _post(one_way_url, "sandbox-key", document)
        taken = _post(default_url, "sandbox-key", document)
    finally:
        for process in (one_way, default):
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)
    assert (refused[0], refused[1]["errorCode"]) == (200, 607)
    assert taken[0] == 202
    both = _cli("sandbox", "--one-way", "--two-way", "27830000001")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert "--one-way" in " ".join(_cli("sandbox", "--help").stdout.split())


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "'file:///etc/passwd' is not an http:// or https:// URL"),
        ("notaurl", "'notaurl' is not an http:// or https:// URL"),
        ("ftp://example.com/cb", "'ftp://example.com/cb' is not an http:// or https:// URL"),
        ("http://", "'http://' has no host"),
        ("https://:8080/cb", "'https://:8080/cb' has no host"),
        ("http://example.com:99999/", "'http://example.com:99999/' cannot be read as a URL"),
        ("http://example.com/a b", "'http://example.com/a b' contains spaces or control"),
        ("", "'' is empty"),
    ],
)
def test_a_callback_url_that_is_not_http_with_a_host_exits_2_at_start_up(
    url: str, problem: str
) -> None:
    done = _cli("sandbox", "--callback-url", url)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert f"argument --callback-url: {problem}" in done.stderr


def test_a_refused_callback_url_keeps_its_secrets_out_of_the_message() -> None:
    from clickatell_sms.errors import ValidationError
    from clickatell_sms.sandbox import Sandbox

    url = "ftp://user:pa55word@example.com:99999/cb?token=s3cret-token"
    done = _cli("sandbox", "--callback-url", url)
    assert done.returncode == 2
    with pytest.raises(ValidationError) as caught:
        Sandbox(callback_url=url)
    error = caught.value
    assert error.field == "callback_url" and "cannot be read as a URL" in error.problem
    for text in (done.stderr, str(error), repr(error.value)):
        assert "pa55word" not in text and "s3cret-token" not in text
        assert "example.com" in text
    for good in ("http://127.0.0.1:8081/cb?token=x", "HTTPS://user:pw@example.com/"):
        Sandbox(callback_url=good)  # not started: no thread, nothing sent


def test_the_check_step_names_a_refused_setting_by_its_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A `ValidationError` the server raises for a setting names the flag, not the keyword;
    one of its rules with no field behind it is a one-line usage error."""
    from clickatell_sms.cli import sandbox as command
    from clickatell_sms.errors import ValidationError

    args = build_parser().parse_args(["sandbox"])
    args.callback_url = "ftp://example.com/cb"  # as if a parse step had let it through
    with pytest.raises(ValidationError) as caught:
        command.check(args)
    assert caught.value.field == "--callback-url"
    assert main(["sandbox", "--reply-rate", "0.5"]) == 2  # replies need a two-way number
    assert capsys.readouterr().err == (
        "error: replies come to two-way numbers: give the sandbox --two-way\n"
    )
