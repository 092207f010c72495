"""A real browser for the tests: headless Chromium driven over its DevTools pipe.

`--remote-debugging-pipe` makes Chromium read DevTools commands (JSON, each ended by a NUL) on
its descriptor 3 and answer on 4, so no port, no WebSocket and no client library are needed. A
page is opened with JavaScript off (the report must render without it), laid out at a given
width, measured (each element's box, from the DOM, in CSS pixels) and photographed whole.
`decode_png` reads the screenshot with the standard library.
"""

from __future__ import annotations

import base64
import json
import os
import select
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--remote-debugging-pipe",
)


@dataclass(frozen=True)
class Box:
    """An element's border box, in CSS pixels from the page's top left corner."""

    x: float
    y: float
    width: float
    height: float


class Chromium:
    """One headless Chromium with a fresh profile, until `close()`."""

    def __init__(self, binary: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="clickatell-chromium-")
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def descriptors() -> None:  # in the child, before exec: its 3 and 4 are the pipes
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=descriptors,
            pass_fds=(3, 4),
        )
        os.close(commands_read)
        os.close(answers_write)
        self._next = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
        os.close(self._answers)
        self._profile.cleanup()

    # -- the protocol ----------------------------------------------------------------------

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            found = self._read()
            if found.get("id") == self._next:
                if "error" in found:
                    raise RuntimeError(f"{method}: {found['error']}")
                result: dict[str, Any] = found.get("result", {})
                return result
            self._events.append(found)

    def wait_for(self, event: str) -> dict[str, Any]:
        for index, seen in enumerate(self._events):
            if seen.get("method") == event:
                return self._events.pop(index)
        while True:
            found = self._read()
            if found.get("method") == event:
                return found
            self._events.append(found)

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(remaining, 0))
            if not ready:
                raise TimeoutError(f"Chromium said nothing for {self.timeout:g} s")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed its pipe (exit {self.proc.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        found: dict[str, Any] = json.loads(message)
        return found

    # -- a page ----------------------------------------------------------------------------

    def open(self, page: Path, width: int) -> Page:
        """Open `page` with JavaScript off, laid out `width` CSS pixels wide, its viewport as
        tall as the page."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Emulation.setScriptExecutionDisabled", session, value=True)
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False}
        self.send("Emulation.setDeviceMetricsOverride", session, **metrics)
        self.send("Page.enable", session)
        self.send("Page.navigate", session, url=page.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        height = self.send("Page.getLayoutMetrics", session)["cssContentSize"]["height"]
        metrics["height"] = int(height) + 1
        self.send("Emulation.setDeviceMetricsOverride", session, **metrics)
        return Page(self, target, session)


@dataclass
class Page:
    """An open page: the boxes of its elements and pictures of it."""

    browser: Chromium
    target: str
    session: str

    def box(self, selector: str) -> Box:
        """The border box of the first element `selector` finds (AssertionError: none)."""
        send = self.browser.send
        root = send("DOM.getDocument", self.session)["root"]["nodeId"]
        node = send("DOM.querySelector", self.session, nodeId=root, selector=selector)
        if not node.get("nodeId"):
            raise AssertionError(f"the page has no {selector}")
        quad = send("DOM.getBoxModel", self.session, nodeId=node["nodeId"])["model"]["border"]
        xs, ys = quad[0::2], quad[1::2]
        return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    def screenshot(self, clip: Box | None = None, scale: float = 1.0) -> bytes:
        """A PNG of the whole page, or of `clip` (at `scale`)."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = {
                "x": clip.x,
                "y": clip.y,
                "width": clip.width,
                "height": clip.height,
                "scale": scale,
            }
        shot = self.browser.send("Page.captureScreenshot", self.session, **params)["data"]
        return base64.b64decode(shot)

    def close(self) -> None:
        self.browser.send("Target.closeTarget", targetId=self.target)


# -- PNG -------------------------------------------------------------------------------------


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * size
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, size)
        rows.append(
            bytes(line) if size == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3)
        )
        previous = line
    return width, height, rows


def _unfilter(kind: int, line: bytearray, above: bytearray, size: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - size] if i >= size else 0
        up = above[i]
        corner = above[i - size] if i >= size else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + nearest) & 0xFF
    return line


def inked(png: bytes, background: tuple[int, int, int] = (255, 255, 255)) -> float:
    """The share of a picture's pixels that are not the background colour (nor near it)."""
    width, _, rows = decode_png(png)
    total = marked = 0
    for row in rows:
        for x in range(width):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            total += 1
            if max(abs(r - background[0]), abs(g - background[1]), abs(b - background[2])) > 24:
                marked += 1
    return marked / total if total else 0.0
