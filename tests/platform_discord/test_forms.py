"""Forms on Discord: a click answered with a modal, the submission as FormSubmitted."""

from __future__ import annotations

from typing import Any

import pytest

from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.adapters.discord.render import custom_id
from rallybot.bot.events import ButtonClicked, Event, FormSubmitted
from rallybot.bot.messages import Form, FormField

from . import payloads
from .adapter_support import (
    ALICE,
    CHANNEL,
    GUILD,
    PEOPLE,
    Recorder,
    click,
    tasks_settle,
)
from .fake_discord import FakeDiscord

FORM = Form(
    id="survey:pulse:2",
    title="Pulse survey",
    fields=(
        FormField(id="answer", label="What could be better?", placeholder="Anything"),
        FormField(id="extra", label="Anything else?", required=False, multiline=False),
    ),
    submit="Send",
)


def _inputs(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in components:
        if item.get("type") == 4:
            found.append(item)
        found.extend(_inputs(item.get("components") or []))
        if isinstance(item.get("component"), dict):
            found.extend(_inputs([item["component"]]))
    return found


def _announcement() -> dict[str, Any]:
    return payloads.message_create(
        message_id=payloads.snowflake(),
        channel_id=CHANNEL,
        author_id=payloads.BOT_ID,
        author_name="Rallybot",
        content="How was your week?",
        guild_id=GUILD,
        bot=True,
    )


@pytest.mark.parametrize("layout", ["action_row", "label"])
async def test_a_click_answered_with_a_form_then_submitted(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder], layout: str
) -> None:
    adapter, sink = running
    opened: list[bool] = []

    async def handler(event: Event) -> None:  # what handlers.survey does on the click
        await sink(event)
        if isinstance(event, ButtonClicked):
            opened.append(await adapter.open_form(event, FORM))

    adapter._sink = handler
    channel = payloads.text_channel(CHANNEL, GUILD, "announcements")
    message = _announcement()
    click(
        fake,
        adapter.client,
        custom_id=custom_id("survey", "pulse:2"),
        user_id=ALICE,
        channel=channel,
        message=message,
        guild_id=GUILD,
    )
    await sink.wait_for(1)
    await tasks_settle()
    assert opened == [True]
    (modal,) = fake.interaction_responses  # the modal is the click's only answer
    assert modal["type"] == 9
    assert modal["data"]["custom_id"] == "rallybot-form:survey:pulse:2"
    assert modal["data"]["title"] == "Pulse survey"
    answer, extra = _inputs(modal["data"]["components"])
    assert (answer["custom_id"], answer["style"], answer["required"]) == ("answer", 2, True)
    assert answer["placeholder"] == "Anything"
    assert (extra["custom_id"], extra["style"], extra["required"]) == ("extra", 1, False)

    submit_id = payloads.snowflake()
    fake.add_interaction(
        submit_id, f"tok-{submit_id}", CHANNEL, message_id=int(message["id"]), type=5
    )
    payloads.dispatch(
        adapter.client,
        "INTERACTION_CREATE",
        payloads.modal_submit_interaction(
            interaction_id=submit_id,
            token=f"tok-{submit_id}",
            custom_id=modal["data"]["custom_id"],
            values={"answer": "More coffee", "extra": ""},
            user_id=ALICE,
            user_name=PEOPLE[ALICE],
            channel=channel,
            message=message,
            guild_id=GUILD,
            layout=layout,
        ),
    )
    _, submitted = await sink.wait_for(2)
    assert isinstance(submitted, FormSubmitted)
    assert submitted.event_id == str(submit_id)
    assert submitted.form_id == "survey:pulse:2"
    assert submitted.values == {"answer": "More coffee", "extra": ""}
    assert submitted.user.id == str(ALICE)
    assert submitted.channel is not None and submitted.channel.id == str(CHANNEL)
    await tasks_settle()
    assert fake.interaction_responses[-1]["type"] == 6  # the submission is acknowledged


async def test_no_form_once_the_click_was_acknowledged(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    click(
        fake,
        adapter.client,
        custom_id=custom_id("survey", "pulse:2"),
        user_id=ALICE,
        channel=payloads.text_channel(CHANNEL, GUILD, "announcements"),
        message=_announcement(),
        guild_id=GUILD,
    )
    (event,) = await sink.wait_for(1)
    await tasks_settle()  # the handlers are done: the click was deferred
    assert isinstance(event, ButtonClicked)
    assert await adapter.open_form(event, FORM) is False  # the survey asks in a DM instead
    assert [r["type"] for r in fake.interaction_responses] == [6]


async def test_modals_that_are_not_ours_are_ignored(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    submit_id = payloads.snowflake()
    fake.add_interaction(submit_id, f"tok-{submit_id}", CHANNEL, type=5)
    payloads.dispatch(
        adapter.client,
        "INTERACTION_CREATE",
        payloads.modal_submit_interaction(
            interaction_id=submit_id,
            token=f"tok-{submit_id}",
            custom_id="another-bot:form",
            values={"answer": "x"},
            user_id=ALICE,
            channel=payloads.text_channel(CHANNEL, GUILD, "announcements"),
            guild_id=GUILD,
        ),
    )
    await tasks_settle()
    assert sink.events == [] and fake.interaction_responses == []
