"""The help desk and the members search in headless Chromium, as a community manager whose
community file names the helpers by e-mail sees them: the helper on duty by name, an e-mail
that matches no member said so; a team found by its name typed without accents or capitals."""

from __future__ import annotations

import os
from urllib.parse import quote_plus

import pytest

from rallybot.bot.community import assume_found, overlay
from rallybot.campaigns.community import load_community_text
from rallybot.storage.models import Member
from tests.console.conftest import LiveConsole, sign_in_with_link, watch_page

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

COMMUNITY = """\
community: connect
help:
  channel: connect-aide
  rota:
    - {days: daily, hours: "00:00-23:59", people: [amelie@example.com, ghost@example.com]}
"""


async def _people(live: LiveConsole) -> None:
    async with live.env.db.session() as session:
        for user_id, name, email, team in (
            ("amelie", "Amélie Durand", "amelie@example.com", "Équipe Ventes"),
            ("bastien", "Bastien Roy", "bastien@example.com", "équipe ventes"),
            ("chloe", "Chloé Martin", "chloe@example.com", "Marketing"),
        ):
            session.add(
                Member(
                    platform="console",
                    platform_user_id=user_id,
                    display_name=name,
                    email=email,
                    team=team,
                    cohort="pilote",
                )
            )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_helper_on_duty_by_name_and_a_team_found_by_its_name(
    live_console: LiveConsole, chromium: str, browser_errors: list[str]
) -> None:
    from playwright.async_api import async_playwright

    await _people(live_console)
    state = live_console.env.state
    # As `rallybot console` reads the community file (no platform to look people up).
    community = load_community_text(COMMUNITY, "community.yaml")
    state.settings_ = overlay(state.settings_, assume_found(community))
    link = await live_console.link()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            watch_page(page, browser_errors)
            await sign_in_with_link(page, link)
            nav = page.get_by_role("navigation")
            await nav.get_by_role("link", name="Help desk").click()
            await page.wait_for_url(f"{live_console.url}/helpdesk")
            on_duty = page.locator("dt", has_text="On duty now").locator(
                "xpath=following-sibling::dd[1]"
            )
            assert await on_duty.inner_text() == (
                "Amélie Durand, ghost@example.com — not found among the members"
            )

            await nav.get_by_role("link", name="Members").click()
            await page.wait_for_url(f"{live_console.url}/members")
            label = "Search by name, e-mail, id, team or cohort"
            search = page.get_by_role("searchbox", name=label)
            names = page.locator("table.members tbody th")
            for typed, expected in (
                ("EQUIPE ventes", ["Amélie Durand", "Bastien Roy"]),
                ("chloe", ["Chloé Martin"]),
                ("Pilote", ["Amélie Durand", "Bastien Roy", "Chloé Martin"]),
            ):
                await search.fill(typed)
                await search.press("Enter")
                await page.wait_for_url(lambda url, t=typed: f"q={quote_plus(t)}" in url)
                shown = [text.split(" (")[0] for text in await names.all_inner_texts()]
                assert shown == expected, typed
        finally:
            await browser.close()
