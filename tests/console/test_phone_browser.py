"""Every console page on a phone (375 x 740) in headless Chromium (Debian's, driven by
Playwright), in French: nothing scrolls sideways, neither the page nor a table or a box in
it; wide tables are stacked rows, each cell under its column's name; a timeline row is a
compact box (160 px at most), and so is an Act row (about 220 px, its buttons included);
the Act page's buttons are on the screen, "Skip…" styled apart from "Send now…", both
readable (WCAG AA contrast); the calendar's Sunday is on the screen, a date filter said
above it; the file field speaks French. On a taller phone (390 x 844) the navigation is one
"Menu" button: every page's title is on the first screen."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.models import Member
from tests.console.conftest import NOW, LiveConsole, sign_in_with_link, watch_page
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

# A timeline row on a phone: its time, step, count and state at a glance, not a page of labels.
MAX_ROW_HEIGHT = 160
# An Act row on a phone, its buttons included: the step on two lines, its date and state, its
# campaign and audience, the buttons (two lines of them in French). About 220 px; a long past
# date ("dernier message : 31 août 2026") leaves no room for the state beside it.
MAX_ACT_ROW_HEIGHT = 235

# The WCAG 2.1 contrast ratio of an element's text (and of its border) on its background.
CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const style = getComputedStyle(el);
  return {
    background: style.backgroundColor,
    color: style.color,
    text: ratio(style.color, style.backgroundColor),
    border: ratio(style.borderTopColor, "rgb(255, 255, 255)"),
  };
}"""


async def _older_browser(browser: Any, signed_in: Any, errors: list[str]) -> Any:
    """A wide page, signed in as ``signed_in``'s, in a browser that says it has no
    ``::details-content`` (Chromium's stylesheet still has it: what console.js does there is
    what can be checked)."""
    older = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    await older.add_cookies(await signed_in.cookies())
    await older.add_init_script(
        "const supports = CSS.supports.bind(CSS);"
        "CSS.supports = (...a) =>"
        " !String(a[0]).includes('details-content') && supports(...a);"
    )
    page = await older.new_page()
    watch_page(page, errors)
    return page


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

            # every page of the navigation (folded behind its menu's button on a phone)
            links = page.get_by_role("navigation").locator("a")
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
            # Each step a compact box: its name, then when and its state with its counts, its
            # buttons last and in their keyboard order, left to right then top to bottom.
            steps = page.locator("table.act-steps tbody tr")
            heights = await steps.evaluate_all(
                "rs => rs.map(r => r.getBoundingClientRect().height)"
            )
            assert len(heights) >= 5 and max(heights) <= MAX_ACT_ROW_HEIGHT, heights
            # A state's words stay whole: beside a long date ("prévu le 28 sept. 2026, 09:00")
            # the longest state is two lines at most, never a column a few letters wide
            # ("heu / re / pas / sée"). The world has no such step: their words are put in the
            # widest-dated row, laid out by the page's own rules.
            lines = await steps.evaluate_all(
                """rs => {
                    const row = rs.reduce((a, b) =>
                        a.querySelector('td.step-when').offsetWidth
                        >= b.querySelector('td.step-when').offsetWidth ? a : b);
                    const due = row.querySelector('td.step-when .step-due')
                        || row.querySelector('td.step-when');
                    due.textContent = 'prévu le 28 sept. 2026, 09:00';
                    const badge = row.querySelector('td.step-state .badge');
                    badge.textContent = 'heure passée, non envoyé';
                    return badge.getBoundingClientRect().height
                        / parseFloat(getComputedStyle(badge).lineHeight);
                }"""
            )
            assert lines < 2.5, lines
            for step in await steps.all():
                top = {
                    name: await step.locator(name).evaluate("e => e.getBoundingClientRect().top")
                    for name in ("th.step-name", "td.step-when", "td.step-state", "td.actions")
                }
                assert (
                    top["th.step-name"] < top["td.step-when"] < top["td.actions"]
                    and top["td.step-state"] < top["td.actions"]
                ), top
                places = await step.locator(".actions :is(button, a.button)").evaluate_all(
                    "bs => bs.map(b => [Math.round(b.getBoundingClientRect().top),"
                    " b.getBoundingClientRect().left])"
                )
                assert places == sorted(places), places
            # Sending and skipping look different, each readable: send filled, skip outlined
            # in the colour of what cannot be undone.
            row = page.locator("table.act-steps tbody tr").first
            send = await row.get_by_role("link", name="Envoyer maintenant…").evaluate(CONTRAST)
            skip = await row.get_by_role("link", name="Sauter…").evaluate(CONTRAST)
            assert (send["background"], send["color"]) != (skip["background"], skip["color"])
            for look in (send, skip):
                assert look["text"] >= 4.5 and look["border"] >= 3, look

            # The calendar: Sunday's column on the screen, a busy day's count a number.
            await page.goto(f"{url}/timeline?view=calendar&month=2026-09")
            sunday = page.locator("table.calendar thead th").nth(6)
            assert await sunday.inner_text() == "dim."
            box = await sunday.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
            busy = page.locator("table.calendar td.busy a").first
            assert (await busy.inner_text()).strip().isdigit()
            assert "message" in (await busy.get_attribute("aria-label") or "")

            # A date filter on the calendar: said above it, the days left out greyed.
            await page.goto(f"{url}/timeline?view=calendar&from=2026-09-14&to=2026-09-20")
            said = await page.locator(".active-filters").inner_text()
            assert "Du 14 sept. 2026 au 20 sept. 2026" in said and "afficher tous les jours" in said
            filtered = page.locator("table.calendar td.filtered")
            assert await filtered.count() == 30 - 7
            kept = page.locator("table.calendar td:not(.filtered):not(.other)")
            grey, white = [
                await cells.first.evaluate("td => getComputedStyle(td).backgroundImage")
                for cells in (filtered, kept)
            ]
            assert "gradient" in grey and white == "none", (grey, white)

            # The timeline's sends: their words and campaign, not their ids alone; each row a
            # compact box: time and state on its first line, the step, then the rest.
            await page.goto(f"{url}/timeline?to=2026-09-30")
            text = await page.locator("table.timeline").inner_text()
            assert "connect-launch.preview" not in text and "Connect launch" in text
            assert "aperçu pour Morgan Manager" in text and "envoyé maintenant" in text
            await page.goto(f"{url}/timeline")
            rows = page.locator("table.timeline tbody tr")
            assert await rows.count() >= 10
            heights = await rows.evaluate_all("rs => rs.map(r => r.getBoundingClientRect().height)")
            assert max(heights) <= MAX_ROW_HEIGHT, heights
            first = rows.first
            top = [
                await first.locator(f"td.{name}").evaluate("td => td.getBoundingClientRect().top")
                for name in ("when", "state")
            ]
            assert abs(top[0] - top[1]) < 8, top
            assert await first.locator("td.count").inner_text() == "1 message"

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


# A phone of today, as a community manager holds it.
TALL_PHONE = {"width": 390, "height": 844}
# The header and the closed menu together: the brand, who is signed in and Sign out, then the
# menu's button; the rest of the first screen is the page's own.
MAX_TOP_HEIGHT = 150


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_menu_folds_on_a_phone(
    live_console: LiveConsole, chromium: str, browser_errors: list[str]
) -> None:
    """On a phone the navigation is one "Menu" button naming the current page: every page's
    title is on the first screen; the button opens with the keyboard, its links work; on a
    wide screen the links are in a row, nothing to open."""
    from playwright.async_api import async_playwright

    async with live_console.env.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
    link = await live_console.link()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = await browser.new_context(locale="en-US", viewport=TALL_PHONE)
            page = await context.new_page()
            watch_page(page, browser_errors)
            await sign_in_with_link(page, link)

            nav = page.get_by_role("navigation", name="Pages de la console")
            pages = await nav.locator("a").evaluate_all("a => a.map(l => l.href)")
            assert len(pages) >= 9, pages
            menu = nav.locator("summary")
            for address in pages:
                await page.goto(address)
                # the list is folded: no link shows, the button says "Menu" and where she is
                assert await nav.get_by_role("link").count() == 0, address
                heading = await page.get_by_role("heading", level=1).inner_text()
                here = await nav.locator("[aria-current=page]").text_content()
                assert await menu.inner_text() == f"Menu\n{here}", address
                assert await menu.get_attribute("aria-label") == f"Menu, page actuelle : {here}"
                # the page's title is on the first screen, under a short header
                box = await page.get_by_role("heading", level=1).bounding_box()
                assert box is not None and box["y"] + box["height"] <= TALL_PHONE["height"], (
                    address,
                    box,
                )
                top = await page.locator("main").evaluate("m => m.getBoundingClientRect().top")
                assert top <= MAX_TOP_HEIGHT, (address, heading, top)
                assert await page.evaluate(SIDEWAYS) == [], address

            # The keyboard: from the brand, past Sign out, to the menu's button, visibly focused
            # and readable; Enter opens it, Tab reaches its links, Escape folds it back onto
            # its button, Space opens it again, Enter follows a link.
            await page.goto(pages[0])
            await page.locator(".brand").focus()
            await page.keyboard.press("Tab")
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.tagName") == "SUMMARY"
            assert await menu.evaluate("s => getComputedStyle(s).outlineStyle") == "solid"
            look = await menu.evaluate(CONTRAST)
            assert look["text"] >= 4.5 and look["border"] >= 3, look
            await page.keyboard.press("Enter")
            links = nav.get_by_role("link")
            assert await links.count() == len(pages)
            assert await nav.locator("details").get_attribute("open") == ""
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.href") == pages[0]
            await page.keyboard.press("Escape")
            assert await nav.get_by_role("link").count() == 0
            assert await page.evaluate("document.activeElement.tagName") == "SUMMARY"
            await page.keyboard.press("Space")
            assert await links.count() == len(pages)
            await page.keyboard.press("Tab")
            await page.keyboard.press("Tab")
            second = await page.evaluate("document.activeElement.textContent")
            await page.keyboard.press("Enter")
            await page.wait_for_url(pages[1])
            assert await menu.inner_text() == f"Menu\n{second}"
            assert await nav.get_by_role("link").count() == 0

            # A wide screen: the links in a row, the current one marked, no button to open.
            await page.set_viewport_size({"width": 1280, "height": 800})
            assert await menu.is_hidden()
            links = nav.get_by_role("link")
            assert await links.count() == len(pages)
            tops = await links.evaluate_all("a => a.map(l => l.getBoundingClientRect().top)")
            assert len(set(tops)) == 1, tops
            current = nav.get_by_role("link", name=second)
            assert await current.get_attribute("aria-current") == "page"
            await nav.get_by_role("link").first.click()
            await page.wait_for_url(pages[0])

            # A browser without ::details-content (told so here: Chromium's stylesheet still
            # has it, so the script's marks are what is checked): on a wide screen the menu is
            # kept open, its button hidden; narrowed to a phone, it folds again.
            old_page = await _older_browser(browser, context, browser_errors)
            await old_page.goto(pages[0])
            old_nav = old_page.get_by_role("navigation", name="Pages de la console")
            details = old_nav.locator("details")
            assert await details.evaluate("d => [d.open, d.classList.contains('wide')]") == [
                True,
                True,
            ]
            assert await old_nav.locator("summary").is_hidden()
            assert await old_nav.get_by_role("link").count() == len(pages)
            await old_page.set_viewport_size(TALL_PHONE)
            # console.js folds it again on the media query's change event: waited for
            await old_page.wait_for_function(
                "() => !document.querySelector('nav details.menu').open", timeout=5000
            )
            assert await details.evaluate("d => [d.open, d.classList.contains('wide')]") == [
                False,
                False,
            ]
            assert await old_nav.locator("summary").is_visible()
            assert await old_nav.get_by_role("link").count() == 0
        finally:
            await browser.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_filters_fold_on_a_phone(
    live_console: LiveConsole, chromium: str, browser_errors: list[str]
) -> None:
    """On a phone the timeline's and the indicators' filters are one button saying how many
    are active: the timeline's first row is on the first screen; the button opens to the
    fields; on a wide screen the fields show and the button does not, with or without
    ::details-content."""
    from playwright.async_api import async_playwright

    link = await live_console.link()
    url = live_console.url
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = await browser.new_context(locale="en-US", viewport=TALL_PHONE)
            page = await context.new_page()
            watch_page(page, browser_errors)
            await sign_in_with_link(page, link)
            fold = page.locator("details.fold")
            await page.goto(f"{url}/timeline?to=2026-09-30&campaign=connect-launch")
            assert await fold.locator("summary").inner_text() == "Filters\n2 active"
            assert await page.locator("#f-zone").is_hidden()
            first = await page.locator("table.timeline tbody tr").first.bounding_box()
            assert first is not None and first["y"] + first["height"] <= TALL_PHONE["height"]
            await fold.locator("summary").click()
            assert await page.locator("#f-zone").is_visible()
            await page.goto(f"{url}/indicators")
            assert await fold.locator("summary").inner_text() == "Filters\nnone active"
            assert await page.locator("#i-team").is_hidden()
            # A wide screen: the fields, no button.
            await page.set_viewport_size({"width": 1280, "height": 800})
            assert await fold.locator("summary").is_hidden()
            assert await page.locator("#i-team").is_visible()
            # Without ::details-content: console.js keeps the fold open there.
            old_page = await _older_browser(browser, context, browser_errors)
            await old_page.goto(f"{url}/timeline")
            assert await old_page.locator("details.fold summary").is_hidden()
            assert await old_page.locator("#f-zone").is_visible()
            await old_page.set_viewport_size(TALL_PHONE)
            # console.js folds it again on the media query's change event: waited for
            await old_page.locator("#f-zone").wait_for(state="hidden", timeout=5000)
        finally:
            await browser.close()
