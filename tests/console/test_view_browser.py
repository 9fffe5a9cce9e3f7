"""The timeline in headless Chromium (Debian's, driven by Playwright; nothing downloaded):
sign in with a one-time link, see the timeline of the shipped example, open a message's
preview; no console error, no failed request; the timeline and the preview look like their
stored screenshots (within a tolerance).

``RALLYBOT_UPDATE_SCREENSHOTS=1`` writes the screenshots again (after a change of look,
checked by eye)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.console.conftest import LiveConsole, sign_in_with_link, watch_page

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

SCREENSHOTS = Path(__file__).parent / "screenshots"
TOLERANCE = 0.02
"""The share of pixels that may differ (font hinting, anti-aliasing) before a look changed."""


def _same_look(name: str, png: bytes) -> None:
    """``png`` against the stored ``<name>.png``: same size, at most :data:`TOLERANCE` of its
    pixels visibly different."""
    reference = SCREENSHOTS / f"{name}.png"
    if os.environ.get("RALLYBOT_UPDATE_SCREENSHOTS") == "1" or not reference.exists():
        SCREENSHOTS.mkdir(exist_ok=True)
        reference.write_bytes(png)
        if os.environ.get("RALLYBOT_UPDATE_SCREENSHOTS") != "1":
            pytest.fail(f"no stored screenshot {reference.name}: written, check it and commit it")
        return
    shot = Image.open(io.BytesIO(png)).convert("RGB")
    stored = Image.open(reference).convert("RGB")
    assert shot.size == stored.size, (shot.size, stored.size)
    # A pixel differs when one channel moved by more than 32 of 255 (anti-aliasing moves less).
    difference = ImageChops.difference(shot, stored).convert("L").point(lambda v: v > 32 and 255)
    changed = difference.histogram()[255] / (shot.width * shot.height)
    if changed > TOLERANCE:
        (SCREENSHOTS / f"{name}.actual.png").write_bytes(png)
    assert changed <= TOLERANCE, f"{name}: {changed:.1%} of the pixels changed"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_see_the_example_timeline_and_open_a_message_preview(
    live_console: LiveConsole, chromium: str, browser_errors: list[str]
) -> None:
    from playwright.async_api import async_playwright

    link = await live_console.link()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            watch_page(page, browser_errors)
            await sign_in_with_link(page, link)
            await page.get_by_role("navigation").get_by_role("link", name="Timeline").click()
            await page.wait_for_url(f"{live_console.url}/timeline")
            assert await page.get_by_role("heading", level=1).inner_text() == "Timeline"
            rows = page.locator("table.timeline tbody tr")
            assert await rows.count() >= 5
            announcement = rows.filter(has_text="ceo-announcement")
            assert await announcement.count() == 1
            _same_look("timeline", await page.screenshot())
            # The preview opens below the list (htmx), as Slack and as Discord show it.
            await announcement.get_by_role("link").click()
            preview = page.locator("#preview")
            await preview.locator(".pv-slack").wait_for()
            assert await preview.locator(".pv-discord").count() == 1
            assert await preview.get_by_role("heading", name="As Slack shows it").count() == 1
            assert "#announcements" in await preview.inner_text()
            _same_look("preview", await preview.screenshot())
            # The calendar: a month grid, the launch day counted.
            await page.get_by_role("link", name="Calendar").click()
            await page.wait_for_url(lambda url: "view=calendar" in url)
            assert await page.locator("table.calendar td.busy").count() >= 3
            # A mistyped day: said under its field, which keeps what was typed and the focus;
            # the page and its other filters stay (a plain form: the same without script).
            await page.get_by_role("link", name="List").click()
            await page.wait_for_url(lambda url: "view=list" in url)
            await page.get_by_label("Campaign").select_option("connect-launch")
            await page.get_by_label("From (day)").fill("02/31/2026")
            await page.get_by_label("From (day)").press("Enter")
            await page.wait_for_url(lambda url: "from=02" in url)
            field = page.get_by_label("From (day)")
            assert await field.input_value() == "02/31/2026"
            assert await field.get_attribute("aria-invalid") == "true"
            assert await field.evaluate("e => e === document.activeElement")
            problem = page.locator("#f-from-error")
            assert "is not a day" in await problem.inner_text()
            assert await problem.is_visible()
            assert await page.get_by_label("Campaign").input_value() == "connect-launch"
            assert await page.locator("table.timeline tbody tr").count() >= 5
        finally:
            await browser.close()
