"""A dry run counts what a real run sends: `bulk --dry-run` (and `send_many(dry_run=True)`) on
the same file as a real `bulk` against a real sandbox, compared count by count, and part by part
with what the sandbox charged. Then what the dry run prints, what it refuses and what it leaves
behind (nothing).

Cost on the 2-core machine: the 100,000-row comparison about 15 s (two command runs, one of
them sending to the sandbox in this process), the rest a few seconds together.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clickatell_sms import Client
from clickatell_sms.async_client import AsyncClient
from clickatell_sms.bulk import BulkSummary, DryRun, send_many
from clickatell_sms.bulk.csv_input import CSVSource, Template
from clickatell_sms.encoding import estimate
from clickatell_sms.errors import ValidationError
from clickatell_sms.opt_outs import open_opt_outs
from clickatell_sms.sandbox import Sandbox

from .test_delivery_end_to_end import cli

NAMES = ["Anna", "José", "Zoë", "Łukasz", "Chen", "Émile", "Noor", "Sipho", "Ngozi", "Åsa"]
NOTES = [
    "",
    "Reply STOP to opt out.",
    "Your parcel is at the depot on Main Street and can be collected between 08:00 and 17:00"
    " on weekdays; bring your ID and the slip we sent you. Reply STOP to opt out.",
    "Ваша посылка ждёт вас в пункте выдачи на главной улице: заберите её до пятницы, пожалуйста,"
    " с документом.",
]


def write_campaign(path: Path, rows: int) -> dict[str, int]:
    """A template's columns for `rows` rows, GSM-7 and UCS-2 names and notes of 1 to 3 parts,
    with bad rows (too short, too many fields, no number) and repeats of an earlier row's
    number and text; returns how many of each were written."""
    made = Counter[str]()
    with path.open("w", encoding="utf-8") as out:
        out.write("to,name,note\n")
        for i in range(rows):
            kind = _kind(i)
            made[kind] += 1
            j = i - 1000 if kind == "repeat" else i  # the same number and text as row j
            line = {
                "invalid-short": f"12345,{NAMES[i % 10]},x",
                "invalid-fields": f"2783{i:06d}0,too,many,fields",
                "invalid-empty": f",{NAMES[i % 10]},",
            }.get(kind, f"2783{j:06d}0,{NAMES[j % 10]},{_note(j)}")
            out.write(line + "\n")
    made["invalid"] = sum(n for k, n in made.items() if k.startswith("invalid-"))
    return dict(made)


def _kind(i: int) -> str:
    if i % 997 == 13:
        return "invalid-short"
    if i % 1009 == 17:
        return "invalid-fields"
    if i % 1013 == 19:
        return "invalid-empty"
    if i % 499 == 7 and i > 1000 and _kind(i - 1000) == "row":
        return "repeat"
    return "row"


def _note(i: int) -> str:
    note = NOTES[(i // 10) % len(NOTES)]
    return f'"{note}"' if "," in note else note


TEMPLATE = "Hi {name}. {note}"


@pytest.mark.slow
def test_a_dry_run_of_100000_rows_agrees_with_the_real_run_and_the_sandboxs_charges(
    tmp_path: Path,
) -> None:
    people = tmp_path / "people.csv"
    made = write_campaign(people, 100_000)
    assert made["invalid"] > 250 and made["repeat"] > 150
    with contextlib.closing(open_opt_outs()) as store:  # the default store (CLICKATELL_OPT_OUTS)
        for i in range(5, 100_000, 9973):
            store.opt_out(f"2783{i:06d}0")
    dry = cli("bulk", "--csv", str(people), "--template", TEMPLATE, "--dry-run", "--json")
    assert dry.returncode == 1, dry.stderr  # some rows would not be sent
    predicted = json.loads(dry.stdout.splitlines()[-1])
    assert not list(tmp_path.glob("*.journal"))  # a dry run makes no journal

    with Sandbox(balance=10**9) as sb:
        env = {
            **os.environ,
            "CLICKATELL_API_KEY": "sandbox-key",
            "CLICKATELL_BASE_URL": sb.base_url,
        }
        real = cli("bulk", "--csv", str(people), "--template", TEMPLATE, "--json",
                   "--progress", "none", env=env)  # fmt: skip
        records = sb.messages()
    assert real.returncode == 1, real.stderr
    summary = json.loads(real.stdout.splitlines()[-1])

    # a dry run's summary is the real run's: every count, the requests and the parts
    counts = ("total", "accepted", "rejected", "failed", "unknown", "opted_out", "invalid",
              "duplicates", "opt_outs_ignored", "batches", "sent", "parts")  # fmt: skip
    assert {k: predicted[k] for k in counts} == {k: summary[k] for k in counts}
    assert predicted["rows"] == 100_000 and predicted["opted_out"] == 11
    assert predicted["duplicates"] == made["repeat"] and predicted["invalid"] == made["invalid"]
    assert predicted["recipients"] == len(records) == summary["accepted"]
    assert predicted["parts"] == sum(r.parts for r in records)
    # message by message: each text's parts as the dry run counts them are what was charged,
    # and the histograms (rows per parts, rows per encoding) are the sandbox's
    assert all(estimate(r.content).parts == r.parts for r in records)
    charged = Counter(str(r.parts) for r in records)
    assert predicted["parts_per_message"] == dict(charged) and len(charged) == 3
    encodings = Counter(estimate(r.content).encoding for r in records)
    assert predicted["encodings"] == dict(encodings) and set(encodings) == {"GSM-7", "UCS-2"}


def test_what_the_dry_run_prints(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    lines = ["to,name"] + [f"2783{i:06d}0,{NAMES[i % 4]}" for i in range(300)]
    lines += [f"99{i},Bad" for i in range(23)] + ["27830000000,Anna"]
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = cli("bulk", "--csv", str(people), "--template", "Hi {name}", "--dry-run",
               "--rate-limit", "20", "--price-per-part", "0.0325")  # fmt: skip
    assert done.returncode == 1, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == f"{people}: line 302: has 3 digits; too short for any country"
    assert out[20] == f"{people}: 3 more bad rows"
    assert out[21:32] == [
        "dry run: nothing was sent, no journal was made",
        "  rows                      324",
        "  valid                     301",
        "  invalid                    23",
        "  duplicates                  1",
        f"  opted out                   0  (checked in {os.environ['CLICKATELL_OPT_OUTS']})",
        "  to send                   300  in 16 requests",
        "  encodings        GSM-7 150 (50.0%), UCS-2 150 (50.0%)",
        "  parts per message",
        "         1 part            300  ##############################",
        "  total parts               300",
    ]
    assert out[32:] == ["  at --rate-limit 20/s: 15 s", "  cost at 0.0325 per part: 9.7500"]


def test_a_dry_run_needs_no_key_and_leaves_nothing_behind(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("to\n27830000010\n27830000020\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKATELL_")}
    env.update(TMPDIR=str(scratch), CLICKATELL_OPT_OUTS=str(tmp_path / "o.sqlite"))
    done = cli("bulk", "--csv", str(people), "--text", "hi", "--dry-run", env=env)
    assert done.returncode == 0, done.stderr
    assert "sandbox" not in done.stderr  # no embedded sandbox: nothing to send to
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.sqlite", "people.csv", "tmp"]
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (
            ["--journal", "run.sqlite"],
            "--dry-run writes nothing and runs here: leave out --journal",
        ),
        (["--output", "rows.csv"], "leave out --output"),
        (["--resume", "x.journal"], "leave out --resume"),
        (
            ["--celery", "redis://q", "--journal", "postgresql://db/x"],
            "leave out --journal, --celery",
        ),
    ],
)
def test_the_dry_run_refuses_what_would_write_or_run_elsewhere(
    tmp_path: Path, flags: list[str], problem: str
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("to\n27830000010\n")
    done = cli("bulk", "--csv", str(people), "--text", "hi", "--dry-run", *flags)
    assert done.returncode == 2 and problem in done.stderr, done.stderr
    price = cli("bulk", "--csv", str(people), "--text", "hi", "--price-per-part", "1")
    assert price.returncode == 2 and "--price-per-part needs --dry-run" in price.stderr


def test_send_many_dry_run_counts_messages_too_long_to_send_as_the_real_run_fails_them() -> None:
    long_text = "Z" * (153 * 35 + 1)  # 36 parts: the API allows 35
    rows = [("27830000010", "short"), ("27830000020", long_text), ("27830000030", "ok")]
    recipients = [_recipient(to, text) for to, text in rows]
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        dry = client.send_many(recipients, dry_run=True)
        real = client.send_many(recipients)
    assert (dry.rows, dry.invalid, dry.recipients, dry.parts) == (3, 1, 2, 2)
    assert (real.total, real.invalid, real.accepted, real.parts) == (3, 1, 2, 2)
    assert "needs 36 parts" in dry.invalid_rows[0].reason


def _recipient(to: str, text: str) -> Any:
    from clickatell_sms.bulk import Recipient

    return Recipient(to, text)


def test_send_many_dry_run_refuses_what_would_write_and_sends_nothing(tmp_path: Path) -> None:
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        for writes in ({"journal": tmp_path / "j"}, {"output": tmp_path / "o.csv"},
                       {"on_result": print}):  # fmt: skip
            with pytest.raises(ValidationError, match="dry_run: writes nothing"):
                send_many(client, ["27830000010"], "hi", dry_run=True, **writes)
        report = send_many(client, ["27830000010"] * 3, "hi", dry_run=True, rate_limit=2)
        assert sb.requests_seen == 0 and sb.messages() == []
    assert isinstance(report, DryRun)
    assert (report.recipients, report.duplicates, report.seconds) == (1, 2, 0.5)
    assert report.cost("0.25") == Decimal("0.25")


def test_the_asyncio_client_dry_run_counts_as_the_threaded_one(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    write_campaign(people, 3_000)

    def source() -> CSVSource:
        return CSVSource(people.open("rb"), name="people", template=Template(TEMPLATE))

    async def counted() -> BulkSummary:
        async with AsyncClient("any-key") as client:
            return await client.send_many(source(), dry_run=True)

    with Client("any-key") as client:
        threaded = client.send_many(source(), dry_run=True)
    awaited = asyncio.run(counted())
    threaded.duration = awaited.duration = 0.0
    assert awaited == threaded and threaded.rows == 3_000 and threaded.parts > 3_000


def test_a_dry_run_counts_the_requests_a_rate_limit_makes() -> None:
    people = [f"2783{i:06d}0" for i in range(250)]
    with Sandbox() as sb, Client("sandbox-key", base_url=sb.base_url) as client:
        dry = client.send_many(people, "hi", dry_run=True, rate_limit=100)
        real = client.send_many(people, "hi", rate_limit=100)
    assert dry.requests == real.batches == 3  # a request carries one second's worth
    assert dry.seconds == 2.5


def test_the_engines_faster_paths_give_the_same_keys_and_texts_as_before() -> None:
    """A journal written before keeps its repeats' keys; a template renders as it always did."""
    from clickatell_sms.bulk._batches import Group, dedupe_key

    group = Group("Hi {name}")
    assert group.key("27830000010") == dedupe_key("27830000010", group.digest)
    template = Template("{{x}} {name} and {code}, {name}!")
    render = template.renderer({"name": 2, "code": 0})
    values = ["C1", "unused", "Zoë"]
    assert (
        render(values) == template.render({"name": "Zoë", "code": "C1"}) == "{x} Zoë and C1, Zoë!"
    )
    assert Template("no fields").renderer({})(values) == "no fields"
    assert Template("{only}").renderer({"only": 1})(values) == "unused"


def test_the_dry_runs_memory_of_recipients_is_exact_across_its_runs() -> None:
    """Every key remembered is found with its row, whether it sits in memory or in a run of the
    file (the first and last of a run included); a key never remembered is never found."""
    import random

    from clickatell_sms.bulk.dry_run import _RUN, _Runs

    draw = random.Random(7)
    keys = [draw.getrandbits(64) - (1 << 63) for _ in range(3 * _RUN + 123)]
    runs = _Runs()
    try:
        for start in range(0, len(keys), 200):
            runs.add((key, start + i) for i, key in enumerate(keys[start : start + 200]))
        strangers = [draw.getrandbits(64) - (1 << 63) for _ in range(5000)]
        assert runs.find(strangers) == {}
        sample = [*keys[:300], *keys[_RUN - 5 : _RUN + 5], *keys[-300:], min(keys), max(keys)]
        found = runs.find(sample)
        assert found == {key: keys.index(key) for key in sample}
    finally:
        runs.close()
