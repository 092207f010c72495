"""CSV input for bulk sends, and the `bulk` command: clear errors with line numbers, exit codes."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clickatell_sms.bulk import BadRow, Recipient
from clickatell_sms.bulk.csv_input import CSVInputError, CSVSource, Template, scan_file
from clickatell_sms.cli import bulk as cli_bulk
from clickatell_sms.sandbox import Sandbox


def source(text: bytes, **options: object) -> CSVSource:
    return CSVSource(io.BytesIO(text), name="people.csv", **options)  # type: ignore[arg-type]


# -- the reader -----------------------------------------------------------------------------------


def test_rows_stream_with_their_line_numbers() -> None:
    rows = list(source(b"to,name\n27820000001,Ann\n\n27820000002,Bob\n"))
    assert rows == [Recipient("27820000001", None, 2), Recipient("27820000002", None, 4)]


def test_a_missing_column_fails_at_line_1() -> None:
    with pytest.raises(CSVInputError) as raised:
        source(b"phone,name\n27820000001,Ann\n")
    assert raised.value.line == 1
    assert "no column 'to'" in str(raised.value) and "phone, name" in str(raised.value)
    assert str(raised.value).startswith("people.csv: line 1:")


def test_an_empty_file_needs_a_header() -> None:
    with pytest.raises(CSVInputError, match="empty"):
        source(b"")


def test_short_long_and_empty_rows_are_bad_rows_with_their_line() -> None:
    rows = list(source(b'to,name\n27820000001\n27820000002,"a",b\n,Cy\n27820000004,Di\n'))
    assert [type(r) for r in rows] == [BadRow, BadRow, BadRow, Recipient]
    assert [r.row for r in rows] == [2, 3, 4, 5]
    assert "has 1 fields, the header has 2" in rows[0].reason  # type: ignore[union-attr]
    assert "no number" in rows[2].reason  # type: ignore[union-attr]


def test_malformed_quoting_is_a_bad_row_and_reading_goes_on() -> None:
    rows = list(source(b'to,name\n27820000001,"Ann"x\n27820000002,Bob\n'))
    assert isinstance(rows[0], BadRow) and rows[0].row == 2 and "not valid CSV" in rows[0].reason
    assert rows[1] == Recipient("27820000002", None, 3)


def test_a_quoted_field_over_several_lines_keeps_the_starting_line() -> None:
    rows = list(source(b'to,msg\n27820000001,"two\nlines"\n27820000002,x\n', content_column="msg"))
    assert rows == [Recipient("27820000001", "two\nlines", 2), Recipient("27820000002", "x", 4)]


def test_a_byte_order_mark_is_not_part_of_the_header() -> None:
    rows = list(source("\ufeffto\n27820000001\n".encode()))
    assert rows == [Recipient("27820000001", None, 2)]


def test_non_utf8_is_reported_with_line_and_column(tmp_path: Path) -> None:
    data = b"to,name\n27820000001,Ann\n27820000002,Jos\xe9\n"
    path = tmp_path / "latin1.csv"
    path.write_bytes(data)
    with pytest.raises(CSVInputError) as scanned:
        scan_file(path)
    assert scanned.value.line == 3 and "column 16" in str(scanned.value)
    assert "--encoding" in str(scanned.value)
    with pytest.raises(CSVInputError) as streamed:
        list(source(data))
    assert streamed.value.line == 3
    rows = list(source(data, encoding="cp1252", content_column="name"))
    assert rows[1] == Recipient("27820000002", "José", 3)


def test_scan_counts_lines_and_hashes(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"to\n1\n2")
    facts = scan_file(path)
    assert (facts.lines, facts.size) == (3, 6) and len(facts.sha256) == 64


def test_templates_fill_columns_and_nothing_else() -> None:
    rows = list(source(b"to,name\n27820000001,Ann\n", template=Template("Hi {name} {{ok}}")))
    assert rows == [Recipient("27820000001", "Hi Ann {ok}", 2)]
    for unsafe in ("{name.__class__}", "{name[0]}", "{0}", "{}", "{name!r}", "{name:>10}"):
        with pytest.raises(ValueError, match="template"):
            Template(unsafe)
    with pytest.raises(CSVInputError, match=r"\{nmae\}") as raised:
        source(b"to,name\n", template=Template("Hi {nmae}"))
    assert raised.value.line == 1


def test_a_template_that_renders_empty_is_a_bad_row() -> None:
    rows = list(source(b"to,name\n27820000001,\n", template=Template("{name}")))
    assert isinstance(rows[0], BadRow) and "empty" in rows[0].reason


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(api_keys=("key",), balance=10**9) as sb:
        monkeypatch.setenv("CLICKATELL_API_KEY", "key")
        monkeypatch.setenv("CLICKATELL_BASE_URL", sb.base_url)
        yield sb


def run(*argv: str) -> int:
    return cli_bulk.main(list(argv))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("spelled", ["tab", "\\t", "\t"])
def test_a_tab_separated_file_is_read_with_the_delimiter_spelled_any_way(
    sandbox: Sandbox, tmp_path: Path, spelled: str
) -> None:
    people = write(tmp_path / "people.tsv", "to\tname\n27820000001\tAnn\n27820000002\tBob\n")
    status = run("--csv", str(people), "--template", "Hi {name}", "--delimiter", spelled)
    assert status == 0
    assert sorted(m.content for m in sandbox.messages()) == ["Hi Ann", "Hi Bob"]


def test_bad_rows_are_reported_and_good_rows_still_go(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = write(
        tmp_path / "people.csv",
        "to,name\n27820000001,Ann\nhello,Bob\n27820000003\n27820000004,Di\n",
    )
    status = run("--csv", str(people), "--template", "Hi {name}", "--json", "--progress", "none")
    out, err = capsys.readouterr()
    assert status == 1
    assert "people.csv: line 3: contains letters" in err
    assert "people.csv: line 4: has 1 fields, the header has 2" in err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["accepted"], summary["failed"], summary["invalid"]) == (2, 2, 2)
    assert sorted(m.content for m in sandbox.messages()) == ["Hi Ann", "Hi Di"]
    assert (tmp_path / "people.csv.journal").exists()


def test_everything_accepted_exits_0_and_a_second_run_is_refused(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = write(tmp_path / "p.csv", "to\n27820000001\n27820000002\n")
    assert run("--csv", str(people), "--content", "hello", "--progress", "none") == 0
    assert "2 rows: 2 accepted" in capsys.readouterr().out
    assert run("--csv", str(people), "--content", "hello") == 2
    assert "exists already" in capsys.readouterr().err
    assert run("--csv", str(people), "--content", "hello", "--resume", f"{people}.journal") == 0
    assert len(sandbox.messages()) == 2  # the resume sent nothing again


def test_input_errors_exit_2_before_sending(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_column = write(tmp_path / "a.csv", "phone\n27820000001\n")
    assert run("--csv", str(wrong_column), "--content", "hi") == 2
    assert "a.csv: line 1: the header has no column 'to'" in capsys.readouterr().err
    latin = tmp_path / "b.csv"
    latin.write_bytes(b"to,name\n27820000001,Ann\n27820000002,Jos\xe9\n")
    assert run("--csv", str(latin), "--template", "Hi {name}") == 2
    assert "b.csv: line 3: is not valid utf-8" in capsys.readouterr().err
    assert run("--csv", str(wrong_column), "--column", "phone", "--template", "{x.y}") == 2
    assert run("--csv", str(tmp_path / "missing.csv"), "--content", "hi") == 2
    assert not sandbox.messages()


def test_a_bad_send_option_exits_2_naming_its_flag_before_anything_is_sent(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checked once, up front: not a run whose every row fails for the same option."""
    people = write(tmp_path / "p.csv", "to\n27820000001\n27820000002\n")
    assert run("--csv", str(people), "--content", "hi", "--validity", "0") == 2
    out, err = capsys.readouterr()
    assert "--validity-period: is 0 minutes; must be from 1 to 10080 minutes" in err
    assert "rows" not in out  # no summary: there was no run
    assert not sandbox.messages()
    assert not (tmp_path / "p.csv.journal").exists()


def test_output_file_and_json_summary(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = write(tmp_path / "p.csv", "number\n27820000001\n27820000001\n")
    results = tmp_path / "r.jsonl"
    status = run(
        "--csv",
        str(people),
        "--column",
        "number",
        "--content",
        "hi",
        "--output",
        str(results),
        "--json",
        "--progress",
        "none",
    )
    assert status == 1  # the repeat is rejected (sent once)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["duplicates"] == 1 and summary["accepted"] == 1
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert {line["status"] for line in lines} == {"accepted", "rejected"}


def test_stopped_on_account_errors_exits_3(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    people = write(tmp_path / "p.csv", "to\n" + "".join(f"2782{i:07d}\n" for i in range(2000)))
    monkeypatch.setenv("CLICKATELL_API_KEY", "revoked")
    assert run("--csv", str(people), "--content", "hi", "--concurrency", "1") == 3
    out = capsys.readouterr().out
    assert "STOPPED" in out and "--resume" in out
    monkeypatch.setenv("CLICKATELL_API_KEY", "key")
    assert run("--csv", str(people), "--content", "hi", "--resume", f"{people}.journal") == 0
    assert len(sandbox.messages()) == 2000


def test_missing_api_key_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # With a base URL configured there is a real target, so a missing key is a mistake (with
    # neither, the embedded sandbox is used: see the test below).
    monkeypatch.delenv("CLICKATELL_API_KEY", raising=False)
    monkeypatch.setenv("CLICKATELL_BASE_URL", "http://127.0.0.1:9")
    people = write(tmp_path / "p.csv", "to\n27820000001\n")
    assert run("--csv", str(people), "--content", "hi") == 2
    assert "CLICKATELL_API_KEY" in capsys.readouterr().err


# -- the embedded sandbox, and the progress bar ----------------------------------------------


def test_bulk_without_key_or_base_url_runs_on_the_embedded_sandbox(tmp_path: Path) -> None:
    write(tmp_path / "small.csv", "to\n27820000001\n27820000002\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    argv = ["bulk", "--csv", "small.csv", "--content", "hi"]  # clickatell-sms bulk ...
    done = subprocess.run(
        [sys.executable, "-m", "clickatell_sms.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "2 rows: 2 accepted" in done.stdout
    assert "sandbox: nothing was really sent (an embedded local API answered)" in done.stderr
    # A temporary journal: a later real run of the same file is not told to resume this one.
    assert not (tmp_path / "small.csv.journal").exists()


def test_a_missing_api_key_with_a_base_url_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CLICKATELL_API_KEY", raising=False)
    monkeypatch.setenv("CLICKATELL_BASE_URL", "http://127.0.0.1:9")
    people = write(tmp_path / "p.csv", "to\n27820000001\n")
    assert run("--csv", str(people), "--content", "hi") == 2
    assert "CLICKATELL_API_KEY" in capsys.readouterr().err
    assert not (tmp_path / "p.csv.journal").exists()


def test_a_sandbox_journal_is_not_resumed_against_the_api(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Resuming would skip every row the sandbox took, and send them to nobody."""
    people = write(tmp_path / "p.csv", "to\n27820000001\n")
    journal = str(tmp_path / "try.journal")
    assert run("--csv", str(people), "--content", "hi", "--sandbox", "--journal", journal) == 0
    assert "sandbox: nothing was really sent" in capsys.readouterr().err
    assert run("--csv", str(people), "--content", "hi", "--resume", journal) == 2
    assert "sandbox differ(s)" in capsys.readouterr().err
    assert not sandbox.messages()


def test_bad_rows_are_written_above_the_progress_bar(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    people = write(tmp_path / "p.csv", "to,name\n27820000001,Ann\nhello,Bob\n27820000003\n")
    assert run("--csv", str(people), "--template", "Hi {name}", "--progress", "bar") == 1
    shown = [line for line in capsys.readouterr().err.split("\n") if ": line " in line]
    assert len(shown) == 2
    for line in shown:  # the bar is cleared (carriage return) first, not glued to the message
        assert line.split("\r")[-1].startswith(f"{people}: line "), repr(line)


# -- a usage error creates nothing ------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder`, with its size and modification time."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
    }


USAGE_ERRORS = {
    "an output file of no known format": (["--output", "x.txt"], "--output: must end in .csv"),
    "an output file in a missing folder": (["--output", "no/x.csv"], "folder no does not exist"),
    "a journal in a missing folder": (["--journal", "no/u.journal"], "folder no does not exist"),
    # passes every check, then cannot be opened: the journal made just before is taken back
    "an output file the system refuses": (["--output", "x" * 300 + ".csv"], "File name too long"),
    "a send option out of range": (["--validity-period", "0"], "--validity-period: is 0"),
    "a request ID prefix with a space": (["--client-message-id", "a b"], "--client-message-id"),
    "a stop after no errors": (["--stop-after", "0"], "--stop-after"),
    "a negative rate limit": (["--rate-limit", "-1"], "--rate-limit"),
    "no concurrency": (["--concurrency", "0"], "--concurrency"),
    "a region that is not one": (["--region", "XYZ"], "--region"),
    "a template naming a missing column": (["--template", "{nope}"], "nope"),
    "resend without resume": (["--resend-unknown"], "--resend-unknown needs --resume"),
    "a PostgreSQL journal without workers": (
        ["--journal", "postgresql://u@127.0.0.1:1/db"],
        "add --celery",
    ),
    "workers and a results file of no known format": (
        [
            *("--journal", "postgresql://u@127.0.0.1:1/db", "--celery", "redis://127.0.0.1:1/0"),
            *("--output", "x.txt"),
        ],
        "--output: must end in .csv",
    ),
}


@pytest.mark.parametrize("where", ["embedded sandbox", "the API"])
@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_a_bulk_usage_error_creates_nothing(
    case: str,
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every option is checked before a journal, a results file, a lock or the embedded
    sandbox's record exists: the corrected command must not then be refused as "exists
    already", and nothing is left to clean up."""
    flags, said = USAGE_ERRORS[case]
    folder = tmp_path / "work"
    folder.mkdir()
    scratch = tmp_path / "tmp"  # the temporary folders of the run (its sandbox's record)
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    monkeypatch.chdir(folder)
    write(folder / "n.csv", "to,name\n27820000001,Ann\n27820000002,Bob\n")
    with contextlib.ExitStack() as stack:
        if where == "the API":
            sb = stack.enter_context(Sandbox(api_keys=("key",)))
            monkeypatch.setenv("CLICKATELL_API_KEY", "key")
            monkeypatch.setenv("CLICKATELL_BASE_URL", sb.base_url)
        else:
            monkeypatch.delenv("CLICKATELL_API_KEY", raising=False)
            monkeypatch.delenv("CLICKATELL_BASE_URL", raising=False)
        before = snapshot(folder)
        argv = ["--csv", "n.csv", "--progress", "none"]
        if "--template" not in flags:
            argv += ["--text", "hi"]
        if not any(flag in flags for flag in ("--journal", "--resend-unknown")):
            argv += ["--journal", "u.journal"]  # the documented command names one
        assert run(*argv, *flags) == 2, case
        err = capsys.readouterr().err
        assert said in err, err
        assert snapshot(folder) == before, case
        assert not list(scratch.iterdir()), case
        if where == "the API":
            assert not sb.messages()


def test_send_many_checks_every_output_before_it_creates_one(tmp_path: Path) -> None:
    from clickatell_sms import Client
    from clickatell_sms.bulk import send_many
    from clickatell_sms.errors import ValidationError

    journal = tmp_path / "u.journal"
    with Sandbox(api_keys=("key",)) as sb, Client("key", base_url=sb.base_url) as client:
        bad: list[dict[str, object]] = [
            {"output": tmp_path / "x.txt"},
            {"output": tmp_path / "no" / "x.csv"},
            {"output": tmp_path / "x.csv", "output_format": "xml"},
            {"journal_sync": "sometimes"},
        ]
        for options in bad:
            with pytest.raises(ValidationError):
                send_many(client, ["27820000001"], "hi", journal=journal, **options)  # type: ignore[arg-type]
            assert not list(tmp_path.iterdir()), options
        assert not sb.messages()


# -- sending a campaign again on purpose, and what a resume needs -----------------------------


def test_new_campaign_sends_again_in_a_new_journal_and_keeps_the_earlier_one(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = write(tmp_path / "p.csv", "to\n27820000001\n27820000002\n")
    argv = ["--csv", str(people), "--text", "hello", "--progress", "none"]
    assert run(*argv) == 0
    journal = tmp_path / "p.csv.journal"
    kept = journal.stat().st_mtime_ns
    capsys.readouterr()
    assert run(*argv) == 2
    assert "continue that run with --resume" in (err := capsys.readouterr().err)
    assert "send it all again on purpose with --new-campaign" in err
    assert run(*argv, "--new-campaign") == 0
    assert "this new campaign is journalled in" in capsys.readouterr().err
    assert run(*argv, "--new-campaign") == 0
    assert (tmp_path / "p.csv.2.journal").exists() and (tmp_path / "p.csv.3.journal").exists()
    assert journal.stat().st_mtime_ns == kept  # the earlier campaign's record, untouched
    assert sorted(m.to for m in sandbox.messages()) == ["27820000001"] * 3 + ["27820000002"] * 3
    assert run(*argv, "--new-campaign", "--resume", str(journal)) == 2
    assert "--new-campaign starts a campaign, --resume continues one" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--text", "hi"], "--csv FILE is required (only --resume CAMPAIGN_ID with --celery"),
        (["--csv", "p.csv"], "one of --text, --text-column or --template is required"),
        (["--resume", "p.csv.journal", "--text", "hi"], "--csv FILE is required"),
    ],
)
def test_what_only_a_campaign_on_workers_can_do_without(
    argv: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A journal file does not hold its rows (the CSV is read again on resume); a campaign in
    PostgreSQL does, so only `--resume ID --celery` goes without --csv and the message."""
    assert run(*argv) == 2
    assert said in capsys.readouterr().err


def test_the_resume_command_in_the_docs_is_one_the_command_takes() -> None:
    """docs/scale-out.md shows the command bulk prints; it parses, and needs no CSV."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "scale-out.md").read_text()
    shown = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith("clickatell-sms bulk --resume")
    ]
    assert shown, "docs/scale-out.md shows no resume command"
    parser = argparse.ArgumentParser()
    cli_bulk.add_arguments(parser)
    for line in shown:
        args = parser.parse_args(shlex.split(line)[2:])
        assert args.csv is None and args.content is None
        assert args.resume and args.journal.startswith("postgresql://") and args.celery
