"""The HTML report in headless Chromium: no console error, every chart visible, the figures.

Chromium is driven over the DevTools protocol (a plain websocket, with aiohttp). The browser is
Debian's ``chromium`` package: installed here when missing and apt is usable; under ``CI=true``
a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from PIL import Image

from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import CHARTS, chart_pngs, compute, render_html
from rallybot.storage.database import Database
from tests.report.seed import END, START, seed

BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
    "--window-size=1200,900",
)


@dataclass
class Page:
    """One DevTools session on a page: commands, and the events seen so far."""

    ws: aiohttp.ClientWebSocketResponse
    events: list[dict[str, Any]] = field(default_factory=list)
    waiting: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    loaded: asyncio.Event = field(default_factory=asyncio.Event)
    next_id: int = 0

    async def reader(self) -> None:
        async for frame in self.ws:
            message = json.loads(frame.data)
            if "id" in message:
                self.waiting.pop(message["id"]).set_result(message)
            else:
                self.events.append(message)
                if message.get("method") == "Page.loadEventFired":
                    self.loaded.set()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30)
        assert "error" not in reply, reply
        result: dict[str, Any] = reply["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in reply, reply
        return reply["result"]["value"]

    def errors(self) -> list[dict[str, Any]]:
        """Console errors, uncaught exceptions and browser log errors (failed loads...)."""

        def is_error(method: str, params: dict[str, Any]) -> bool:
            if method == "Runtime.consoleAPICalled":
                return params.get("type") in ("error", "assert")
            if method == "Log.entryAdded":
                return bool(params["entry"].get("level") == "error")
            return method == "Runtime.exceptionThrown"

        return [e for e in self.events if is_error(e.get("method", ""), e.get("params", {}))]


@pytest.fixture
async def browser(chromium: str, tmp_path: Path) -> AsyncIterator[str]:
    """A headless Chromium; yields its DevTools HTTP address."""
    process = await asyncio.create_subprocess_exec(
        chromium,
        *BROWSER_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        address = None
        while address is None:  # Chromium prints its DevTools address once it listens
            line = await asyncio.wait_for(process.stderr.readline(), 60)
            assert line, "chromium exited before listening"
            match = re.search(rb"DevTools listening on ws://([^/]+)/", line)
            if match:
                address = match.group(1).decode()
        yield f"http://{address}"
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


@pytest.fixture
async def report_file(db: Database, tmp_path: Path) -> Path:
    await seed(db)
    data = await compute(db, Scope(start=START, end=END), datetime(2026, 11, 23, tzinfo=UTC))
    path = tmp_path / "report.html"
    path.write_text(render_html(data, chart_pngs(data)), encoding="utf-8")
    return path


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_report_in_chromium(browser: str, report_file: Path) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{browser}/json/list") as response:
            targets = await response.json()
        target = next(t for t in targets if t["type"] == "page")
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            reader = asyncio.create_task(page.reader())
            try:
                for domain in ("Page", "Runtime", "Log"):
                    await page.send(f"{domain}.enable")
                await page.send("Page.navigate", url=report_file.as_uri())
                await asyncio.wait_for(page.loaded.wait(), 30)
                await check_page(page)
            finally:
                reader.cancel()


async def check_page(page: Page) -> None:
    assert page.errors() == []
    boxes = await page.evaluate(
        """Array.from(document.querySelectorAll('figure')).map(f => {
             const img = f.querySelector('img'); const r = img.getBoundingClientRect();
             return {id: f.id, x: r.left + scrollX, y: r.top + scrollY, w: r.width,
                     h: r.height, decoded: img.complete && img.naturalWidth > 0};
           })"""
    )
    assert [b["id"] for b in boxes] == [f"chart-{name}" for name in CHARTS]
    width, height = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    shot = await page.send(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    )
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("L"))
    for box in boxes:
        assert box["decoded"], box
        assert box["w"] > 300 and box["h"] > 100, box  # laid out at a readable size
        x, y, w, h = (int(box[k]) for k in ("x", "y", "w", "h"))
        pixels = image[y : y + h, x : x + w].astype(float)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 300, box  # inside the screenshot
        assert pixels.std() > 10, box  # not blank: lines, bars and labels
        assert (pixels < 200).mean() > 0.01, box  # a real share of dark (drawn) pixels
    tables = await page.evaluate(
        """Object.fromEntries(Array.from(document.querySelectorAll('table')).map(t =>
             [t.id, Array.from(t.tBodies[0].rows).map(r =>
               Array.from(r.cells).map(c => c.textContent))]))"""
    )
    assert tables["table-adoption-funnel"] == [
        ["invited", "5", "100%", "—"],
        ["joined", "4", "80%", "80%"],
        ["profile complete", "3", "60%", "75%"],
        ["first post", "2", "40%", "67%"],
        ["first quiz answer", "1", "20%", "50%"],
    ]
    assert tables["table-active-members-per-week"] == [
        ["Nov 2, 2026", "2", "2", "0"],
        ["Nov 9, 2026", "3", "2", "1"],
        ["Nov 16, 2026", "2", "1", "1"],
    ]
    key = dict((row[0], row[1]) for row in tables["table-key-figures"])
    assert key["Mean rating (1-5)"] == "3 (5 ratings)"
    assert key["Median first response"] == "1 h"
    assert key["Median resolution"] == "13 h 30 min"
    assert key["Quiz mean score"] == "75%"
    assert tables["table-challenges"] == [
        # participants, evidence approved / waiting / rejected ("—": nobody sent any),
        # completed, completion, teams
        ["launch/post3", "2", "—", "—", "—", "1", "50%", "0"],
        ["other/react", "2", "—", "—", "—", "0", "0%", "1"],
    ]
    reach = tables["table-reach-of-campaign-posts"]
    assert [row[2] for row in reach] == ["teaser", "hello", "announce"]
    assert reach[0][3:] == ["2", "1", "2", "4", "50%"]
    assert page.errors() == []
