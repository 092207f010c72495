"""The key is masked where it stands as a value (a header's value, a query value, a quoted
string, a word of its own), as given or percent-encoded, and nowhere else: a short key such as
"k" must leave "look-up" alone. One rule serves the SDK's errors and logs, the answers it keeps,
the sandbox's notes and the conformance report."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from clickatell_sms import ClickatellError, Client
from clickatell_sms.redact import mask_secret, mask_secret_bytes, scrub

from .hostile import Hostile, answer, hostile, read_request

SCRIPT = Path(sys.executable).with_name("clickatell-sms")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("balance look-up failed", "balance look-up failed"),
        ("Authorization: k", "Authorization: ***"),
        ("GET /messages/http/send?to=1&apiKey=k&content=kk", "GET /messages/http/send?to=1&apiKey=***&content=kk"),
        ('{"key": "k", "kind": "k2"}', '{"key": "***", "kind": "k2"}'),
    ],
)  # fmt: skip
def test_a_one_letter_key_is_masked_only_where_it_stands_as_a_value(text: str, shown: str) -> None:
    assert mask_secret(text, "k") == shown
    assert mask_secret_bytes(text.encode(), "k") == shown.encode()


def test_a_key_is_masked_as_given_and_percent_encoded() -> None:
    key = "Ab/9+x=="
    text = f"Authorization: {key}; echoed ?apiKey=Ab%2F9%2Bx%3D%3D&to=1"
    assert mask_secret(text, key) == "Authorization: ***; echoed ?apiKey=***&to=1"
    assert scrub(f"failed for {key}", key) == "failed for ***"
    assert scrub(f"failed for X{key}", key) == f"failed for X{key}"  # not this key: a longer word


def test_the_cli_s_error_with_a_short_key_keeps_its_words() -> None:
    done = subprocess.run(
        [str(SCRIPT), "balance", "--api-key", "k", "--base-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "balance look-up at http://127.0.0.1:9 failed" in done.stderr, done.stderr
    assert "***" not in done.stderr


def test_an_echoed_short_key_is_masked_in_the_error_and_the_raw_answer_but_no_word_is() -> None:
    """A server that echoes the key in its error answer: the key goes, the words stay."""
    key = "k"
    body = json.dumps(
        {"error": "bad key k", "errorCode": 1, "errorDescription": "key k is not known"}
    ).encode()

    def behaviour(conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while (request := read_request(conn, buffer)) is not None:
            server.record(request)
            conn.sendall(answer("401 Unauthorized", body))

    with (
        hostile(behaviour) as server,
        Client(key, base_url=server.url, retries=0) as client,
        pytest.raises(ClickatellError) as caught,
    ):
        client.balance()
    message = str(caught.value)
    assert "key ***" in message and "key k" not in message, message
    raw = caught.value.raw  # type: ignore[attr-defined]
    assert raw is not None
    assert json.loads(raw.body) == {
        "error": "bad key ***",
        "errorCode": 1,
        "errorDescription": "key *** is not known",
    }
