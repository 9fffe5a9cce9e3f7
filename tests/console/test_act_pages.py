"""The acting pages over HTTP: check a draft, act, approvals, members; managers only, every
POST CSRF-checked and audited, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.context import ReloadReport
from rallybot.campaigns.loader import LoadError
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member
from rallybot.storage.repositories import get_member_by_platform_id
from rallybot.storage.survey_models import ErasureAudit
from tests.console.conftest import ConsoleClient, ConsoleEnv

PAGES = ("/drafts", "/act", "/approvals", "/members")
BROKEN = """\
id: draft
title: A draft
timezone: Europe/London
milestones:
  launch: 2030-03-04 09:30
channels:
  news: general
steps:
  - id: teaser
    at: lunch - 2d at 09:00
    post: news
    text: "Soon."
"""
BAD_ROSTER = b"id,email,name\nu1,u1@example.com,Una\nu2,not-an-email,Ugo\n"
GOOD_ROSTER = b"id,email,name\nu1,u1@example.com,Una\nu2,u2@example.com,Ugo\n"


@pytest.fixture
async def bot(console: ConsoleEnv) -> AsyncIterator[Rallybot]:
    """The console served by a bot (memory adapter) with the example campaign."""
    running = Rallybot(console.settings, console.db, MemoryAdapter(), console.clock)
    running.campaigns = console.state.campaigns()
    console.state.bot = running
    yield running
    console.state.bot = None


async def _audits(db: Database) -> list[tuple[str, str, str]]:
    async with db.read() as session:
        rows = await session.execute(sa.select(AuditEntry).order_by(AuditEntry.id))
        return [(r.actor, r.action, r.target) for r in rows.scalars()]


async def _members(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Member)) or 0)


def _form(http: ConsoleClient, **values: str) -> dict[str, str]:
    return {"csrf_token": http.csrf, **values}


async def test_the_pages_are_for_managers_only(
    as_manager: ConsoleClient, as_helper: ConsoleClient, as_member: ConsoleClient
) -> None:
    for path in PAGES:
        assert (await as_manager.get(path)).status_code == 200, path
        assert (await as_helper.get(path)).status_code == 403, path
        assert (await as_member.get(path)).status_code == 403, path
    for path in ("/api/act/steps", "/api/approvals", "/api/members"):
        assert (await as_manager.get(path)).status_code == 200, path
        assert (await as_helper.get(path)).status_code == 403, path
    answer = await as_helper.post("/api/members/1/erase", headers=as_helper.csrf_header())
    assert answer.status_code == 403
    nav = (await as_manager.get("/act")).text
    for path in PAGES:
        assert f'href="https://testserver/console{path}"' in nav, path


async def test_a_broken_draft_shows_its_error_on_its_line(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    line = BROKEN.splitlines().index("    at: lunch - 2d at 09:00") + 1
    page = await as_manager.post("/drafts", data=_form(as_manager, text=BROKEN, kind="auto"))
    assert page.status_code == 200
    item = re.search(rf'<tr id="L{line}" class="has-error">(.*?)</tr>', page.text, re.S)
    assert item is not None, page.text
    assert "lunch" in item.group(1) and "inline-error" in item.group(1)
    # where, as she reads her file: the step counted from 1, with its id, then its field
    assert "<code>step 1 (id teaser), field at</code>" in item.group(1)
    assert "steps[0]" not in page.text
    # a code view: the line's number in its header cell, the line and its problem in one
    # cell without white space of the template's (its lines keep theirs: pre-wrap)
    assert item.group(1).startswith(f'<th scope="row">{line}</th><td><code>    at: lunch')
    assert "\n" not in item.group(1)
    answer = await as_manager.post(
        "/api/drafts", json={"text": BROKEN, "name": "x.yaml"}, headers=as_manager.csrf_header()
    )
    result = answer.json()
    assert answer.status_code == 200 and not result["ok"]
    assert [e["line"] for e in result["errors"]] == [line]
    good = await as_manager.post(
        "/api/drafts",
        json={"text": BROKEN.replace("lunch", "launch"), "name": "x.yaml"},
        headers=as_manager.csrf_header(),
    )
    assert good.json()["ok"] and good.json()["timeline"][0]["step"] == "teaser"
    upload = await as_manager.post(
        "/drafts",
        data=_form(as_manager, kind="campaign"),
        files={"file": ("mine.yaml", BROKEN.encode(), "text/yaml")},
    )
    assert f'<tr id="L{line}" class="has-error">' in upload.text and "mine.yaml" in upload.text
    assert [a[1:] for a in await _audits(console.db)] == [
        ("check draft", "campaign"),  # pasted: no file name of its own
        ("check draft", "campaign x.yaml"),
        ("check draft", "campaign x.yaml"),
        ("check draft", "campaign mine.yaml"),
    ]


async def test_a_post_without_the_csrf_token_is_refused(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    refused = [
        await as_manager.post("/drafts", data={"text": BROKEN}),
        await as_manager.post("/api/drafts", json={"text": BROKEN}),
        await as_manager.post(
            "/act/send", data={"campaign": "connect-launch", "step": "teaser-1", "key": "k" * 12}
        ),
        await as_manager.post("/members/1/erase", data={"confirm": "yes"}),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert await _audits(console.db) == []


async def test_send_now_asks_then_sends_once(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    steps = (await as_manager.get("/api/act/steps")).json()
    assert {"campaign": "connect-launch", "step": "pilot-invitation", "kind": "dm"} in [
        {k: s[k] for k in ("campaign", "step", "kind")} for s in steps
    ]
    confirm = await as_manager.get(
        "/act/confirm",
        params={"campaign": "connect-launch", "step": "pilot-invitation", "target": "@UMEMBER"},
    )
    assert "now to 1 member?" in confirm.text
    # the step named by its words as the bot fills them: the launch day, a marker for the name
    assert "Hello [first name], you are one of the 150 pioneers" in confirm.text
    skip = await as_manager.get(
        "/act/confirm", params={"campaign": "connect-launch", "step": "teaser-1", "action": "skip"}
    )
    assert "Save the date: 15 …" in skip.text and "{launch" not in skip.text  # cut at 70
    key = re.search(r'name="key" value="([^"]+)"', confirm.text)
    assert key is not None
    values = _form(
        as_manager,
        campaign="connect-launch",
        step="pilot-invitation",
        key=key.group(1),
        target="@UMEMBER",
    )
    sent = await as_manager.post("/act/send", data=values)
    assert "is on its way: 1 message queued" in sent.text
    again = await as_manager.post("/act/send", data=values)  # the same form sent twice
    assert "nothing was sent twice" in again.text
    await bot.dispatcher.run_once()
    adapter = bot.adapter
    assert isinstance(adapter, MemoryAdapter)
    assert [d.target for d in adapter.directs] == ["UMEMBER"]
    assert (await _audits(console.db))[-1][1:] == (
        "send",
        "connect-launch/pilot-invitation to 1 of 1 people, 0 had it",
    )
    nobody = await as_manager.get(
        "/api/act/reach", params={"campaign": "connect-launch", "step": "pilot-invitation"}
    )
    assert nobody.json()["people"] == 0  # nobody is in the pilot cohort
    unknown = await as_manager.post(
        "/api/act/send",
        json={"campaign": "connect-launch", "step": "nope", "key": "k" * 12},
        headers=as_manager.csrf_header(),
    )
    assert unknown.status_code == 404


async def test_the_console_alone_sends_through_the_bots_outbox(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    # No bot in this process (rallybot console): the rows go into the outbox, and the bot
    # running on the same database sends them.
    assert console.state.bot is None
    answer = await as_manager.post(
        "/api/act/send",
        json={
            "campaign": "connect-launch",
            "step": "pilot-invitation",
            "key": "k" * 12,
            "target": "@UMEMBER",
        },
        headers=as_manager.csrf_header(),
    )
    assert answer.status_code == 200 and answer.json()["count"] == 1
    adapter = MemoryAdapter()
    running = Rallybot(console.settings, console.db, adapter, console.clock)
    running.campaigns = console.state.campaigns()
    await running.dispatcher.run_once()
    assert [d.target for d in adapter.directs] == ["UMEMBER"]
    skipped = await as_manager.post(
        "/api/act/skip",
        json={"campaign": "connect-launch", "step": "teaser-4"},
        headers=as_manager.csrf_header(),
    )
    assert skipped.json()["count"] == 1
    async with console.db.read() as session:
        statuses = (
            await session.execute(sa.select(Delivery.status).where(Delivery.step_id == "teaser-4"))
        ).scalars()
        assert list(statuses) == ["skipped"]


async def _preview_to_me(as_manager: ConsoleClient, bot: Rallybot, step: str) -> MemoryAdapter:
    """Preview ``step`` to the signed-in manager, run the dispatcher, return what it sent."""
    answer = await as_manager.post(
        "/api/act/preview",
        json={"campaign": "connect-launch", "step": step, "key": step[:1] * 12},
        headers=as_manager.csrf_header(),
    )
    assert answer.json()["count"] == 1
    await bot.dispatcher.run_once()
    adapter = bot.adapter
    assert isinstance(adapter, MemoryAdapter)
    assert [d.target for d in adapter.directs] == ["UMANAGER"]
    return adapter


async def test_a_preview_goes_to_me(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    await _preview_to_me(as_manager, bot, "pilot-invitation")


async def test_a_preview_to_me_is_not_pinned(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    # The CEO's announcement is pinned in its channel: not its preview, in my own messages.
    adapter = await _preview_to_me(as_manager, bot, "ceo-announcement")
    assert adapter.pins == [] and not adapter.directs[0].message.pin
    assert adapter.posts == []  # nothing in the channel either


async def test_evidence_is_rejected_with_a_reason(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    member = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert member is not None and member.id is not None
    async with console.db.session() as session:
        submission = ChallengeSubmission(
            challenge="connect-launch/photo",
            member_id=member.id,
            text="my desk https://files.example.com/desk.png",
            submitted_at=console.clock.now(),
        )
        session.add(submission)
        await session.flush()
        submission_id = submission.id
    page = await as_manager.get("/approvals")
    assert 'href="https://files.example.com/desk.png"' in page.text
    # Without a reason, a rejection is refused: on the page next to its field, and by the API.
    for blank in ("", "   "):
        refused = await as_manager.post(
            f"/approvals/{submission_id}",
            data=_form(as_manager, decision="reject", reason=blank),
        )
        assert f'id="reason-error-{submission_id}"' in refused.text
        assert "Write a reason to reject" in refused.text
    answer = await as_manager.post(
        f"/api/approvals/{submission_id}",
        json={"decision": "reject"},
        headers=as_manager.csrf_header(),
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason"]
    async with console.db.read() as session:
        waiting = await session.get(ChallengeSubmission, submission_id)
    assert waiting is not None and waiting.state == "pending"
    done = await as_manager.post(
        f"/approvals/{submission_id}",
        data=_form(as_manager, decision="reject", reason="Blurred photo"),
    )
    # named by whose evidence for which challenge (this one is not in the loaded campaigns)
    assert "Submission of Mel Member to “photo · Connect launch” rejected." in done.text
    async with console.db.read() as session:
        row = await session.get(ChallengeSubmission, submission_id)
    assert row is not None and (row.state, row.reason) == ("rejected", "Blurred photo")
    adapter = bot.adapter
    assert isinstance(adapter, MemoryAdapter)
    await bot.dispatcher.run_once()  # the notice is an outbox row written with the decision
    [told] = [d.message.text for d in adapter.directs if d.target == "UMEMBER"]
    assert "Blurred photo" in told
    again = await as_manager.post(
        f"/api/approvals/{submission_id}",
        json={"decision": "approve"},
        headers=as_manager.csrf_header(),
    )
    assert again.json() == {"id": submission_id, "decided": False, "state": "rejected"}
    assert (await _audits(console.db))[-1][1:] == ("rejected", f"submission #{submission_id}")


async def test_the_console_alone_stores_the_decision_and_the_bot_tells(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    member = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert member is not None and member.id is not None
    async with console.db.session() as session:
        submission = ChallengeSubmission(
            challenge="connect-launch/photo",
            member_id=member.id,
            text="my desk",
            submitted_at=console.clock.now(),
        )
        session.add(submission)
        await session.flush()
        submission_id = submission.id
    answer = await as_manager.post(
        f"/api/approvals/{submission_id}",
        json={"decision": "reject", "reason": "Blurred photo"},
        headers=as_manager.csrf_header(),
    )
    assert answer.json() == {"id": submission_id, "decided": True, "state": "rejected"}
    adapter = MemoryAdapter()
    running = Rallybot(console.settings, console.db, adapter, console.clock)
    running.campaigns = console.state.campaigns()
    await running.dispatcher.run_once()
    [told] = [d.message.text for d in adapter.directs if d.target == "UMEMBER"]
    assert "pas été retenue" in told and "Blurred photo" in told  # Mel reads French


async def test_erasing_a_member_needs_the_confirmation(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    member = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert member is not None
    found = (await as_manager.get("/api/members", params={"q": "mel"})).json()
    assert found["total"] == 1 and found["members"][0]["user_id"] == "UMEMBER"
    confirm = await as_manager.get(f"/members/{member.id}/erase")
    assert "Mel Member" in confirm.text and "cannot be undone" in confirm.text
    refused = await as_manager.post(f"/members/{member.id}/erase", data=_form(as_manager))
    assert "Tick the confirmation" in refused.text
    assert (await as_manager.get("/api/members", params={"q": "mel"})).json()["total"] == 1
    done = await as_manager.post(
        f"/members/{member.id}/erase", data=_form(as_manager, confirm="yes")
    )
    assert "The member was erased." in done.text
    assert (await as_manager.get("/api/members", params={"q": "mel"})).json()["total"] == 0
    assert (await _audits(console.db))[-1][1:] == ("erase", "a member")
    twice = await as_manager.post(
        f"/api/members/{member.id}/erase", headers=as_manager.csrf_header()
    )
    assert twice.json() == {"erased": False}


async def test_a_manager_who_erases_themselves_is_not_named_by_the_erasure(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    mel = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    me = await get_member_by_platform_id(console.db, "slack", "UMANAGER")
    assert mel is not None and me is not None
    for member in (mel, me):  # someone else first, then themselves
        answer = await as_manager.post(
            f"/api/members/{member.id}/erase", headers=as_manager.csrf_header()
        )
        assert answer.json() == {"erased": True}
    # "Who asked" must not be "whom": every entry, the last one too, says "forgotten".
    assert await _audits(console.db) == [("forgotten", "erase", "a member")] * 2
    async with console.db.read() as session:
        asked = (await session.execute(sa.select(ErasureAudit.requested_by))).scalars().all()
    assert asked == ["forgotten", "forgotten"]


async def test_a_roster_with_a_bad_row_imports_nothing(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    before = await _members(console.db)
    page = await as_manager.post(
        "/members/roster",
        data=_form(as_manager, platform="console"),
        files={"file": ("team.csv", BAD_ROSTER, "text/csv")},
    )
    assert "nothing imported" in page.text and "team.csv:3:" not in page.text
    assert "Line 3, column 2: email: " in page.text  # as a person reads it
    assert await _members(console.db) == before
    refused = await as_manager.post(
        "/api/members/roster",
        data={"platform": "console"},
        files={"file": ("team.csv", BAD_ROSTER, "text/csv")},
        headers=as_manager.csrf_header(),
    )
    assert refused.json()["problems"][0].startswith("team.csv:3:2: email: ")  # as the CLI says
    assert await _members(console.db) == before
    answer = await as_manager.post(
        "/api/members/roster",
        data={"platform": "console"},
        files={"file": ("team.csv", GOOD_ROSTER, "text/csv")},
        headers=as_manager.csrf_header(),
    )
    assert answer.json()["imported"] and answer.json()["created"] == 2
    assert await _members(console.db) == before + 2


async def test_the_skip_confirmation_counts_what_the_skip_stops(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    rows = (await as_manager.get("/api/act/steps")).json()
    # A step planned but not written in the outbox yet (the finding: its messages not counted).
    row = next(r for r in rows if r["planned"] > 0 and r["pending"] == 0)
    step = {"campaign": row["campaign"], "step": row["step"]}
    confirm = await as_manager.get("/act/confirm", params={**step, "action": "skip"})
    asked = re.search(r"\)\? (\d+) message", confirm.text)
    assert asked is not None
    done = await as_manager.post("/act/skip", data=_form(as_manager, **step))
    skipped = re.search(r"skipped: (\d+) message", done.text)
    assert skipped is not None
    assert int(asked.group(1)) == int(skipped.group(1)) > 0
    # Skipped, it keeps the day it was due (its row had no date left: nothing to come, nothing
    # sent), said as a day that went by without it (it was due at this very minute).
    after = next(
        r
        for r in (await as_manager.get("/api/act/steps")).json()
        if (r["campaign"], r["step"]) == (row["campaign"], row["step"])
    )
    assert after["sent"] == 0 and after["due"] is not None and not after["due_next"], after
    page = (await as_manager.get("/act")).text
    shown = page.split(f'id="step-{row["campaign"]}-{row["step"]}"')[1].split("</tr>")[0]
    assert "was due " in shown, shown
    # A step skipped days before its time was planned for that day: it was not "due" yet.
    later = next(
        r
        for r in rows
        if r["planned"] > 0
        and r["due"]
        and datetime.fromisoformat(r["due"]) > console.clock.now() + timedelta(days=1)
    )
    step = {"campaign": later["campaign"], "step": later["step"]}
    await as_manager.post("/act/skip", data=_form(as_manager, **step))
    page = (await as_manager.get("/act")).text
    shown = page.split(f'id="step-{later["campaign"]}-{later["step"]}"')[1].split("</tr>")[0]
    assert "was planned for " in shown and "was due " not in shown, shown


async def test_roster_problems_are_in_the_viewers_language(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
    page = await as_manager.post(
        "/members/roster",
        data=_form(as_manager, platform="console"),
        files={"file": ("equipe.csv", BAD_ROSTER, "text/csv")},
    )
    shown = html.unescape(page.text)  # the page writes the apostrophe as &#39;
    assert "rien n'a été importé" in shown
    assert "« not-an-email » n'est pas une adresse e-mail" in shown
    assert "is not an email address" not in shown


async def test_the_api_is_in_the_openapi_document(as_manager: ConsoleClient) -> None:
    paths = (await as_manager.get("/api/openapi.json")).json()["paths"]
    for path in (
        "/api/drafts",
        "/api/act/send",
        "/api/approvals/{submission_id}",
        "/api/members/roster",
    ):
        assert path in paths, path


async def test_posting_in_a_channel_whose_members_are_unknown_says_everyone_there_sees_it(
    as_manager: ConsoleClient,
) -> None:
    """No synced member of the channel is not "it reaches nobody": the question says so."""
    confirm = await as_manager.get(
        "/act/confirm", params={"campaign": "connect-launch", "step": "teaser-1"}
    )
    assert confirm.status_code == 200
    assert "Everyone in the channel will see it" in confirm.text
    assert "0 members known there" not in confirm.text


async def test_a_reload_error_says_where_as_the_file_is_read(
    bot: Rallybot, as_manager: ConsoleClient, tmp_path: Path
) -> None:
    broken = tmp_path / "draft.yaml"
    broken.write_text(BROKEN)
    line = BROKEN.splitlines().index("    at: lunch - 2d at 09:00") + 1
    error = LoadError(str(broken), line, 9, "steps[0].at", 'unknown milestone "lunch"')
    bot.last_reload = ReloadReport(errors=[error])
    page = await as_manager.get("/campaigns")
    assert "<code>step 1 (id teaser), field at</code>" in page.text
    assert "steps[0]" not in page.text
    api = (await as_manager.get("/api/campaigns")).json()  # a program reads the path itself
    assert [e["field"] for e in api["other_errors"]] == ["steps[0].at"]
