"""The report's HTML page in a real browser: headless Chromium (from Debian's packages, which
scripts/test installs with scripts/chromium) opens it with JavaScript off, and each chart is
drawn where the page lays it out: its box, found in the DOM, has ink in the screenshot.

`CLICKATELL_UPDATE_SCREENSHOT=1` also writes the whole page's screenshot to
docs/images/delivery-report.png, the picture docs/delivery.md shows.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clickatell_sms import Client
from clickatell_sms.bulk import send_many
from clickatell_sms.bulk.delivery import open_delivery
from clickatell_sms.callbacks import CallbackReceiver
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.report import build_report
from clickatell_sms.report.html import write_html
from clickatell_sms.sandbox import Sandbox

from .conftest import ROOT
from .headless import Chromium, inked

# One xdist worker runs this module: the campaign and the browser are made once for all of it.
pytestmark = pytest.mark.xdist_group("report-page")

SECRET = "report-page-test-secret-0123"
WIDTH = 1000  # CSS pixels: the page's column is 940 wide, so nothing is scaled down
CHARTS = ("#funnel-chart", "#timeline-chart", "#histogram-chart")
SCREENSHOT = ROOT / "docs" / "images" / "delivery-report.png"


def chromium_binary() -> str | None:
    return os.environ.get("CLICKATELL_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("needs Chromium: run scripts/test (or eval $(scripts/chromium))")
    chromium = Chromium(binary)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a 3,000-row campaign sent over a second and a half, whose messages take
    their statuses over the next second: 8% end in failures, 10% of the callbacks are lost."""
    folder = tmp_path_factory.mktemp("report-page")
    journal = folder / "run.sqlite"
    rows = [*(f"2785{i:06d}0" for i in range(3000)), "not a number", "447700900121"]
    with (
        CallbackReceiver(secret=SECRET, journal=journal) as receiver,
        CallbackServer(receiver) as server,
        Sandbox(
            api_keys=("report-page-key",),
            callback_url=f"{server.url}?token={SECRET}",
            status_delays=(0.3, 0.5),
            failure_rate=0.08,
            callback_loss=0.1,
            seed=9,
        ) as sb,
    ):
        with Client("report-page-key", base_url=sb.base_url) as client:
            send_many(
                client, rows, "Our offices are closed on Monday", journal=journal, rate_limit=2000
            )
        time.sleep(1.0)
        assert sb.wait_for_callbacks(120)
    with open_delivery(journal) as store:
        report = build_report(store)
    report.journal = "run.sqlite"  # the picture in the docs shows no temporary folder
    path = folder / "report.html"
    write_html(report, path)
    return path


def test_each_chart_is_drawn_where_the_page_lays_it_out_with_javascript_off(
    browser: Chromium, page: Path, tmp_path: Path
) -> None:
    opened = browser.open(page, WIDTH)
    try:
        ink = {}
        for chart in CHARTS:
            box = opened.box(chart)
            assert box.width >= 800 and box.height >= 200, (chart, box)
            assert box.x + box.width <= WIDTH, (chart, box)  # on the page, not beside it
            ink[chart] = inked(opened.screenshot(box, scale=0.5))
        whole = opened.screenshot()
    finally:
        opened.close()
    print(f"share of each chart's box with ink: {ink}")
    assert ink["#funnel-chart"] > 0.10  # eight bars
    assert ink["#timeline-chart"] > 0.20  # stacked areas filling most of the plot
    assert ink["#histogram-chart"] > 0.02  # bars (few, where the delays fall), axes, grid
    assert whole.startswith(b"\x89PNG") and struct.unpack(">I", whole[16:20])[0] == WIDTH
    (tmp_path / "delivery-report.png").write_bytes(whole)
    if os.environ.get("CLICKATELL_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.write_bytes(whole)


def test_the_pixel_check_sees_a_chart_that_is_not_drawn(
    browser: Chromium, page: Path, tmp_path: Path
) -> None:
    """The same page with the charts' shapes taken out: the boxes are laid out the same, and
    the check finds them blank (so it can fail)."""
    html = page.read_text()
    blank = re.sub(r'(<svg id="[a-z]+-chart"[^>]*>).*?</svg>', r"\1</svg>", html, flags=re.DOTALL)
    assert blank.count("</svg>") == len(CHARTS) and blank != html
    empty = tmp_path / "blank.html"
    empty.write_text(blank)
    opened = browser.open(empty, WIDTH)
    try:
        for chart in CHARTS:
            assert inked(opened.screenshot(opened.box(chart), scale=0.5)) < 0.005, chart
    finally:
        opened.close()


def test_the_docs_show_the_screenshot_this_test_takes() -> None:
    text = (ROOT / "docs" / "delivery.md").read_text()
    assert "](images/delivery-report.png)" in text
    data = SCREENSHOT.read_bytes()
    assert data.startswith(b"\x89PNG") and struct.unpack(">I", data[16:20])[0] == WIDTH
