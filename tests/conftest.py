"""Shared paths for the test suite. Fixtures that start servers live with the code they test."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seed-examples"


@pytest.fixture(scope="session")
def seeds() -> Path:
    """The API's own example documents, laid beside the checkout as ../shared/seed-examples."""
    if not SEEDS.is_dir():
        pytest.fail(f"the seed examples are missing: expected them at {SEEDS}")
    return SEEDS


@pytest.fixture(autouse=True)
def _no_clickatell_settings_from_the_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own CLICKATELL_* variables must not change what the tests see."""
    for name in ("CLICKATELL_API_KEY", "CLICKATELL_BASE_URL", "CLICKATELL_INTEGRATION"):
        monkeypatch.delenv(name, raising=False)
