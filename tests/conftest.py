"""Shared paths for the test suite. Fixtures that start servers live with the code they test."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "spec" / "examples"

# scripts/test runs the suite on two xdist workers (`--dist loadgroup`). The tests that share the
# one PostgreSQL server and Redis that scripts/services starts run on one worker, one after
# another: some flush Redis, one restarts PostgreSQL under everyone's connections. (The mark is
# inert without xdist.)
SHARED_SERVICES = pytest.mark.xdist_group("postgresql-redis")


@pytest.fixture(scope="session")
def seeds() -> Path:
    """The API's own example documents: the project's copies in spec/examples (a clone has
    nothing beside it, so no test may reach outside the checkout)."""
    return SEEDS


@pytest.fixture(autouse=True)
def _no_clickatell_settings_from_the_outside(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A developer's own CLICKATELL_* variables must not change what the tests see, and no test
    may read or write the user's own data folder (the opt-out store every send checks): each
    test has a data folder and an opt-out store of its own, which the commands it starts in
    other processes inherit."""
    for name in ("CLICKATELL_API_KEY", "CLICKATELL_BASE_URL", "CLICKATELL_INTEGRATION"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("CLICKATELL_OPT_OUTS", str(data / "opt-outs.sqlite"))


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C works in the tests however the suite was started. A shell starts a background job
    (`scripts/test &`, some CI runners) with SIGINT ignored, and an ignored signal stays ignored
    in every child: the tests that interrupt a command, in this process or in a child, would
    then see nothing happen. A handler (unlike "ignore") goes back to the default at exec."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_UNGROUPED = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker under `--dist loadgroup`, xdist has by now put each test's group at
    the end of its node ID, which is all its scheduler reads. A pytest whose node IDs take no
    such change would run the tests that share PostgreSQL and Redis side by side, failing at
    random: each of them fails at once instead, saying why."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            item.stash[_UNGROUPED] = (
                f"--dist loadgroup did not group {item.nodeid}: this pytest and pytest-xdist"
                " do not work together (see the pins in pyproject.toml's dev extra)"
            )


@pytest.fixture(autouse=True)
def _grouped_as_marked(request: pytest.FixtureRequest) -> None:
    if _UNGROUPED in request.node.stash:
        pytest.fail(request.node.stash[_UNGROUPED], pytrace=False)
