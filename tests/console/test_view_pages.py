"""The console's pages to see: campaigns (pause and resume), timeline (list, calendar, a
message's preview), indicators (with downloads) and the help desk; their JSON API; roles and
CSRF; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from rallybot.handlers.steering.service import REPLACED_BY
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.helpdesk_models import HelpTicket
from rallybot.storage.models import CampaignState, CampaignStatus, Delivery, Member, table_of
from tests.console.conftest import ConsoleClient, ConsoleEnv

CAMPAIGN = "connect-launch"


async def _status(env: ConsoleEnv) -> str | None:
    async with env.db.session() as session:
        state = await session.get(CampaignState, CAMPAIGN)
        return state.status if state is not None else None


def _post(step: str, due: datetime, status: str, reason: str | None = None) -> Delivery:
    """An outbox row of the campaign: a post of ``step`` to #general."""
    return Delivery(
        campaign_id=CAMPAIGN,
        step_id=step,
        recipient="channel:general",
        occurrence="once",
        due_at=due,
        grace_until=due + timedelta(hours=1),
        status=status,
        reason=reason,
        payload={"message": {"text": "Hello"}},
        content_hash="",
    )


async def _known(env: ConsoleEnv) -> None:
    """The campaign as a running bot leaves it in the database."""
    async with env.db.session() as session:
        session.add(CampaignState(id=CAMPAIGN, title="Connect launch", source="x.yaml"))


async def test_campaigns_page_shows_each_campaign_and_its_next_sends(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _known(console)
    page = await as_manager.get("/campaigns")
    assert page.status_code == 200
    assert "Connect launch" in page.text and "(connect-launch)" in page.text
    # the next send, on 1 September (D-14), by its words, not its id
    assert "· It is called Connect. Our company social network opens on" in page.text
    assert "· teaser-3 →" not in page.text
    assert "Pause “Connect launch”" in page.text and "Pause connect-launch" not in page.text
    api = (await as_manager.get("/api/campaigns")).json()
    [campaign] = api["campaigns"]
    assert campaign["status"] == "active" and campaign["loaded"] is True
    assert [n["step"] for n in campaign["next_sends"]][:1] == ["teaser-3"]
    assert campaign["errors"] == [] and api["other_errors"] == []


async def test_pause_and_resume_need_the_csrf_token_and_are_audited(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _known(console)
    refused = await as_manager.post(f"/campaigns/{CAMPAIGN}/pause", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert await _status(console) == CampaignStatus.active.value
    done = await as_manager.post(
        f"/campaigns/{CAMPAIGN}/pause", data={"csrf_token": as_manager.csrf}
    )
    assert done.status_code == 303
    assert await _status(console) == CampaignStatus.paused.value
    page = await as_manager.get(done.headers["location"])
    # said by its title, as the rest of the page names it, not by its id
    assert "Campaign “Connect launch” is paused" in page.text
    assert "Resume “Connect launch”" in page.text
    resumed = await as_manager.post(
        f"/api/campaigns/{CAMPAIGN}/resume", headers=as_manager.csrf_header()
    )
    assert resumed.json() == {"id": CAMPAIGN, "status": "active"}
    assert await _status(console) == CampaignStatus.active.value
    unknown = await as_manager.post("/api/campaigns/nope/pause", headers=as_manager.csrf_header())
    assert unknown.status_code == 404
    async with console.db.session() as session:
        audit = table_of(AuditEntry).c
        rows = (await session.execute(sa.select(audit.action, audit.target))).all()
    assert [tuple(r) for r in rows] == [
        ("pause", f"campaign:{CAMPAIGN}"),
        ("resume", f"campaign:{CAMPAIGN}"),
    ]


async def test_helpers_and_members_cannot_see_or_steer_campaigns(
    as_helper: ConsoleClient, as_member: ConsoleClient
) -> None:
    for http in (as_helper, as_member):
        for path in ("/campaigns", "/timeline", "/indicators", "/api/campaigns", "/api/timeline"):
            assert (await http.get(path)).status_code == 403, path
        response = await http.post(f"/api/campaigns/{CAMPAIGN}/pause", headers=http.csrf_header())
        assert response.status_code == 403


async def test_timeline_lists_the_example_and_pages_without_loss(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    async with console.db.session() as session:
        session.add(
            Member(
                platform="slack",
                platform_user_id="UPILOT",
                display_name="Pat Pilot",
                cohort="pilot",
                locale="fr",
                timezone="America/Toronto",
            )
        )
    page = await as_manager.get("/timeline")
    assert page.status_code == 200
    assert "teaser-3" in page.text and "ceo-announcement" in page.text
    everything = (await as_manager.get("/api/timeline", params={"limit": 200})).json()
    ids = [e["id"] for e in everything["entries"]]
    assert len(ids) > 3 and everything["next_cursor"] is None
    paged: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        found = (await as_manager.get("/api/timeline", params=params)).json()
        paged.extend(e["id"] for e in found["entries"])
        cursor = found["next_cursor"]
        if cursor is None:
            break
    assert paged == ids
    bad = await as_manager.get("/api/timeline", params={"cursor": "nonsense"})
    assert bad.status_code == 422
    html_bad = await as_manager.get("/timeline", params={"cursor": "nonsense"})
    assert html_bad.status_code == 422 and "first page" in html_bad.text
    pilot = (await as_manager.get("/api/timeline", params={"audience": "pilot"})).json()
    assert [(e["step"], e["kind"], e["zone"]) for e in pilot["entries"]] == [
        ("pilot-invitation", "dm", "America/Toronto")
    ]
    assert pilot["entries"][0]["recipient_local"].startswith("2026-09-08T10:00:00-04:00")


async def test_a_message_opens_as_slack_and_discord_show_it(as_manager: ConsoleClient) -> None:
    found = (await as_manager.get("/api/timeline", params={"limit": 200})).json()
    announcement = next(e for e in found["entries"] if e["step"] == "ceo-announcement")
    detail = (await as_manager.get(f"/api/timeline/{announcement['id']}")).json()
    message = detail["message"]
    assert message["slack"]["blocks"], message  # the Block Kit of the bot's renderer
    assert 'class="pv pv-slack"' in message["slack_html"]
    assert 'class="pv pv-discord"' in message["discord_html"]
    assert detail["recipients"] == [
        {
            "name": "#announcements",
            "zone": "Europe/London",
            "local": detail["recipients"][0]["local"],
            "status": "planned",
        }
    ]
    page = await as_manager.get(f"/timeline/{announcement['id']}")
    assert page.status_code == 200
    assert "As Slack shows it" in page.text and "As Discord shows it" in page.text
    partial = await as_manager.get(
        f"/timeline/{announcement['id']}", headers={"HX-Request": "true"}
    )
    assert "<html" not in partial.text and 'class="pv pv-slack"' in partial.text
    assert (await as_manager.get("/timeline/d123456")).status_code == 404
    assert (await as_manager.get("/api/timeline/pgarbage")).status_code == 404


async def test_calendar_counts_the_month(as_manager: ConsoleClient) -> None:
    month = (await as_manager.get("/api/timeline/calendar", params={"month": "2026-09"})).json()
    days = {d["day"]: d["count"] for d in month["days"]}
    assert month["zone"] == "Europe/London"
    assert days.get("2026-09-15", 0) >= 1  # launch day
    assert "2026-08-16" not in days  # D-30 is in August
    page = await as_manager.get("/timeline", params={"view": "calendar", "month": "2026-09"})
    assert page.status_code == 200 and "2026-09" in page.text
    assert (
        await as_manager.get("/api/timeline/calendar", params={"month": "2026-13"})
    ).status_code == 422


async def test_indicators_page_api_and_downloads(as_manager: ConsoleClient) -> None:
    page = await as_manager.get("/indicators")
    assert page.status_code == 200 and "Adoption funnel" in page.text
    api = (await as_manager.get("/api/indicators")).json()
    assert [s["stage"] for s in api["funnel"]][:1] == ["invited"]
    assert api["satisfaction"]["responses"] == 0
    report = await as_manager.get("/indicators/report.html")
    assert report.status_code == 200 and "<h1>Rallybot indicators</h1>" in report.text
    csv = await as_manager.get("/indicators/report.zip", params={"cohort": "pilot"})
    names = zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    assert "funnel.csv" in names
    assert (
        await as_manager.get("/api/indicators", params={"from": "2026-09-02", "to": "2026-09-01"})
    ).status_code == 422


async def test_the_downloaded_report_speaks_the_managers_language(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    M = table_of(Member).c
    async with console.db.session() as session:
        await session.execute(
            sa.update(table_of(Member))
            .where(M.display_name == "Morgan Manager")
            .values(locale="es")
        )
    report = await as_manager.get("/indicators/report.html")
    assert report.status_code == 200
    assert '<html lang="es">' in report.text
    assert "<h1>Indicadores de Rallybot</h1>" in report.text
    assert "<caption>Embudo de adopción</caption>" in report.text
    assert '<table id="table-adoption-funnel">' in report.text


async def test_help_desk_is_for_helpers_and_managers(
    console: ConsoleEnv, as_helper: ConsoleClient, as_member: ConsoleClient
) -> None:
    now = console.clock.now()
    async with console.db.session() as session:
        session.add(
            HelpTicket(
                platform="slack",
                channel_id="C1",
                message_id="1",
                excerpt="How do I join?",
                state="open",
                opened_at=now - timedelta(hours=3),
                last_activity_at=now - timedelta(hours=3),
            )
        )
    page = await as_helper.get("/helpdesk")
    assert page.status_code == 200
    assert "How do I join?" in page.text and "Harper Helper" in page.text  # on duty
    api = (await as_helper.get("/api/helpdesk")).json()
    assert (api["open"], api["unanswered"], api["overdue"]) == (1, 1, 1)
    assert (await as_member.get("/helpdesk")).status_code == 403
    assert (await as_member.get("/api/helpdesk")).status_code == 403


async def test_filter_forms_send_their_empty_fields(as_manager: ConsoleClient) -> None:
    empty = {
        "campaign": "",
        "audience": "",
        "zone": "",
        "locale": "",
        "status": "",
        "from": "",
        "to": "",
    }
    for view in ("list", "calendar"):
        page = await as_manager.get("/timeline", params={**empty, "view": view})
        assert page.status_code == 200, page.text[:300]
    assert (
        await as_manager.get("/indicators", params={"cohort": "", "from": "", "to": ""})
    ).status_code == 200
    wrong = await as_manager.get("/timeline", params={"from": "15/09/2026"})
    assert wrong.status_code == 200 and "is not a day" in wrong.text  # said by its field
    # The indicators page too keeps itself and says the problem by its field, with what was
    # typed (it answered a bare error page, with no form to correct the day in).
    for typed in ("1999-12-31", "31/09/2026"):
        page = await as_manager.get("/indicators", params={"to": typed, "cohort": ""})
        assert page.status_code == 200, typed
        assert 'aria-invalid="true"' in page.text and f'value="{typed}"' in page.text, typed
        assert 'id="i-to-error"' in page.text and "<h2" in page.text, typed
    backwards = await as_manager.get(
        "/indicators", params={"from": "2026-09-02", "to": "2026-09-01"}
    )
    assert backwards.status_code == 200 and "must not come before" in backwards.text


async def test_a_cancelled_message_says_why_in_the_list_and_the_preview(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    due = console.clock.now() + timedelta(days=2)
    async with console.db.session() as session:
        for step, status, reason in (
            ("replaced", "cancelled", REPLACED_BY + "console:amelie"),
            ("retried", "skipped", "retrying: connection reset"),  # a worker's note
        ):
            session.add(_post(step, due, status, reason))
    found = (await as_manager.get("/api/timeline", params={"limit": 200})).json()
    reasons = {e["step"]: e["reason"] for e in found["entries"] if e["source"] == "outbox"}
    assert reasons == {"replaced": "replaced: sent now by console:amelie", "retried": ""}
    page = await as_manager.get("/timeline", params={"status": "cancelled"})
    assert "replaced: sent now by console:amelie" in page.text
    shown = next(e for e in found["entries"] if e["step"] == "replaced")
    preview = await as_manager.get(f"/timeline/{shown['id']}", headers={"HX-Request": "true"})
    assert "replaced: sent now by console:amelie" in preview.text
    other = next(e for e in found["entries"] if e["step"] == "retried")
    assert "retrying" not in (await as_manager.get(f"/timeline/{other['id']}")).text
    # The calendar does not count them with the messages that go out: it says them apart.
    day = due.date().isoformat()
    month = {"month": day[:7]}
    days = (await as_manager.get("/api/timeline/calendar", params=month)).json()["days"]
    [that_day] = [d for d in days if d["day"] == day]
    assert that_day == {"day": day, "count": that_day["count"], "not_sent": 2}
    asked = {**month, "status": "cancelled"}
    days = (await as_manager.get("/api/timeline/calendar", params=asked)).json()["days"]
    assert days == [{"day": day, "count": 1, "not_sent": 0}]
    calendar = await as_manager.get("/timeline", params={"view": "calendar", **month})
    assert ">2 not sent<" in calendar.text
    assert "(cancelled, skipped, or replaced by a send now) are said apart" in calendar.text


async def test_a_mistyped_day_is_said_next_to_its_field_and_the_page_stays(
    as_manager: ConsoleClient,
) -> None:
    """Without JavaScript (a plain GET of the form): the page comes back with what she
    typed, the problem next to the field and tied to it for a screen reader, the other
    filters as she set them and the list they give."""
    page = await as_manager.get(
        "/timeline", params={"campaign": "connect-launch", "from": "31/02/2026x", "to": ""}
    )
    assert page.status_code == 200
    field = re.search(r'<input id="f-from" name="from" value="([^"]*)"([^>]*)>', page.text)
    assert field is not None and field.group(1) == "31/02/2026x"
    assert 'aria-invalid="true"' in field.group(2)
    assert 'aria-describedby="f-from-error f-from-hint"' in field.group(2)
    problem = re.search(
        r'<span id="f-from-error" class="error field-error">([^<]*)</span>', page.text
    )
    assert problem is not None and "31/02/2026x" in problem.group(1)
    assert "is not a day" in problem.group(1)
    assert '<option value="connect-launch" selected>' in page.text  # the rest as she set it
    assert '<table class="timeline stack">' in page.text  # its list, with its rows
    assert 'class="step-title"' in page.text
    to = re.search(r'<input id="f-to" name="to" value="([^"]*)"([^>]*)>', page.text)
    assert to is not None and "aria-invalid" not in to.group(2)
    # an end before the start: said by the end's field, the start kept
    backwards = await as_manager.get("/timeline", params={"from": "2026-09-15", "to": "2026-09-01"})
    assert backwards.status_code == 200
    assert '<span id="f-to-error" class="error field-error">' in backwards.text
    assert "must not come before the start day" in backwards.text
    start = re.search(r'<input id="f-from" name="from" value="([^"]*)"([^>]*)>', backwards.text)
    assert start is not None and start.group(1) and "aria-invalid" not in start.group(2)
    # the API, for programs, still refuses it
    api = await as_manager.get("/api/timeline", params={"from": "2026-02-31"})
    assert api.status_code == 422


async def test_the_list_opens_at_today_with_the_earlier_messages_a_link_away(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    """Without days or a page link, the list starts at today (the bot's zone): yesterday's
    sends are one "Earlier messages" away, and "Back to today" comes back; with nothing from
    today on, it shows the last messages."""
    now = console.clock.now()
    async with console.db.session() as session:
        for step, due, status in (
            ("three-days-ago", now - timedelta(days=3), "sent"),
            ("yesterday", now - timedelta(days=1), "failed"),
            ("this-morning", now, "sent"),
        ):
            session.add(_post(step, due, status))
    page = await as_manager.get("/timeline")
    assert "this-morning" in page.text
    assert "three-days-ago" not in page.text and "yesterday" not in page.text
    assert "From today on." in page.text and "teaser-3" in page.text
    earlier = re.search(r'href="([^"]*before=[^"]*)">Earlier messages<', page.text)
    assert earlier is not None
    before = await as_manager.get(earlier.group(1).replace("&amp;", "&"))
    assert "three-days-ago" in before.text and "yesterday" in before.text
    assert "this-morning" not in before.text
    assert "Back to today" in before.text and "Later messages" in before.text
    assert "Earlier messages" not in before.text  # nothing before it
    # The API keeps its order from the first entry, and pages back with "before".
    found = (await as_manager.get("/api/timeline", params={"limit": 1})).json()
    assert found["entries"][0]["step"] == "three-days-ago" and found["previous_cursor"] is None
    # Nothing from today on (no failure today): the last ones, said so.
    late = await as_manager.get("/timeline", params={"status": "failed"})
    assert "Nothing from today on: the last messages." in late.text
    assert "yesterday" in late.text and "this-morning" not in late.text
    assert "Later messages" not in late.text and "Earlier messages" not in late.text
    bad = await as_manager.get("/timeline", params={"before": "nonsense"})
    assert bad.status_code == 422


async def test_without_discord_support_the_preview_says_so_in_words(
    as_manager: ConsoleClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed without the discord extra, the preview says why there is no Discord view,
    not a bare "discord"."""
    from rallybot.handlers.console import preview

    monkeypatch.setattr(preview, "_discord_renderer", lambda: None)
    found = (await as_manager.get("/api/timeline", params={"limit": 200})).json()
    announcement = next(e for e in found["entries"] if e["step"] == "ceo-announcement")
    detail = (await as_manager.get(f"/api/timeline/{announcement['id']}")).json()
    assert detail["message"]["discord_html"] is None
    why = detail["message"]["discord_error"]
    assert why.startswith("No Discord preview: this Rallybot was installed without Discord")
    page = await as_manager.get(f"/timeline/{announcement['id']}")
    assert why in page.text and "Discord cannot show this message" not in page.text
