"""`clickatell-sms`: the README's first command, output formats and exit statuses."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator

import pytest

from clickatell_sms.cli import main
from clickatell_sms.sandbox import Faults, Sandbox

from .conftest import ROOT

KEY = "cli-test-key-41f7"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,), faults=Faults(retry_after=0)) as sb:
        yield sb


def test_the_readme_first_command_works_without_an_account() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "clickatell_sms.cli",
            "send",
            "--to",
            "+27821234567",
            "--text",
            "Hello",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    header, row, summary = done.stdout.splitlines()
    assert header.split() == ["#", "TO", "NUMBER", "STATUS", "MESSAGE", "ID", "/", "ERROR"]
    assert row.split()[:4] == ["0", "+27821234567", "27821234567", "accepted"]
    assert len(row.split()[4]) == 32  # the apiMessageId
    assert summary.startswith("1 accepted, 0 rejected")
    assert "sandbox: nothing was really sent" in done.stderr


def test_the_console_script_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["clickatell-sms"] == "clickatell_sms.cli:main"


def test_json_output_and_several_recipients(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "send",
            "--to",
            "27821234567,+27 82 123 4568",
            "--to",
            "27821234567",
            "--text",
            "Hi",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # the repeat is reported rejected
    assert out["sandbox"] is True and out["accepted"] == 2 and out["rejected"] == 1
    assert [r["number"] for r in out["results"]] == ["27821234567", "27821234568", "27821234567"]
    assert out["results"][2]["duplicateOf"] == 0 and out["results"][2]["error"] == "duplicate"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_option_reaches_the_api(
    sandbox: Sandbox, fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    code = main(
        [
            "send",
            "--to",
            "+27821234567",
            "--text",
            "C0FFEE",
            "--binary",
            "--udh",
            "0605040B8423F0",
            "--format",
            fmt,
            "--client-message-id",
            "cli-1",
            "--validity",
            "90",
            "--schedule",
            "2099-02-27T14:30:00+02:00",
            "--charset",
            "UTF-8",
            "--base-url",
            sandbox.base_url,
        ]
    )
    assert code == 0, capsys.readouterr().err
    (record,) = sandbox.messages()
    assert (record.format, record.content, record.binary) == (fmt, "C0FFEE", True)
    assert record.user_data_header == "0605040B8423F0" and record.client_message_id == "cli-1"
    assert record.validity_period == 90
    assert record.scheduled_delivery_time == "2099-02-27T14:30:00+0200"
    assert "sandbox" not in capsys.readouterr().err


def test_from_works_in_the_embedded_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--to", "27821234567", "--text", "hi", "--from", "+27830000001"]) == 0


def test_rejected_recipients_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--to", "+447700900114", "--text", "hi"]) == 1  # a sandbox test number
    assert "114 Cannot route message" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "--to", "0821234567", "--text", "hi"],
        ["send", "--to", "27821234567", "--text", ""],
        ["send", "--to", "27821234567", "--text", "hi", "--validity", "0"],
        ["send", "--to", "27821234567", "--text", "hi", "--udh", "zz"],
    ],
)
def test_validation_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.parametrize(
    ("value", "problem"),
    [("2030-01-01T10:00:00", "has no UTC offset"), ("tomorrow", "is not an ISO date")],
)
def test_a_bad_time_is_refused_naming_the_flag(
    value: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shell user is told which flag and what to write, not which Python object to pass."""
    for flag in ("--schedule", "--scheduled-delivery-time"):
        argv = ["send", "--to", "27821234567", "--text", "hi", flag, value]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "argument --scheduled-delivery-time/--schedule:" in err
        assert problem in err and "datetime" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--text", "no recipient"]) == 2
    assert "the following arguments are required: --to" in capsys.readouterr().err


def test_a_refused_key_exits_3(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["send", "--to", "27821234567", "--text", "hi", "--base-url", sandbox.base_url]
    assert main([*argv, "--api-key", "wrong"]) == 3
    err = capsys.readouterr().err
    assert "authentication failed" in err and "108" in err


def test_unreachable_exits_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    argv = ["send", "--to", "27821234567", "--text", "hi", "--base-url", f"http://127.0.0.1:{port}"]
    assert main(argv) == 4
    assert "nothing was sent" in capsys.readouterr().err


def test_outcome_unknown_exits_4_and_says_not_to_resend(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.set_faults(Faults(drop_after_body=1.0))
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    argv = ["send", "--to", "27821234567", "--text", "hi", "--client-message-id", "ref-5"]
    assert main([*argv, "--base-url", sandbox.base_url]) == 4
    err = capsys.readouterr().err
    assert "outcome unknown" in err and "ref-5" in err and "Do not resend" in err
    assert len(sandbox.messages()) == 1 and sandbox.requests_seen == 1


def test_a_send_without_a_client_message_id_gets_one_to_reconcile_by(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --client-message-id, a REST send carries a made one (status callbacks echo it),
    which the outcome-unknown notice and the --json document name: what was sent can be found."""
    sandbox.set_faults(Faults(drop_after_body=1.0))
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    argv = ["send", "--to", "27821234567", "--text", "hi", "--base-url", sandbox.base_url]
    assert main([*argv, "--json"]) == 4
    captured = capsys.readouterr()
    (record,) = sandbox.messages()
    made = record.client_message_id
    assert made is not None and len(made) == 32 and int(made, 16) >= 0  # a UUID4, in hex
    assert f"client message ID {made}. Do not resend" in captured.err
    assert json.loads(captured.out)["error"]["clientMessageId"] == made

    sandbox.set_faults(Faults())
    for fmt in ("json", "xml"):
        assert main([*argv, "--json", "--format", fmt]) == 0
        sent = sandbox.messages()[-1].client_message_id
        assert json.loads(capsys.readouterr().out)["clientMessageId"] == sent
        assert sent is not None and sent != made and len(sent) == 32  # one per send


def test_a_given_client_message_id_is_kept_and_the_get_send_gets_none_made(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    argv = ["send", "--to", "27821234567", "--text", "hi", "--base-url", sandbox.base_url]
    assert main([*argv, "--client-message-id", "mine-1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clientMessageId"] == "mine-1"
    assert sandbox.messages()[-1].client_message_id == "mine-1"
    # the GET send carries only --to, --text and --from: whether it takes one is unconfirmed
    assert main([*argv, "--integration", "http", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clientMessageId"] is None
    assert sandbox.messages()[-1].client_message_id is None


def test_verbose_logs_without_the_key(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    argv = ["-v", "send", "--to", "27821234567", "--text", "hi", "--base-url", sandbox.base_url]
    package_logger = logging.getLogger("clickatell_sms")
    before = (package_logger.level, list(package_logger.handlers))
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "POST /messages" in captured.err
    assert KEY not in captured.err + captured.out
    # -v lasts as long as the command: main() in a program's process leaves its logger alone
    assert (package_logger.level, package_logger.handlers) == before


def test_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--text", "a" * 161]) == 0
    assert capsys.readouterr().out.startswith("GSM-7: 2 parts, 161 septets")
    assert main(["estimate", "--text", "€uro ê", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["encoding"] == "UCS-2" and document["parts"] == 1


def test_sandbox_subcommand_is_the_sandbox_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--help"]) == 0
    assert "clickatell-sms sandbox" in capsys.readouterr().out


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("send", "estimate", "sandbox"))


# -- Ctrl-C during a send ---------------------------------------------------------------------


def _send_then_interrupt(
    sandbox: Sandbox, numbers: list[str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """`clickatell-sms send` in a child process, sent a real SIGINT once the sandbox has taken
    every recipient (its answer held back by the latency fault): the request is out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    env.update(CLICKATELL_API_KEY=KEY, CLICKATELL_BASE_URL=sandbox.base_url)
    script = os.path.join(os.path.dirname(sys.executable), "clickatell-sms")
    argv = [script, "send", "--to", ",".join(numbers), "--text", "hi", *extra]
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 30
    while len(sandbox.messages()) < len(numbers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sandbox.messages()) == len(numbers), "the send never reached the sandbox"
    assert child.poll() is None, "answered before the interrupt: the latency fault is too short"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    return subprocess.CompletedProcess(argv, child.returncode, out, err)


def test_ctrl_c_during_send_says_which_recipients_may_have_been_sent_and_exits_130(
    sandbox: Sandbox,
) -> None:
    """250 numbers: the first request's 200 are answered, Ctrl-C comes while the second is out."""
    sandbox.set_faults(Faults(latency=2.0))
    numbers = [f"2782{i:07d}" for i in range(250)]
    done = _send_then_interrupt(sandbox, numbers, "--client-message-id", "ref-ctrl-c")
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    assert "interrupted while request 2 of 2 was out" in done.stderr
    notice = (
        f"outcome unknown for 50 recipient(s): {', '.join(numbers[200:])}; client message ID"
        " ref-ctrl-c. Do not resend before checking delivery."
    )
    assert f"error: {notice}" in done.stderr.splitlines()
    answered = [line for line in done.stdout.splitlines() if " accepted " in f"{line} "]
    assert len(answered) == 200  # the first request's results, shown before the notice
    assert "Results of the requests that completed before the failure:" in done.stderr


def test_ctrl_c_during_send_with_json_prints_one_document(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(latency=2.0))
    done = _send_then_interrupt(sandbox, ["27821234567", "27831234567"], "--json")
    assert done.returncode == 130 and "Traceback" not in done.stderr
    document = json.loads(done.stdout)  # one object, nothing else on stdout
    assert document["ok"] is False and document["exitStatus"] == 130
    error = document["error"]
    assert error["type"] == "OutcomeUnknownError"
    assert error["recipients"] == ["27821234567", "27831234567"]
    assert "partial" not in document
    # the one made for the send (no --client-message-id was given), as the request carried it
    made = error["clientMessageId"]
    assert len(made) == 32 and {m.client_message_id for m in sandbox.messages()} == {made}
