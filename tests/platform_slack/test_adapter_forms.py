"""Forms (modals) and lookups by email on Slack, against the fake Web API and the HTTP path."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from rallybot.bot.adapters.slack.adapter import SlackAdapter, form_from_view_submission
from rallybot.bot.adapters.slack.render import render_form
from rallybot.bot.events import ButtonClicked, ChannelRef, FormSubmitted, UserRef
from rallybot.bot.messages import Form, FormField
from rallybot.storage.database import Database
from tests.platform_slack import payloads as p
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import NOW, SIGNING_SECRET, Sink, slack_adapter
from tests.platform_slack.payloads import SlackEventPoster

T0 = int(time.time())
FORM = Form(
    id="survey:pulse:2",
    title="Pulse survey, September edition",  # longer than Slack's 24: cut
    fields=(
        FormField(id="answer", label="What could be better?", placeholder="Anything"),
        FormField(id="extra", label="Anything else?", required=False, multiline=False),
    ),
    submit="Send",
)


@dataclass
class Endpoint:
    fake: FakeSlack
    adapter: SlackAdapter
    sink: Sink
    poster: SlackEventPoster

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"


@pytest.fixture
async def endpoint(db: Database) -> AsyncIterator[Endpoint]:
    async with FakeSlack(scale=50) as fake:
        fake.add_user("U1", "Ana", email="ana@acme.test")
        fake.add_user("U2", "Old Account", email="gone@acme.test", deleted=True)
        fake.add_channel("C1", "general", ["U1"])
        async with slack_adapter(fake, db, http_port=0) as adapter:
            sink = Sink()
            await adapter.start(sink)
            async with SlackEventPoster(SIGNING_SECRET) as poster:
                yield Endpoint(fake, adapter, sink, poster)


def test_the_modal_has_one_input_per_field_within_slack_limits() -> None:
    view = render_form(FORM, private_metadata='{"channel": "C1"}')
    assert view["type"] == "modal" and view["callback_id"] == "rallybot-form:survey:pulse:2"
    assert len(view["title"]["text"]) <= 24 and view["submit"]["text"] == "Send"
    answer, extra = view["blocks"]
    assert (answer["block_id"], answer["element"]["action_id"]) == ("answer", "answer")
    assert answer["optional"] is False and answer["element"]["multiline"] is True
    assert answer["element"]["placeholder"]["text"] == "Anything"
    assert extra["optional"] is True and extra["element"]["multiline"] is False


async def test_a_click_opens_the_form_and_its_submission_becomes_form_submitted(
    endpoint: Endpoint,
) -> None:
    click = p.block_actions(
        user_id="U1", channel_id="C1", message_ts=p.ts_at(T0), action_id="survey", value="q2"
    )
    endpoint.fake.trigger_ids.add(click["trigger_id"])
    assert (await endpoint.poster.post_action(endpoint.url, click)).status_code == 200
    [clicked] = await endpoint.sink.wait_for(1)
    assert isinstance(clicked, ButtonClicked)

    assert await endpoint.adapter.open_form(clicked, FORM) is True
    [view] = endpoint.fake.views
    assert view["callback_id"] == "rallybot-form:survey:pulse:2"
    assert await endpoint.adapter.open_form(clicked, FORM) is False  # a trigger opens one view

    submission = p.view_submission(
        view, user_id="U1", values={"answer": "More coffee", "extra": None}
    )
    response = await endpoint.poster.post_action(endpoint.url, submission)
    assert response.status_code == 200 and response.text == ""  # acknowledged: modal closes
    _, submitted = await endpoint.sink.wait_for(2)
    assert isinstance(submitted, FormSubmitted)
    assert submitted.form_id == "survey:pulse:2"
    assert submitted.values == {"answer": "More coffee", "extra": ""}
    assert submitted.event_id == view["id"] and submitted.user.id == "U1"
    assert submitted.channel is not None and submitted.channel.id == "C1"


async def test_an_unknown_click_opens_no_form(endpoint: Endpoint) -> None:
    click = ButtonClicked(
        event_id="1.2:3.4:U1",
        platform="slack",
        user=UserRef("slack", "U1"),
        occurred_at=NOW,
        channel=ChannelRef("slack", "C1"),
        message_id="1.2",
        action_id="survey",
    )
    assert await endpoint.adapter.open_form(click, FORM) is False
    assert endpoint.fake.views == []


def test_views_that_are_not_ours_are_ignored() -> None:
    view = {**render_form(FORM), "id": "V1", "callback_id": "someone-else"}
    body = p.view_submission(view, user_id="U1", values={"answer": "x"})
    assert form_from_view_submission(body, now=NOW) is None


async def test_lookup_by_email_finds_active_members_only(endpoint: Endpoint) -> None:
    adapter = endpoint.adapter
    assert await adapter.lookup_by_email(" Ana@Acme.test ") == "U1"
    assert await adapter.lookup_by_email("nobody@acme.test") is None
    assert await adapter.lookup_by_email("gone@acme.test") is None  # deactivated
    assert await adapter.lookup_by_email("") is None
    assert len(endpoint.fake.calls_to("users.lookupByEmail")) == 3


async def test_lookup_by_email_works_before_start(db: Database) -> None:
    async with FakeSlack(scale=50) as fake:
        fake.add_user("U1", "Ana", email="ana@acme.test")
        async with slack_adapter(fake, db, http_port=0) as adapter:  # never started
            assert await adapter.lookup_by_email("ana@acme.test") == "U1"
