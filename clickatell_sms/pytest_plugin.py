"""pytest fixtures that give a test its own Clickatell sandbox.

Installed with the package and loaded by pytest automatically (entry point `clickatell_sandbox`):

    def test_sends(clickatell_sandbox):
        client = Client(api_key=clickatell_sandbox.api_key, base_url=clickatell_sandbox.base_url)
        client.send(to=["27821234567"], content="hi")
        assert [m.to for m in clickatell_sandbox.messages()] == ["27821234567"]

    @pytest.mark.clickatell_sandbox(two_way_numbers=["27830000001"], seed=7)
    def test_two_way(clickatell_sandbox): ...

`clickatell_sandbox` is a fresh sandbox per test, configured by the test's
`clickatell_sandbox(...)` marker (any `Sandbox` keyword argument). `clickatell_sandbox_session`
is one default sandbox shared by the whole session, for suites that only need "a server" and
want to skip the few milliseconds of start-up per test; its records accumulate.

This module lives outside the sandbox package and imports it only when a fixture is used, so
merely having the SDK installed costs every other pytest start nothing (importing the server
stack at plugin load cost about 80 ms).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .sandbox import Sandbox

_MARKER = "clickatell_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**options): Sandbox(...) keyword arguments for the clickatell_sandbox fixture",
    )


@pytest.fixture
def clickatell_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A running sandbox for this test only, stopped (and its port freed) afterwards."""
    from .sandbox import Sandbox  # the server stack loads only for a test that asks for it

    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{_MARKER} takes keyword arguments only")
        options.update(marker.kwargs)
    with Sandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def clickatell_sandbox_session() -> Iterator[Sandbox]:
    """One default sandbox for the whole session (records accumulate across tests)."""
    from .sandbox import Sandbox  # the server stack loads only for a test that asks for it

    with Sandbox() as sandbox:
        yield sandbox
