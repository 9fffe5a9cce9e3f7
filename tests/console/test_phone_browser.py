"""Every console page on a phone (375 x 740) in headless Chromium (Debian's, driven by
Playwright), in French: nothing scrolls sideways, neither the page nor a table or a box in
it; wide tables are stacked rows, each cell under its column's name; the Act page's buttons
and the calendar's Sunday are on the screen; the file field speaks French."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.models import Member
from tests.console.conftest import NOW, LiveConsole, watch_page
from tests.console.test_words_not_ids import add_sends

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

PHONE = {"width": 375, "height": 740}

# A submission's link with no place to break: the Approvals card must wrap it.
LONG_LINK = "https://files.example.com/" + "VeryLongScreenshotName_" * 8 + "desk.png"

# What scrolls sideways on the page: the document, and every element that would scroll
# (overflow auto or scroll) with more content than room; every table wider than the screen.
SIDEWAYS = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth)
    found.push(`document +${root.scrollWidth - root.clientWidth}`);
  for (const el of document.querySelectorAll("body *")) {
    const x = getComputedStyle(el).overflowX;
    if ((x === "auto" || x === "scroll") && el.scrollWidth > el.clientWidth)
      found.push(`${el.tagName}.${el.className} +${el.scrollWidth - el.clientWidth}`);
  }
  for (const table of document.querySelectorAll("table")) {
    const box = table.getBoundingClientRect();
    if (box.left < 0 || box.right > root.clientWidth)
      found.push(`table.${table.className} ${box.left}..${box.right}`);
  }
  return found;
}"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_page_fits_a_phone(
    live_console: LiveConsole, chromium: str, browser_errors: list[str]
) -> None:
    from playwright.async_api import async_playwright

    db = live_console.env.db
    async with db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        await add_sends(session, NOW - timedelta(days=1))
        member = (await session.execute(sa.select(Member.id).limit(1))).scalar_one()
        session.add(
            ChallengeSubmission(
                challenge="connect-launch/photo",
                member_id=member,
                text=f"my desk {LONG_LINK}",
                submitted_at=NOW - timedelta(hours=1),
            )
        )
    link = await live_console.link()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = await browser.new_context(locale="en-US", viewport=PHONE)
            page = await context.new_page()
            watch_page(page, browser_errors)
            await page.goto(link)
            await page.locator("main form button[type=submit]").click()
            await page.wait_for_url(lambda url: "/signin" not in url)

            links = page.get_by_role("navigation").get_by_role("link")
            pages = [str(href) for href in await links.evaluate_all("a => a.map(l => l.href)")]
            assert len(pages) >= 9, pages
            url = live_console.url
            pages += [
                f"{url}/timeline?view=calendar&month=2026-09",
                f"{url}/timeline?to=2026-09-30",
            ]
            for address in pages:
                await page.goto(address)
                assert await page.evaluate(SIDEWAYS) == [], address
                # a stacked table names each cell by its column (but its buttons)
                for cell in await page.locator("table.stack td:not(.actions)").all():
                    if (await cell.inner_text()).strip():
                        label = await cell.get_attribute("data-label")
                        assert label and label.strip(), (address, await cell.inner_html())

            # Act: every step's buttons on the screen, not beyond its right edge.
            await page.goto(f"{url}/act")
            buttons = page.locator("table.act-steps .actions :is(button, a.button)")
            assert await buttons.count() >= 3
            for right in await buttons.evaluate_all(
                "bs => bs.map(b => b.getBoundingClientRect().right)"
            ):
                assert 0 < right <= PHONE["width"], right
            where = (
                await page.locator("table.act-steps tbody tr")
                .first.locator("td[data-label]")
                .first.evaluate("td => getComputedStyle(td, '::before').content")
            )
            assert where == '"Campagne"', where

            # The calendar: Sunday's column on the screen, a busy day's count a number.
            await page.goto(f"{url}/timeline?view=calendar&month=2026-09")
            sunday = page.locator("table.calendar thead th").nth(6)
            assert await sunday.inner_text() == "dim."
            box = await sunday.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
            busy = page.locator("table.calendar td.busy a").first
            assert (await busy.inner_text()).strip().isdigit()
            assert "message" in (await busy.get_attribute("aria-label") or "")

            # The timeline's sends: their words and campaign, not their ids alone.
            await page.goto(f"{url}/timeline?to=2026-09-30")
            text = await page.locator("table.timeline").inner_text()
            assert "connect-launch.preview" not in text and "Connect launch" in text
            assert "aperçu pour Morgan Manager" in text and "envoyé maintenant" in text

            # The roster's file field, in French in this English-speaking browser: reached
            # with the keyboard, named by its label, the chosen file's name shown.
            await page.goto(f"{url}/members")
            field = page.get_by_label("Fichier de la liste")
            assert await field.get_attribute("type") == "file"
            await page.locator("#roster-dates").focus()  # the field before it, backwards
            await page.keyboard.press("Shift+Tab")
            await page.keyboard.press("Shift+Tab")
            assert await page.evaluate("document.activeElement.id") == "roster-file"
            button = page.locator("label.file-button")
            assert await button.inner_text() == "Choisir un fichier…"
            assert await button.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
            shown = page.locator("#roster-file-name")
            assert await shown.inner_text() == "Aucun fichier choisi"
            await field.set_input_files(
                files=[{"name": "pilote.csv", "mimeType": "text/csv", "buffer": b"id\n"}]
            )
            assert await shown.inner_text() == "pilote.csv"
            assert await page.evaluate(SIDEWAYS) == []

            # Approvals: a submission's long link wraps inside its card.
            await page.goto(f"{url}/approvals")
            shown = page.locator(f'.card a[href="{LONG_LINK}"]')
            assert await shown.count() == 1
            right = await shown.evaluate("a => a.getBoundingClientRect().right")
            assert 0 < right <= PHONE["width"], right
            assert await page.evaluate(SIDEWAYS) == []
        finally:
            await browser.close()
