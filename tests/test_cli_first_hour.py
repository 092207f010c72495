"""The first hour on the command line, as a new user meets it: every check runs the installed
`clickatell-sms` console script in a subprocess and asserts what it prints and its exit status.

One name per thing on every command, `-v` after the command, `--version`, the size of a long
text, `estimate` and `send` agreeing, and errors that name flags and variables, never Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clickatell_wire.tables import SEND_OPTIONS

from clickatell_sms import __version__
from clickatell_sms.cli import build_parser
from clickatell_sms.cli.wording import FLAGS, describe, subject_of
from clickatell_sms.errors import ValidationError

SCRIPT = Path(sys.executable).with_name("clickatell-sms")

# What a shell user should never be shown: Python keyword arguments, Python-only names,
# Python constants and objects.
PYTHON_WORDS = re.compile(
    r"\b[a-z_]+=|\bfrom_\b|\bNone\b|\bTrue\b|\btzinfo\b|\bdatetime\.|\b[a-z]+(?:_[a-z]+)+\b"
)


def cli(
    *argv: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`clickatell-sms ARGV...` with no CLICKATELL_* setting but those in `env`."""
    assert SCRIPT.exists(), f"the console script is not installed at {SCRIPT}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    environ.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *argv],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=60,
    )


def people(tmp_path: Path, *numbers: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("to,message\n" + "".join(f"{n},hi {n}\n" for n in numbers))
    return path


# -- one name per thing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text_flag", "region_flag"),
    [("--text", "--region"), ("--content", "--default-region")],
)
def test_bulk_takes_text_and_region_like_send_and_keeps_the_old_names(
    tmp_path: Path, text_flag: str, region_flag: str
) -> None:
    csv = people(tmp_path, "0821234567", "0821234568")  # national: needs the region
    done = cli("bulk", "--csv", str(csv), text_flag, "Hello", region_flag, "ZA", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 rows: 2 accepted, 0 rejected" in done.stdout
    sent = cli("send", "--to", "0821234567", "--text", "Hello", region_flag, "ZA")
    assert sent.returncode == 0, sent.stderr
    assert "27821234567  accepted" in sent.stdout


def test_bulk_takes_a_text_column_like_the_content_column(tmp_path: Path) -> None:
    csv = people(tmp_path, "27821234567")
    for flag in ("--text-column", "--content-column"):
        done = cli("bulk", "--csv", str(csv), flag, "message", "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1])["accepted"] == 1


def test_send_and_bulk_help_name_the_text_and_the_region_alike() -> None:
    for command in ("send", "bulk"):
        done = cli(command, "--help")
        assert done.returncode == 0
        assert "--text TEXT" in done.stdout
        assert "--region CC" in done.stdout
    assert "--content TEXT" in cli("bulk", "--help").stdout  # the old name still listed


# -- -v after the command, --version ----------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "send", "--to", "27821234567", "--text", "hi"],
        ["send", "--to", "27821234567", "--text", "hi", "-v"],
        ["send", "--verbose", "--to", "27821234567", "--text", "hi"],
    ],
)
def test_verbose_works_before_and_after_the_command(argv: list[str]) -> None:
    done = cli(*argv)
    assert done.returncode == 0, done.stderr
    assert "clickatell_sms: POST /messages" in done.stderr


def test_without_verbose_nothing_is_logged() -> None:
    done = cli("send", "--to", "27821234567", "--text", "hi")
    assert done.returncode == 0 and "POST /messages" not in done.stderr


def test_verbose_after_balance_and_before_sandbox() -> None:
    done = cli("balance", "--verbose")
    assert done.returncode == 0, done.stderr
    assert "clickatell_sms:" in done.stderr
    helped = cli("-v", "sandbox", "--help")  # a global flag before the sandbox's own parser
    assert helped.returncode == 0 and "clickatell-sms sandbox" in helped.stdout


def test_version() -> None:
    done = cli("--version")
    assert done.returncode == 0
    assert re.fullmatch(
        rf"clickatell-sms {re.escape(__version__)} \(Python 3\.\d+\.\d+\)\n", done.stdout
    )


# -- the size of a long text ------------------------------------------------------------------


def test_a_long_text_says_its_encoding_and_parts() -> None:
    done = cli("send", "--to", "27821234567", "--text", "x" * 2000)
    assert done.returncode == 0, done.stderr
    assert "message: 14 parts of GSM-7 (2000 septets, 153 per part)" in done.stderr
    assert "each part is charged, for every recipient" in done.stderr


def test_a_text_in_ucs2_names_the_character_that_forced_it() -> None:
    done = cli("send", "--to", "27821234567", "--text", "It’s ready. " * 8)
    assert done.returncode == 0, done.stderr
    assert "message: 2 parts of UCS-2 (96 UTF-16 units, 67 per part)" in done.stderr
    assert "UCS-2 because of '’' (U+2019)" in done.stderr


def test_a_one_part_text_sends_quietly() -> None:
    done = cli("send", "--to", "27821234567", "--text", "x" * 160)
    assert done.returncode == 0 and "message:" not in done.stderr


def test_json_carries_the_size_and_stderr_stays_quiet() -> None:
    done = cli("send", "--to", "27821234567", "--text", "x" * 2000, "--json")
    assert done.returncode == 0, done.stderr
    size = json.loads(done.stdout)["message"]
    assert size == {"encoding": "GSM-7", "characters": 2000, "units": 2000, "parts": 14}
    assert "message:" not in done.stderr


# -- estimate and send agree ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "error: --text: is empty; the API needs some text"),
        (
            "y" * 6000,
            "error: --text: needs 40 parts (6000 septets of GSM-7); the API allows at most 35",
        ),
    ],
)
def test_estimate_refuses_what_send_refuses_in_the_same_words(text: str, problem: str) -> None:
    sent = cli("send", "--to", "27821234567", "--text", text)
    estimated = cli("estimate", "--text", text)
    assert (sent.returncode, estimated.returncode) == (2, 2)
    assert problem in sent.stderr.splitlines()
    assert problem in estimated.stderr.splitlines()


def test_estimate_still_shows_the_size_of_a_text_too_long_to_send() -> None:
    done = cli("estimate", "--text", "y" * 6000)
    assert done.stdout.startswith("GSM-7: 40 parts, 6000 septets")


def test_estimate_takes_the_send_flags_for_binary_and_the_header() -> None:
    alone = cli("estimate", "--text", "AB" * 140, "--binary")
    assert alone.stdout.startswith("binary: 1 part, 140 octets"), alone.stderr
    for flag in ("--user-data-header", "--udh"):  # the header's 6 octets push it to 2 parts
        done = cli("estimate", "--text", "AB" * 140, "--binary", flag, "050003CC0201")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("binary: 2 parts, 140 octets")


# -- errors speak to a shell user -------------------------------------------------------------

TO = ["--to", "27821234567", "--text", "hi"]


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (
            ["send", *TO, "--schedule", "2030-02-27T14:30:00"],
            {},
            "argument --scheduled-delivery-time/--schedule: '2030-02-27T14:30:00' has no UTC offset",
        ),
        (
            ["send", *TO, "--schedule", "2020-02-27T14:30:00Z"],
            {},
            "error: --scheduled-delivery-time: is in the past",
        ),
        (
            ["send", *TO],
            {"CLICKATELL_BASE_URL": "http://127.0.0.1:9"},
            "error: CLICKATELL_API_KEY: is not set (nor --api-key), but CLICKATELL_BASE_URL is",
        ),
        (
            ["send", *TO, "--base-url", "http://127.0.0.1:9"],
            {},
            "error: CLICKATELL_API_KEY: is not set (nor --api-key), but --base-url is",
        ),
        (
            ["balance"],
            {"CLICKATELL_BASE_URL": "http://127.0.0.1:9"},
            "error: CLICKATELL_API_KEY: is not set",
        ),
        (
            ["send", *TO, "--api-key", "k"],
            {"CLICKATELL_BASE_URL": "ftp://x"},
            "error: CLICKATELL_BASE_URL: must be an http(s) URL with a host",
        ),
        (
            ["send", *TO, "--api-key", "k", "--base-url", "nope"],
            {},
            "error: --base-url: must be an http(s) URL with a host",
        ),
        (
            ["send", *TO],
            {"CLICKATELL_INTEGRATION": "soap"},
            "error: CLICKATELL_INTEGRATION: must be 'rest' (POST) or 'http' (GET)",
        ),
        (
            ["send", *TO, "--validity", "0"],
            {},
            "error: --validity-period: is 0 minutes; must be from 1 to 10080 minutes",
        ),
        (
            ["send", "--to", "27821234567,+2782", "--text", "hi"],
            {},
            "error: --to (number 2): has 4 digits; too short for any country",
        ),
        (
            ["send", *TO, "--integration", "http", "--validity", "5", "--charset", "ASCII"],
            {},
            "error: --validity-period, --charset: not supported by the HTTP integration's GET send, which takes only --text, --to and --from; send with --integration rest",
        ),
        (
            ["send", "--to", "27821234567", "--text", "a\x01b", "--format", "xml"],
            {},
            "error: --text: contains U+0001 at index 1, which XML cannot carry; use --format json or remove it",
        ),
        (
            ["send", "--to", "0821234567", "--text", "hi", "--region", "XX"],
            {},
            "error: --region: is not an ISO 3166 region code",
        ),
        (["send", *TO, "--timeout", "0"], {}, "error: --timeout: must be a number of seconds > 0"),
        (
            ["send", "--to", "0821234567", "--text", "hi"],
            {},
            "error: --to (number 1): has no country code (08*****567); give it in international"
            " format (+ and the country code) or add --region CC",
        ),
        (
            ["send", *TO, "--client-message-id", "has space"],
            {},
            "error: --client-message-id: does not match the API's pattern",
        ),
        (
            ["status", "not an id!"],
            {},
            "error: the message ID: must be 1 to 64 letters, digits or hyphens",
        ),
    ],
)
def test_errors_name_the_flag_or_the_variable_never_python(
    argv: list[str], env: dict[str, str], expected: str
) -> None:
    done = cli(*argv, env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert expected in done.stderr
    assert not PYTHON_WORDS.search(done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_bulk_errors_name_flags_and_variables_too(tmp_path: Path) -> None:
    csv = people(tmp_path, "27821234567")
    cases = [
        ((), {"CLICKATELL_BASE_URL": "http://127.0.0.1:9"}, "CLICKATELL_API_KEY: is not set"),
        (("--client-message-id", "a b"), {}, "--client-message-id: must be a prefix without"),
        (("--rate-limit", "0"), {}, "--rate-limit: must be a number of recipients per second"),
        (("--stop-after", "0"), {}, "--stop-after: must be a whole number >= 1\n"),
    ]
    for extra, env, expected in cases:
        done = cli("bulk", "--csv", str(csv), "--text", "hi", *extra, env=env, cwd=tmp_path)
        assert done.returncode == 2, (extra, done.stdout, done.stderr)
        assert expected in done.stderr, done.stderr
        assert not PYTHON_WORDS.search(done.stderr), done.stderr


def test_every_flag_the_wording_names_is_a_real_flag_of_send_or_bulk() -> None:
    """A field renamed in the spec, or a flag renamed here, must not leave errors naming a flag
    that no command has (listen's keyword lists included)."""
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    known = {
        option
        for name in ("send", "bulk", "balance", "listen")
        for action in commands[name]._actions
        for option in action.option_strings
    }
    flags = {flag for flag in FLAGS.values() if flag.startswith("--")}
    assert flags <= known, sorted(flags - known)
    # each send option of the spec is named by its flag
    assert all(FLAGS[field.name] in known for field in SEND_OPTIONS)


def test_the_wording_of_python_hints() -> None:
    def said(field: str, problem: str) -> str:
        return describe(ValidationError(field, problem))

    assert said("api_key", "is missing; pass api_key= or set X") == (
        "--api-key: is missing; pass --api-key or set X"
    )
    assert said("from_", "send with integration='http' or format=\"xml\"") == (
        "--from: send with --integration http or --format xml"
    )
    assert said("content", "continue with resume=True") == "--text: continue with --resume"
    assert said("stop_after", "must be an int >= 1, or None") == (
        "--stop-after: must be a whole number >= 1"
    )
    assert said("to[0]", "is empty") == "--to (number 1): is empty"
    assert subject_of("base_url", {"base_url": "CLICKATELL_BASE_URL"}) == "CLICKATELL_BASE_URL"
    # a keyword the CLI has no flag for is left as it is (and the battery above catches it)
    assert said("content", "pass tzinfo=UTC") == "--text: pass tzinfo=UTC"
    # worded errors pass through unchanged
    assert said("--timeout", "must be > 0") == "--timeout: must be > 0"


def test_bulk_s_bad_rows_name_the_region_flag_and_their_results_no_python(
    tmp_path: Path,
) -> None:
    csv = people(tmp_path, "0821234567", "27821234567")
    done = cli("bulk", "--csv", str(csv), "--text", "hi", "--output", "out.csv", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert (
        f"{csv}: line 2: has no country code (08*****567); give it in international format"
        " (+ and the country code) or add --region CC" in done.stderr
    )
    assert not PYTHON_WORDS.search(done.stderr), done.stderr
    results = (tmp_path / "out.csv").read_text()
    reason = next(line for line in results.splitlines() if line.startswith("2,"))
    assert "has no country code" in reason and "default_region" not in reason


# -- standard input, help, python -m -----------------------------------------------------------


def test_text_from_stdin_drops_the_newline_that_ends_it() -> None:
    """`echo hi | clickatell-sms send --text -` sends "hi", as `--text "$(echo hi)"` would;
    one newline goes, the writer's blank lines stay."""
    from clickatell_sms.sandbox import Sandbox

    env = {"CLICKATELL_API_KEY": "stdin-test-key-0123"}
    with Sandbox(api_keys=(env["CLICKATELL_API_KEY"],)) as sandbox:
        env["CLICKATELL_BASE_URL"] = sandbox.base_url
        for typed, sent in [("hi\n", "hi"), ("hi\r\n", "hi"), ("hi", "hi"), ("a\n\n", "a\n")]:
            done = subprocess.run(
                [str(SCRIPT), "send", "--to", "27821234567", "--text", "-"],
                input=typed.encode(),  # bytes: the "\r\n" reaches the command as typed
                capture_output=True,
                env={**_no_settings(), **env},
                timeout=60,
            )
            assert done.returncode == 0, done.stderr.decode()
            assert sandbox.messages()[-1].content == sent, typed
    estimated = subprocess.run(
        [str(SCRIPT), "estimate", "--text", "-"],
        input="x" * 160 + "\n",
        capture_output=True,
        text=True,
        env=_no_settings(),
        timeout=60,
    )
    assert estimated.stdout.startswith("GSM-7: 1 part, 160 septets"), estimated.stdout


def _no_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}


def test_the_scheduled_time_help_gives_one_format_the_flag_reads() -> None:
    """The help comes from the spec's description; the wire's colon-less offset is the SDK's
    business, so the help shows only what the flag takes, and its examples are taken."""
    parser = build_parser()
    send = parser._subparsers._group_actions[0].choices["send"]  # type: ignore[union-attr]
    action = next(a for a in send._actions if "--scheduled-delivery-time" in a.option_strings)
    text = " ".join(str(action.help).split())
    assert "without a colon" not in text and "+0200" not in text
    examples = re.findall(r"\d{4}-\d\d-\d\dT[\d:]+(?:[+-]\d\d:?\d\d|Z)", text)
    assert examples, text
    assert action.type is not None
    for example in examples:
        assert action.type(example).tzinfo is not None  # type: ignore[operator, attr-defined]
    shown = " ".join(cli("send", "--help").stdout.split())
    assert "When to deliver (ISO 8601 with a UTC offset, e.g. 2030-02-27T14:30:00+02:00" in shown


def test_python_dash_m_clickatell_sms_is_the_command() -> None:
    module = [sys.executable, "-m", "clickatell_sms"]
    env = _no_settings()
    version = subprocess.run([*module, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout == cli("--version").stdout
    helped = subprocess.run([*module, "--help"], capture_output=True, text=True, env=env)
    assert helped.stdout.startswith("usage: clickatell-sms ")
    sent = subprocess.run(
        [*module, "send", "--to", "27821234567", "--text", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    assert "27821234567  accepted" in sent.stdout


@pytest.mark.parametrize(
    "command",
    [["estimate", "--text", "hi", "--json"], ["send", "--to", "27821234567", "--text", "hi"]],
    ids=["estimate --json", "send"],
)
def test_a_reader_that_goes_away_ends_the_command_quietly(command: list[str]) -> None:
    """`clickatell-sms ... | head -1`: when stdout's reader has gone, the command ends with the
    status a SIGPIPE would give, and no traceback on stderr."""
    reader, writer = os.pipe()
    os.close(reader)  # gone before the command writes a byte: its first write fails with EPIPE
    try:
        ended = subprocess.run(
            [sys.executable, "-m", "clickatell_sms", *command],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            env=_no_settings(),
            timeout=60,
        )
    finally:
        os.close(writer)
    assert ended.returncode == 141, ended.stderr
    assert "Traceback" not in ended.stderr and "BrokenPipeError" not in ended.stderr


# -- --json when a command fails ---------------------------------------------------------------


def test_json_failures_are_one_document_on_stdout(tmp_path: Path) -> None:
    """A script that reads stdout learns why a command failed: one JSON object with the exit
    status, the error's type, the API's code and description (or the bad field)."""
    from clickatell_sms.sandbox import Sandbox

    with Sandbox(api_keys=("the-right-key-0123",)) as sandbox:
        wrong_key = {
            "CLICKATELL_API_KEY": "a-wrong-key-0123",
            "CLICKATELL_BASE_URL": sandbox.base_url,
        }
        cases = [
            (["status", "0123456789abcdef", "--json"], {}, 3, "APIError", 103),
            (["send", *TO, "--json"], wrong_key, 3, "AuthenticationError", None),
            (["balance", "--json"], wrong_key, 3, "AuthenticationError", None),
            (
                [
                    "balance",
                    "--json",
                    "--api-key",
                    "some-key-0123",
                    "--base-url",
                    "http://127.0.0.1:9",
                ],
                {},
                4,
                "ConnectionError",
                None,
            ),
            (
                ["send", "--to", "0821234567", "--text", "hi", "--json"],
                {},
                2,
                "ValidationError",
                None,
            ),
            (["send", "--text", "hi", "--json"], {}, 2, "UsageError", None),
        ]
        for argv, env, status, kind, code in cases:
            done = cli(*argv, env=env)
            assert done.returncode == status, (argv, done.stderr)
            document = json.loads(done.stdout)  # one object and nothing else
            assert document["ok"] is False and document["exitStatus"] == status, argv
            error = document["error"]
            assert error["type"] == kind, (argv, error)
            assert {"code", "description"} <= error.keys()
            assert error["description"], (argv, error)
            if code is not None:
                assert error["code"] == code
            assert "a-wrong-key-0123" not in done.stdout + done.stderr
    field = json.loads(cli("send", "--to", "0821234567", "--text", "hi", "--json").stdout)
    assert field["error"]["field"] == "--to (number 1)"
    usage = json.loads(cli("send", "--text", "hi", "--json").stdout)
    assert "the following arguments are required: --to" in usage["error"]["description"]
    too_long = cli("estimate", "--text", "y" * 6000, "--json")
    refused = json.loads(too_long.stdout)  # the size and the refusal, in one document
    assert too_long.returncode == 2 and refused["error"]["field"] == "--text"
    assert refused["estimate"]["parts"] == 40
    # conformance's --json names a file: its usage errors stay on stderr
    assert cli("conformance", "--json").stdout == ""
