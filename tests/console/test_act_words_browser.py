"""What a French community manager sees in headless Chromium (Debian's, driven by
Playwright), in an English browser: the Act page's row of an onboarding reminder with its
title, date and state in French; a 40-line draft with errors as a compact code view, one
row per line, on a desk and on a 375 px phone; the timeline's day fields in French."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from rallybot.storage import outbox
from rallybot.storage.models import Member
from tests.console.conftest import NOW, LiveConsole, sign_in_with_link, watch_page
from tests.console.test_act_steps_words import CAMPAIGN, _row

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

DRAFT = """\
id: draft
title: A draft
timezone: Europe/Paris
locale: fr
milestones:
  launch: 2030-03-04 09:30
channels:
  news: general
  help: connect-help
audiences:
  pilots: { cohort: pilot }
steps:
  - id: teaser-1
    at: lunch - 30d at 09:00
    post: news
    text: "Soon."
  - id: teaser-2
    at: launch - 21d at 09:00
    post: news
    text: "Three weeks to go."
  - id: teaser-3
    at: launch - 14d at 09:00
    post: nwes
    text: "Two weeks."
  - id: teaser-4
    at: launch - 7d at 09:00
    post: news
    text: "One week."
  - id: invitation
    for: pilot
    at: launch - 3d at 10:00
    dm: "Hello {first_nam}, you are in the pilot."
  - id: announcement
    at: launch
    post: news
    text: "We are live!"
  - id: digest
    every: monday at 09:00
    until: launch + 90d
    post: news
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_french_manager_in_an_english_browser(
    live_console: LiveConsole, chromium: str, browser_errors: list[str]
) -> None:
    from playwright.async_api import async_playwright

    assert len(DRAFT.splitlines()) == 40
    db = live_console.env.db
    async with db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        waiting = _row("profile-nudge", 1, "pending", NOW + timedelta(days=1, hours=2))
        await outbox.insert_deliveries(session, [waiting])
    link = await live_console.link()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = await browser.new_context(
                locale="en-US", viewport={"width": 1280, "height": 900}
            )
            page = await context.new_page()
            watch_page(page, browser_errors)
            await sign_in_with_link(page, link)

            # Act: the reminder of the profile task, by its label, its date and its state.
            await page.goto(f"{live_console.url}/act")
            row = page.locator(f"#step-{CAMPAIGN}-profile-nudge")
            header = await row.get_by_role("rowheader").inner_text()
            assert "Parcours d'arrivée : Compléter votre profil (photo et fonction)" in header
            assert "Votre profil est presque prêt" in header
            when = row.locator(".step-when time")
            assert await when.inner_text() == "2 sept. 2026, 11:00"  # London (BST)
            assert await when.get_attribute("datetime") == "2026-09-02T11:00:00+01:00"
            assert await row.locator(".step-state .badge").inner_text() == "en attente"
            assert await row.locator(".step-state .counts").inner_text() == "1 en attente"
            await row.get_by_role("link", name="Envoyer maintenant…").click()
            question = await page.locator("#act-question").inner_text()
            assert "Compléter votre profil" in question and "membre" in question

            # Check a draft: one row per line, the error under its line.
            for width in (1280, 375):
                await page.set_viewport_size({"width": width, "height": 800})
                await page.goto(f"{live_console.url}/drafts")
                await page.fill("#draft-text", DRAFT)
                await page.locator("form.draft-form button[type=submit]").click()
                lines = page.locator("#draft-result [id^=L]")  # the lines, whatever their markup
                await page.locator("#L14.has-error").wait_for()
                assert await lines.count() == 40
                heights = await lines.evaluate_all(
                    """rows => rows.map(r => [r.id, r.className,
                        r.getBoundingClientRect().height,
                        parseFloat(getComputedStyle(r.querySelector('code')).lineHeight),
                        r.querySelector('code').textContent.length])"""
                )
                line_height = heights[0][3]
                for name, marked, height, _lh, length in heights:
                    if not marked and length <= 30:  # short enough for a phone's row
                        assert height <= 1.5 * line_height, (width, name, height)
                marked = {name for name, cls, *_ in heights if cls}
                assert marked == {"L14", "L23", "L30", "L32", "L37"}, marked
                message = page.locator("#L14 .inline-error")
                assert "lunch" in await message.inner_text()
                total = await page.locator("#L1").evaluate(
                    "l => l.parentElement.getBoundingClientRect().height"
                )
                # 40 lines and 5 messages (two lines each on a phone) in ~60 text lines
                assert total <= 60 * line_height, (width, total, line_height)
                overflow = await page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, (width, overflow)
            await page.set_viewport_size({"width": 1280, "height": 900})

            # The timeline's day fields: in French, whatever the browser's language.
            await page.goto(f"{live_console.url}/timeline")
            start = page.get_by_label("Du (jour)")
            assert await start.get_attribute("type") in (None, "text")
            assert await start.get_attribute("placeholder") == "jj/mm/aaaa"
            await start.fill("15/09/2026")
            await page.get_by_label("Au (jour, inclus)").fill("15/09/2026")
            await page.get_by_role("button", name="Afficher").click()
            await page.wait_for_url(lambda url: "from=15%2F09%2F2026" in url)
            assert await page.get_by_label("Du (jour)").input_value() == "15/09/2026"
            assert await page.locator("#f-from-hint").inner_text() == "15 sept. 2026"
            days = await page.locator("table.timeline tbody tr td:first-child").all_inner_texts()
            assert days and all(day.startswith("15 sept. 2026") for day in days), days
        finally:
            await browser.close()
