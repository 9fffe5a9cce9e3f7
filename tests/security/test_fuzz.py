"""Property-based fuzzing (hypothesis) of every entry point a member or the network reaches.

- the Slack endpoint's guard, unsigned and signed, on real-format envelopes with one field
  mutated: it never raises, and whatever it accepts the adapter's translation reads without
  raising; the real endpoint (HTTP, slack-bolt behind the guard) never answers 500;
- Discord gateway and interaction payloads with a mutated field: nothing escapes the adapter;
- the campaign, quiz, FAQ, rules and roster loaders: only their own load errors come out;
- every renderer with the hostile corpus and random text: no mention, link or markup added.

The budget is small in the normal suite (``ci`` profile) and long with ``make fuzz``; see
``tests/security/budget.py``. A crash found here becomes a regression test in
``test_findings.py`` or beside the code it concerns.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import yaml
from hypothesis import given
from hypothesis import strategies as st

from rallybot.bot.adapters.discord.render import render_message as render_discord
from rallybot.bot.adapters.slack.adapter import (
    clicks_from_block_actions,
    command_from_slash,
    event_from_callback,
    form_from_view_submission,
)
from rallybot.bot.adapters.slack.http_guard import Accepted, Ignored, Rejected, check_request
from rallybot.bot.adapters.slack.render import render_message as render_slack
from rallybot.bot.config import Settings
from rallybot.bot.messages import Button, Message, member
from rallybot.campaigns.faq import load_faq_text
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.quiz import load_bank_text
from rallybot.campaigns.roster import RosterLoadError, load_roster_text
from rallybot.campaigns.rules import load_rules_text
from rallybot.storage.database import Database
from tests.platform_discord import payloads as dp
from tests.platform_discord.adapter_support import (
    BOB,
    CHANNEL,
    GUILD,
    Recorder,
    build_world,
    close_adapter,
    start_adapter,
    tasks_settle,
)
from tests.platform_discord.fake_discord import FakeDiscord
from tests.platform_slack import payloads as p
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import SIGNING_SECRET, Sink, slack_adapter, slack_settings
from tests.platform_slack.signing import sign
from tests.security.budget import FUZZ, FUZZ_ROUNDS
from tests.security.checks import benign_twin, discord_problems, slack_problems
from tests.security.corpus import HOSTILE

NOW = int(time.time())
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_DELETE = object()


def _envelopes() -> list[tuple[dict[str, Any], str]]:
    """Real-format requests: (JSON body or interaction payload, how it is posted)."""
    ts = p.ts_at(NOW)
    events = [
        p.message_event(user="U1", channel="C1", text="hello", ts=ts),
        p.message_changed_event(
            user="U1", channel="C1", ts=ts, text="new", previous_text="old", edited_ts=ts
        ),
        p.message_deleted_event(user="U1", channel="C1", deleted_ts=ts, text="x", event_ts=ts),
        p.reaction_added_event(user="U1", reaction="tada", channel="C1", ts=ts, event_ts=ts),
        p.member_joined_channel_event(user="U1", channel="C1", event_ts=ts),
        p.team_join_event(p.user_object("U2", "member", "A member"), event_ts=ts),
        p.user_change_event(p.user_object("U2", "member", "A member"), event_ts=ts),
        p.app_mention_event(user="U1", channel="C1", text="<@UBOT> hi", ts=ts),
    ]
    out: list[tuple[dict[str, Any], str]] = [
        (p.event_callback(event, event_id=f"Ev{n}", event_time=NOW), "json")
        for n, event in enumerate(events)
    ]
    out.append((p.url_verification("challenge"), "json"))
    out.append(
        (
            p.block_actions(
                user_id="U1", channel_id="C1", message_ts=ts, action_id="quiz-answer", value="1"
            ),
            "payload",
        )
    )
    view = {
        "id": "V1",
        "callback_id": "rallybot-form:survey",
        "private_metadata": '{"channel": "C1"}',
        "blocks": [{"type": "input", "block_id": "q1", "element": {"action_id": "q1"}}],
    }
    out.append((p.view_submission(view, user_id="U1", values={"q1": "fine"}), "payload"))
    out.append((p.slash_command("top", "U1", "C1"), "command"))
    return out


ENVELOPES = _envelopes()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _mutate(value: dict[str, Any], path: tuple[Any, ...], new: Any) -> dict[str, Any]:
    result = copy.deepcopy(value)
    parent: Any = result
    for step in path[:-1]:
        parent = parent[step]
    if new is _DELETE and isinstance(parent, dict):
        del parent[path[-1]]
    elif new is not _DELETE:
        parent[path[-1]] = new
    return result


def _encode(body: dict[str, Any], kind: str) -> tuple[bytes, str]:
    if kind == "json":
        return json.dumps(body).encode(), "application/json"
    if kind == "payload":
        return urlencode(
            {"payload": json.dumps(body)}
        ).encode(), "application/x-www-form-urlencoded"
    return urlencode(
        {k: str(v) for k, v in body.items()}
    ).encode(), "application/x-www-form-urlencoded"


@st.composite
def mutated_requests(draw: st.DrawFn) -> tuple[bytes, str]:
    """A real-format request with one field replaced by any JSON value, or removed."""
    body, kind = draw(st.sampled_from(ENVELOPES))
    paths = _paths(body)
    path = draw(st.sampled_from(paths))
    new = draw(st.just(_DELETE) | JSON_VALUES | st.sampled_from(HOSTILE))
    return _encode(_mutate(body, path, new), kind)


def _translate(body: str) -> None:
    """Run the adapter's pure translation on an accepted body, as its listeners would."""
    now = datetime.now(UTC)
    if body.lstrip().startswith("{"):
        event_from_callback(json.loads(body), now=now)
        return
    form = parse_qs(body, keep_blank_values=True)
    if "payload" in form:
        payload = json.loads(form["payload"][0])
        if payload.get("type") == "block_actions":
            clicks_from_block_actions(payload, now=now)
        else:
            form_from_view_submission(payload, now=now)
    elif "command" in form:
        command_from_slash({k: v[0] for k, v in form.items()}, now=now)


# ---------------------------------------------------------------------------- Slack guard


@FUZZ
@given(
    request=mutated_requests(),
    signed=st.booleans(),
    stamp=st.one_of(st.none(), st.text(max_size=14)),
)
def test_the_slack_guard_answers_every_request_and_what_it_accepts_translates(
    request: tuple[bytes, str], signed: bool, stamp: str | None
) -> None:
    body, _ = request
    headers = sign(SIGNING_SECRET if signed else "wrong", body, NOW)
    if stamp is not None:
        headers["X-Slack-Request-Timestamp"] = stamp
    verdict = check_request(headers, body, signing_secret=SIGNING_SECRET, now=NOW)
    assert isinstance(verdict, Accepted | Ignored | Rejected)
    if isinstance(verdict, Rejected):  # a 4xx whose reason never quotes the body
        assert 400 <= verdict.status < 500
        assert len(body) < 12 or body.decode("utf-8", "replace")[:12] not in verdict.reason
    if not signed or (stamp is not None and stamp != str(NOW)):
        assert isinstance(verdict, Rejected) and verdict.status == 401
    if isinstance(verdict, Accepted):
        _translate(verdict.body)


@FUZZ
@given(
    body=st.binary(max_size=300),
    headers=st.dictionaries(st.text(max_size=30), st.text(max_size=80), max_size=4),
)
def test_the_slack_guard_survives_any_bytes_and_headers(
    body: bytes, headers: dict[str, str]
) -> None:
    for trial in (headers, {**headers, **sign(SIGNING_SECRET, body, NOW)}):
        verdict = check_request(trial, body, signing_secret=SIGNING_SECRET, now=NOW)
        assert isinstance(verdict, Accepted | Ignored | Rejected)
        if isinstance(verdict, Accepted):
            _translate(verdict.body)


async def test_the_slack_endpoint_never_answers_500(db: Database) -> None:
    """End to end: mutated, signed requests through the guard and slack-bolt."""
    rng = random.Random(12)
    async with FakeSlack(scale=50) as fake:
        settings = slack_settings(fake, database_url="sqlite:///unused-by-these-tests.db")
        async with slack_adapter(fake, db, http_port=0, settings=settings) as adapter:
            await adapter.start(Sink())
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            async with httpx.AsyncClient() as client:
                for _ in range(FUZZ_ROUNDS):
                    body, content_type = _draw(rng)
                    headers = {
                        **sign(SIGNING_SECRET, body, int(time.time())),
                        "Content-Type": content_type,
                    }
                    response = await client.post(url, content=body, headers=headers)
                    assert response.status_code < 500, body[:200]
            await adapter.idle()


def _draw(rng: random.Random) -> tuple[bytes, str]:
    """One mutated request drawn with ``rng`` (deterministic, outside @given)."""
    body, kind = ENVELOPES[rng.randrange(len(ENVELOPES))]
    paths = _paths(body)
    path = paths[rng.randrange(len(paths))]
    choices: list[Any] = [_DELETE, None, 0, -1, 1.5, True, "", "x", [], {}, [None], {"a": None}]
    choices.extend(rng.sample(HOSTILE, 3))
    return _encode(_mutate(body, path, rng.choice(choices)), kind)


# ---------------------------------------------------------------------------- Discord payloads


def _discord_payloads() -> list[tuple[str, dict[str, Any]]]:
    channel = dp.text_channel(CHANNEL, GUILD, "announcements")
    message = dp.message_create(
        message_id=dp.snowflake(),
        channel_id=CHANNEL,
        author_id=BOB,
        author_name="member",
        content="hi",
        guild_id=GUILD,
    )
    return [
        ("MESSAGE_CREATE", message),
        (
            "MESSAGE_REACTION_ADD",
            dp.reaction_add(
                user_id=BOB,
                channel_id=CHANNEL,
                message_id=dp.snowflake(),
                emoji="🎉",
                guild_id=GUILD,
            ),
        ),
        (
            "INTERACTION_CREATE",
            dp.component_interaction(
                interaction_id=dp.snowflake(),
                token="t",
                custom_id="rb:quiz-answer:1",
                user_id=BOB,
                channel=channel,
                message=message,
                guild_id=GUILD,
            ),
        ),
        (
            "INTERACTION_CREATE",
            dp.modal_submit_interaction(
                interaction_id=dp.snowflake(),
                token="t",
                custom_id="rallybot-form:survey",
                values={"q1": "fine"},
                user_id=BOB,
                channel=channel,
                guild_id=GUILD,
            ),
        ),
    ]


async def test_discord_payloads_with_a_mutated_field_are_dropped_not_raised() -> None:
    rng = random.Random(7)
    originals = _discord_payloads()
    async with FakeDiscord() as fake:
        build_world(fake)
        sink = Recorder()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url="sqlite:///unused-by-these-tests.db",
            discord_token=fake.token,
            discord_guild_ids=[GUILD],
            discord_api_url=fake.base_url,
        )
        adapter = await start_adapter(fake, sink, settings=settings)
        try:
            parsers = adapter.client._connection.parsers
            for _ in range(FUZZ_ROUNDS):
                event, payload = originals[rng.randrange(len(originals))]
                paths = _paths(payload)
                path = paths[rng.randrange(len(paths))]
                choices: list[Any] = [_DELETE, None, 0, "x", [], {}, [None], True, "<@&1>"]
                mutated = _mutate(payload, path, rng.choice(choices))
                parsers[event](mutated)  # raises if a payload escapes the guard
                await tasks_settle()
        finally:
            await close_adapter(adapter)


# ---------------------------------------------------------------------------- loaders


YAML_DATA = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=30)
    | st.sampled_from(HOSTILE[:40]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
LOADERS: dict[str, Callable[[str], object]] = {
    "campaign": lambda text: load_campaign_text(text, "fuzz.yaml"),
    "quiz": lambda text: load_bank_text(text, "fuzz.yaml"),
    "faq": lambda text: load_faq_text(text, "fuzz.yaml"),
    "rules": lambda text: load_rules_text(text, "fuzz.yaml"),
    "roster": lambda text: load_roster_text(text, "fuzz.csv", default_timezone="UTC"),
}
_LOAD_ERRORS = (CampaignLoadError, RosterLoadError)


@FUZZ
@given(kind=st.sampled_from(sorted(LOADERS)), text=st.text(max_size=400))
def test_loaders_refuse_any_text_with_their_own_errors(kind: str, text: str) -> None:
    with contextlib.suppress(_LOAD_ERRORS):
        LOADERS[kind](text)


@FUZZ
@given(
    kind=st.sampled_from(sorted(LOADERS)),
    data=st.dictionaries(st.text(max_size=12), YAML_DATA, max_size=6),
)
def test_loaders_refuse_any_structure_with_their_own_errors(
    kind: str, data: dict[str, Any]
) -> None:
    text = yaml.safe_dump(data, allow_unicode=True) if kind != "roster" else _csv(data)
    with contextlib.suppress(_LOAD_ERRORS):
        LOADERS[kind](text)


def _csv(data: dict[str, Any]) -> str:
    header = ",".join(json.dumps(str(k)) for k in data)
    row = ",".join(json.dumps(str(v)) for v in data.values())
    return f"email,{header}\nmember@example.com,{row}\n"


# ---------------------------------------------------------------------------- renderers


@FUZZ
@given(
    text=st.text(max_size=300) | st.sampled_from(HOSTILE),
    extra=st.text(max_size=40),
    layout=st.sampled_from(["plain", "titled", "context", "long"]),
)
def test_renderers_escape_any_member_text(text: str, extra: str, layout: str) -> None:
    def build(who: str, helper: str) -> Message:
        body = f"Hello {member(who, 500)}, from <@{helper}>: **welcome**!"
        if layout == "long":
            body = "\n\n".join([body] * 15)
        return Message(
            text=body,
            title=f"For {member(who)}" if layout == "titled" else None,
            context=f"About {member(who)}" if layout == "context" else None,
            buttons=(Button(f"Thanks {member(who, 20)}", action_id="thanks", value="1"),),
        )

    hostile, benign = text + extra, benign_twin(text + extra)
    slack = slack_problems(
        render_slack(build(hostile, "U0HELPER")),
        render_slack(build(benign, "U0HELPER")),
        mentions=["U0HELPER"],
    )
    assert slack == []
    discord = discord_problems(
        render_discord(build(hostile, "42")), render_discord(build(benign, "42")), mentions=["42"]
    )
    assert discord == []
