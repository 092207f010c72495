"""The `CLICKATELL_*` variables: each read in `settings`, a bad value named by its variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clickatell_sms import ValidationError
from clickatell_sms.config import ClientConfig
from clickatell_sms.settings import (
    ALLOW_INSECURE_HTTP_ENV,
    CELERY_VISIBILITY_ENV,
    LOG_ENV,
    log_level,
    read,
    read_flag,
    read_seconds,
)


def test_an_empty_variable_counts_as_unset() -> None:
    assert read("CLICKATELL_X", {"CLICKATELL_X": ""}) is None
    assert read("CLICKATELL_X", {}) is None
    assert read("CLICKATELL_X", {"CLICKATELL_X": "v"}) == "v"


def test_a_bad_number_of_seconds_names_the_variable() -> None:
    assert read_seconds(CELERY_VISIBILITY_ENV, 3600, {}) == 3600
    assert read_seconds(CELERY_VISIBILITY_ENV, 3600, {CELERY_VISIBILITY_ENV: " 60 "}) == 60
    for bad in ("an hour", "0", "-5", "1.5"):
        with pytest.raises(ValidationError) as caught:
            read_seconds(CELERY_VISIBILITY_ENV, 3600, {CELERY_VISIBILITY_ENV: bad})
        assert caught.value.field == CELERY_VISIBILITY_ENV
        assert caught.value.value == bad
        assert str(caught.value).startswith("CLICKATELL_CELERY_VISIBILITY: must be a whole number")


def test_a_yes_or_no_variable_is_checked() -> None:
    assert read_flag(ALLOW_INSECURE_HTTP_ENV, {ALLOW_INSECURE_HTTP_ENV: "Yes"}) is True
    assert read_flag(ALLOW_INSECURE_HTTP_ENV, {ALLOW_INSECURE_HTTP_ENV: "off"}) is False
    with pytest.raises(ValidationError) as caught:
        ClientConfig.from_env(environ={"CLICKATELL_API_KEY": "k", ALLOW_INSECURE_HTTP_ENV: "maybe"})
    assert caught.value.field == ALLOW_INSECURE_HTTP_ENV


def test_the_client_settings_come_from_the_mapping_given() -> None:
    config = ClientConfig.from_env(
        environ={
            "CLICKATELL_API_KEY": "key-from-env",
            "CLICKATELL_BASE_URL": "http://127.0.0.1:9",
            "CLICKATELL_INTEGRATION": "http",
        }
    )
    assert (config.api_key, config.base_url, config.integration) == (
        "key-from-env",
        "http://127.0.0.1:9",
        "http",
    )
    with pytest.raises(ValidationError, match=r"from CLICKATELL_INTEGRATION"):
        ClientConfig.from_env(environ={"CLICKATELL_API_KEY": "k", "CLICKATELL_INTEGRATION": "soap"})


def test_an_unknown_log_level_warns_by_name_and_sets_no_handler() -> None:
    assert log_level({LOG_ENV: "debug"}) == "DEBUG"
    assert log_level({}) is None
    with pytest.warns(UserWarning, match="CLICKATELL_LOG='loud'"):
        assert log_level({LOG_ENV: "loud"}) is None
    # At import, the package still loads.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import logging, clickatell_sms; print(logging.getLogger('clickatell_sms').handlers)",
        ],
        capture_output=True,
        text=True,
        env={"CLICKATELL_LOG": "loud", "PATH": ""},
        check=True,
    )
    assert done.stdout.strip() == "[]"
    assert "CLICKATELL_LOG" in done.stderr


def test_the_workers_visibility_is_checked_when_the_app_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("celery")
    from clickatell_sms.bulk.celery import make_app
    from clickatell_sms.worker import shard_client

    monkeypatch.setenv(CELERY_VISIBILITY_ENV, "120")
    app = make_app(shard_client, broker="memory://")
    assert app.conf.broker_transport_options == {"visibility_timeout": 120}
    monkeypatch.setenv(CELERY_VISIBILITY_ENV, "two minutes")
    with pytest.raises(ValidationError, match="CLICKATELL_CELERY_VISIBILITY"):
        make_app(shard_client, broker="memory://")
