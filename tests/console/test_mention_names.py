"""A message that mentions someone shows them as Slack and Discord do, "@" and their display
name in a pill, in both previews (never their id, when the console knows them); everything
escaped. On SQLite and PostgreSQL for the names read from the member table."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from rallybot.bot.messages import Message, member
from rallybot.handlers.console.preview import markdown_html, mentioned_ids, mrkdwn_html, preview
from rallybot.storage.models import Delivery, Member, table_of
from rallybot.storage.outbox import insert_deliveries
from tests.console.conftest import ConsoleClient, ConsoleEnv

NAMES = {"parrain1": "Amélie <Dupont>", "123456789": "Dana"}


def _section(html: str, platform: str) -> str:
    found = re.search(rf'<div class="pv pv-{platform}">.*?</div></div>', html, re.DOTALL)
    assert found is not None, html
    return found.group(0)


def test_both_previews_name_the_people_a_message_mentions() -> None:
    message = Message(text="Ton parrain est « <@parrain1> », ta marraine <@123456789>")
    shown = preview(message, NAMES)
    assert shown.discord is not None
    for html in (str(shown.slack), str(shown.discord)):
        assert '« <span class="mention">@Amélie &lt;Dupont&gt;</span> »' in html
        assert '<span class="mention">@Dana</span>' in html
        assert "parrain1" not in html and "123456789" not in html


def test_a_mention_of_someone_unknown_keeps_what_the_platform_shows() -> None:
    assert mrkdwn_html("<@U1> <@U2|old name>", NAMES) == (
        '<span class="mention">@U1</span> <span class="mention">@old name</span>'
    )
    # Discord shows a number mention as a pill; any other <@...> is no mention, only text
    assert markdown_html("<@42> <@someone>", NAMES) == (
        '<span class="mention">@42</span> &lt;@someone&gt;'
    )
    assert markdown_html("<@someone> <@!123456789>", NAMES) == (
        '&lt;@someone&gt; <span class="mention">@Dana</span>'
    )


def test_a_member_s_words_mention_nobody_even_by_a_known_id() -> None:
    message = Message(text=f"Question: {member('<@parrain1>')}")
    shown = preview(message, NAMES)
    assert shown.discord is not None
    for html in (str(shown.slack), str(shown.discord)):
        assert "Amélie" not in html and "&lt;@parrain1&gt;" in html


def test_the_ids_a_message_mentions() -> None:
    assert mentioned_ids("<@parrain1> and <@U2|Bo>", None, "<!here> <@!42>") == {
        "parrain1",
        "U2",
        "42",
    }


async def test_the_timeline_preview_names_the_buddy(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    at = console.clock.now() - timedelta(hours=1)
    async with console.db.session() as session:
        session.add(Member(platform="console", platform_user_id="parrain1", display_name="Amélie"))
        session.add(
            Member(
                platform="console",
                platform_user_id="gone",
                display_name="forgotten-x",
                forgotten=True,
            )
        )
        await insert_deliveries(
            session,
            [
                {
                    "campaign_id": "connect-launch",
                    "step_id": "welcome",
                    "recipient": "channel:announcements",
                    "occurrence": "once",
                    "due_at": at,
                    "grace_until": at,
                    "status": "sent",
                    "reason": None,
                    "payload": {"message": {"text": "Votre parrain : « <@parrain1> », <@gone>"}},
                    "content_hash": "",
                    "attempts": 1,
                    "created_at": at,
                    "updated_at": at,
                    "sent_at": at,
                    "platform_message_id": "M1",
                    "platform_channel_id": "C1",
                }
            ],
        )
        delivery = (await session.execute(sa.select(table_of(Delivery).c.id))).scalar_one()
    page = (await as_manager.get(f"/timeline/d{delivery}")).text
    slack, discord = _section(page, "slack"), _section(page, "discord")
    assert '« <span class="mention">@Amélie</span> »' in slack
    assert '« <span class="mention">@Amélie</span> »' in discord
    assert "parrain1" not in slack + discord
    # an erased person is no name to show: their id stays, as the platform would show it
    assert '<span class="mention">@gone</span>' in slack and "forgotten" not in page
    # the timeline's one-line extract names them the same way
    listed = (await as_manager.get("/timeline", params={"to": "2026-09-01"})).text
    assert "Votre parrain : « @Amélie », @gone" in listed and "@parrain1" not in listed
