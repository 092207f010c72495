"""`clickatell-sms opt-outs`: the list kept by hand, through the command as a user types it.

Each test runs the command's `main` in this process against a store in its own folder (the
suite's conftest already points the default store at a folder of the test's own), and reads the
store back through the library, so what the command says and what the store holds are checked
against each other.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from clickatell_sms.cli import main
from clickatell_sms.cli.common import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from clickatell_sms.opt_outs import open_opt_outs


def opted_out(store: Path) -> set[str]:
    with open_opt_outs(store) as opened:
        return {opt_out.number for opt_out in opened.iter_opt_outs()}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["opt-outs", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_add_and_remove_change_the_store_every_send_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "opt-outs.sqlite"
    where = ["--opt-outs", str(store)]
    status, out, _ = run(capsys, "add", "+27 82 123 4567", *where)
    assert status == EXIT_OK and "27821234567: opted out" in out
    # the same number written nationally is the same key, so adding it again changes nothing
    status, out, _ = run(capsys, "add", "082 123 4567", "--region", "ZA", *where)
    assert status == EXIT_OK and "was opted out already" in out
    assert opted_out(store) == {"27821234567"}
    status, out, _ = run(capsys, "remove", "0027821234567", *where)
    assert status == EXIT_OK and "opted back in" in out
    assert opted_out(store) == set()
    status, out, _ = run(capsys, "remove", "+27821234567", *where)
    assert status == EXIT_OK and "was not opted out" in out


def test_a_bad_number_is_a_usage_error_that_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "opt-outs.sqlite"
    run(capsys, "add", "+27821234567", "--opt-outs", str(store))
    status, out, err = run(capsys, "add", "not-a-number", "--opt-outs", str(store))
    assert status == EXIT_USAGE and out == ""
    assert "NUMBER" in err  # the error names the argument as the user typed it
    # a national number without --region cannot be keyed: it says how to fix it, by the flag
    status, _, err = run(capsys, "add", "0821234567", "--opt-outs", str(store))
    assert status == EXIT_USAGE and "--region" in err and "default_region" not in err
    assert opted_out(store) == {"27821234567"}


def test_list_shows_every_number_and_json_gives_one_object_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "opt-outs.sqlite"
    for number in ("+27821234567", "+447700900123", "+12025550143"):
        run(capsys, "add", number, "--opt-outs", str(store))
    status, out, err = run(capsys, "list", "--opt-outs", str(store))
    assert status == EXIT_OK
    assert sorted(line.split()[0] for line in out.splitlines()) == [
        "12025550143",
        "27821234567",
        "447700900123",
    ]
    assert "3 numbers opted out in" in err
    status, out, _ = run(capsys, "list", "--json", "--opt-outs", str(store))
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == EXIT_OK and len(rows) == 3
    assert {row["number"] for row in rows} == opted_out(store)
    assert all(row["source"] == "manual" and row["opted_out_at"] for row in rows)


def test_export_then_import_carries_the_list_to_another_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first.sqlite", tmp_path / "second.sqlite"
    for number in ("+27821234567", "+447700900123"):
        run(capsys, "add", number, "--opt-outs", str(first))
    exported = tmp_path / "list.csv"
    status, _, err = run(capsys, "export", str(exported), "--opt-outs", str(first))
    assert status == EXIT_OK and "2 numbers opted out written to" in err
    with exported.open(encoding="utf-8", newline="") as rows:
        written = list(csv.DictReader(rows))
    assert {row["number"] for row in written} == {"27821234567", "447700900123"}
    assert not (tmp_path / "list.csv.partial").exists()
    status, out, _ = run(capsys, "import", str(exported), "--opt-outs", str(second))
    assert status == EXIT_OK and "2 numbers opted out from" in out
    assert opted_out(second) == opted_out(first)


def test_export_to_stdout_is_the_same_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "opt-outs.sqlite"
    run(capsys, "add", "+27821234567", "--opt-outs", str(store))
    status, out, _ = run(capsys, "export", "-", "--opt-outs", str(store))
    assert status == EXIT_OK
    assert [row["number"] for row in csv.DictReader(io.StringIO(out))] == ["27821234567"]


def test_import_keeps_the_good_rows_and_names_each_bad_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "opt-outs.sqlite"
    listed = tmp_path / "old.csv"
    listed.write_text(
        "phone,keyword,opted_out_at\n"
        "+27821234567,STOP,2026-01-02T03:04:05Z\n"
        "nonsense,STOP,\n"
        "082 765 4321,,\n"
        "+447700900123,,2026-01-02 03:04:05\n",  # a time without a zone is refused by line
        encoding="utf-8",
    )
    status, _, err = run(
        capsys, "import", str(listed), "--column", "phone", "--region", "ZA",
        "--opt-outs", str(store),
    )  # fmt: skip
    assert status == EXIT_INCOMPLETE
    assert "line 3" in err and "line 5" in err and "line 2" not in err
    assert opted_out(store) == {"27821234567", "27827654321"}
    with open_opt_outs(store) as opened:
        kept = {opt_out.number: opt_out for opt_out in opened.iter_opt_outs()}
    assert kept["27821234567"].keyword == "STOP" and kept["27821234567"].source == "import"


def test_import_without_the_column_says_which_columns_there_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "old.csv"
    listed.write_text("phone\n+27821234567\n", encoding="utf-8")
    store = tmp_path / "opt-outs.sqlite"
    status, _, err = run(capsys, "import", str(listed), "--opt-outs", str(store))
    assert status == EXIT_USAGE
    assert "no column 'number'" in err and "phone" in err and "--column" in err
    assert not store.exists() or opted_out(store) == set()


def test_without_opt_outs_the_command_uses_the_store_bulk_and_listen_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared.sqlite"
    monkeypatch.setenv("CLICKATELL_OPT_OUTS", str(shared))
    status, out, _ = run(capsys, "add", "+27821234567")
    assert status == EXIT_OK and str(shared) in out
    assert opted_out(shared) == {"27821234567"}
