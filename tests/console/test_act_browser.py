"""The acting pages in headless Chromium (Debian's, driven by Playwright; nothing
downloaded): sign in with the one-time link, check a broken draft and see the error on its
line, approve a challenge submission, send a step now and see it leave through the memory
adapter, upload a roster with a bad row and see nothing imported. No console error, no
failed request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
import uvicorn

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.handlers.console.app import PREFIX, standalone_app
from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.database import create_database
from rallybot.storage.models import Member
from rallybot.storage.repositories import get_member_by_platform_id
from tests.console.conftest import (
    ConsoleEnv,
    LiveConsole,
    _add_people,
    _env,
    _free_port,
    console_settings,
    sign_in_with_link,
    watch_page,
)
from tests.console.test_act_pages import BAD_ROSTER, BROKEN

playwright = pytest.importorskip("playwright.async_api")


@dataclass
class LiveBot:
    """The console served by a bot (in the server's thread), and a second replica of the bot
    in the test's loop whose dispatcher sends what the console queued."""

    live: LiveConsole
    server_adapter: MemoryAdapter  # what the console's bot told people at once
    replica: Rallybot
    adapter: MemoryAdapter  # what the replica sent from the outbox


@pytest.fixture
async def live_bot(db_url: str) -> AsyncIterator[LiveBot]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}{PREFIX}"
    test_db = create_database(db_url)
    await _add_people(test_db)
    server_db = create_database(db_url)
    settings = console_settings(console_url=url)
    env = _env(server_db, settings)
    campaigns = env.state.campaigns()
    server_adapter = MemoryAdapter()
    server_bot = Rallybot(settings, server_db, server_adapter, env.clock)
    server_bot.campaigns = campaigns
    env.state.bot = server_bot
    adapter = MemoryAdapter()
    replica = Rallybot(settings, test_db, adapter, env.clock)
    replica.campaigns = campaigns
    config = uvicorn.Config(
        standalone_app(env.app),  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-console-act", daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "the console did not start"
        live = LiveConsole(url, ConsoleEnv(test_db, settings, env.clock, env.state, env.app))
        yield LiveBot(live, server_adapter, replica, adapter)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        await test_db.dispose()


async def _count_members(live: LiveConsole) -> int:
    async with live.env.db.read() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Member)) or 0)


async def test_acting_in_the_browser(live_bot: LiveBot, chromium: str) -> None:
    live = live_bot.live
    problems: list[str] = []
    member = await get_member_by_platform_id(live.env.db, "slack", "UMEMBER")
    assert member is not None and member.id is not None
    async with live.env.db.session() as session:
        submission = ChallengeSubmission(
            challenge="connect-launch/photo",
            member_id=member.id,
            text="my desk https://files.example.com/desk.png",
            submitted_at=live.env.clock.now(),
        )
        session.add(submission)
        await session.flush()
        submission_id = submission.id

    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = await browser.new_page()
        watch_page(page, problems)
        try:
            # Sign in with the one-time link.
            await sign_in_with_link(page, await live.link())
            assert PREFIX in page.url

            # A broken draft: the error is shown on its line.
            line = BROKEN.splitlines().index("    at: lunch - 2d at 09:00") + 1
            await page.goto(f"{live.url}/drafts")
            await page.fill("#draft-text", BROKEN)
            await page.click("form.draft-form button[type=submit]")
            marked = page.locator(f"#L{line}.has-error")
            await marked.wait_for()
            assert "lunch" in await marked.inner_text()

            # Approve a challenge submission.
            await page.goto(f"{live.url}/approvals")
            await page.fill(f"#reason-{submission_id}", "Nice desk")
            await page.click(f"#submission-{submission_id} button[value=approve]")
            await page.locator(".notice.ok").wait_for()
            async with live.env.db.read() as session:
                row = await session.get(ChallengeSubmission, submission_id)
            assert row is not None and (row.state, row.reason) == ("approved", "Nice desk")
            # The member's notice is an outbox row, written with the decision: sent by a bot.
            await live_bot.replica.dispatcher.run_once()
            assert [d.target for d in live_bot.adapter.directs] == ["UMEMBER"]

            # Send a step now: the confirmation says how many it reaches.
            await page.goto(f"{live.url}/act")
            await page.click("#step-connect-launch-pilot-invitation a.button >> nth=0")
            await page.fill("#act-target", "@UMEMBER")
            await page.click("main form.inline-form button")
            assert "now to 1 member?" in await page.inner_text("#act-question")
            await page.click("main form[method=post] button[type=submit]")
            await page.locator(".notice.ok").wait_for()
            await live_bot.replica.dispatcher.run_once()
            assert [d.target for d in live_bot.adapter.directs] == ["UMEMBER", "UMEMBER"]

            # A roster with a bad row: nothing imported.
            before = await _count_members(live)
            await page.goto(f"{live.url}/members")
            await page.set_input_files(
                "#roster-file",
                files=[{"name": "team.csv", "mimeType": "text/csv", "buffer": BAD_ROSTER}],
            )
            await page.click("main form[enctype] button[type=submit]")
            result = page.locator("#roster-result")
            await result.wait_for()
            assert "nothing imported" in await result.inner_text()
            assert "Line 3, column 2: email: " in await result.inner_text()
            assert await _count_members(live) == before
        except Exception:
            print("the page at failure:", page.url, await page.inner_text("main"))
            raise
        finally:
            await browser.close()
    assert problems == []
