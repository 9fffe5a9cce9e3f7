"""The console in headless Chromium (Debian's, driven by Playwright): sign in with a one-time
link, see the audit log; no console error, no failed request, no CSP violation."""

from __future__ import annotations

import os

import pytest

from tests.console.conftest import LiveConsole, watch_page

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sign_in_with_a_one_time_link_and_read_the_audit_log(
    live_console: LiveConsole, chromium: str, browser_errors: list[str]
) -> None:
    from playwright.async_api import async_playwright

    link = await live_console.link()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            watch_page(page, browser_errors)
            await page.goto(link)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(lambda url: "/signin" not in url)
            # the navigation leads to every page a manager may see; the audit log is one
            await page.get_by_role("navigation").get_by_role("link", name="Audit log").click()
            await page.wait_for_url(f"{live_console.url}/audit")
            current = page.get_by_role("navigation").locator("[aria-current=page]")
            assert await current.inner_text() == "Audit log"
            assert await page.get_by_role("heading", level=1).inner_text() == "Audit log"
            assert await page.get_by_role("cell", name="Signed in", exact=True).count() == 1
            # htmx loaded (a file of the package, allowed by the CSP) and configured
            assert await page.evaluate(
                "typeof htmx === 'object' && htmx.config.allowEval === false"
            )
            # the keyboard reaches the skip link first
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.className") == "skip"
            # on a phone (375 px wide) nothing needs scrolling sideways but the table itself
            await page.set_viewport_size({"width": 375, "height": 740})
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, overflow
            # every form control has a name a screen reader can say
            controls = "input:not([type=hidden]), select, textarea, button"
            unnamed = await page.evaluate(
                """(selector) => [...document.querySelectorAll(selector)].filter(
                    e => !(e.labels && e.labels.length) && !e.ariaLabel
                    && !e.textContent.trim()).length""",
                controls,
            )
            assert unnamed == 0
            # ... on every page of the navigation: only tables scroll, inside their box (on a
            # phone the pages are behind the menu's button)
            nav = page.get_by_role("navigation")
            wide = {}
            for name in await nav.locator("a").all_text_contents():
                await nav.locator("summary").click()
                await nav.get_by_role("link", name=name).click()
                await page.wait_for_load_state()
                wide[name] = await page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
            assert len(wide) >= 8 and all(v <= 0 for v in wide.values()), wide
            await page.get_by_role("button", name="Sign out").click()
            await page.wait_for_url(f"{live_console.url}/signin")
        finally:
            await browser.close()
