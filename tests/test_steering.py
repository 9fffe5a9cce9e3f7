"""Steering from chat: preview, send now, skip, pending, timeline, and ``must_send``; for
community managers only, audited; on the memory adapter, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock, utcnow
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, CommandInvoked, UserRef
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.database import Database
from rallybot.storage.helpdesk_models import HelpTicket
from rallybot.storage.models import CampaignStatus, Delivery, Member, table_of
from rallybot.storage.repositories import set_campaign_status, upsert_member

LAUNCH = datetime(2027, 3, 2, 8, 30, tzinfo=UTC)  # 09:30 in Paris
_ids = itertools.count()

CAMPAIGN = """\
id: launch
title: Launch
timezone: Europe/Paris
milestones:
  launch: 2027-03-02 09:30
channels:
  annonces: general
audiences:
  pilote: {cohort: pilote}
steps:
  - id: teaser
    at: launch - 1d at 09:00
    post: annonces
    text: Tomorrow!
  - id: ceo
    at: launch
    post: annonces
    text: Connect is open.
    must_send: true
  - id: invite
    at: launch + 1d at 10:00
    for: pilote
    dm:
      en: "Hello {first_name}, welcome to the pilot"
      fr: "Bonjour {first_name}, bienvenue dans le pilote"
    buttons:
      - {label: Open Connect, url: "https://connect.example.com"}
"""

CM = UserRef("memory", "cm", name="CM")
MEMBER = UserRef("memory", "m1", name="M1")


class World:
    def __init__(self, bot: Rallybot, adapter: MemoryAdapter, clock: SimulatedClock) -> None:
        self.bot, self.adapter, self.clock = bot, adapter, clock

    async def command(self, who: UserRef, name: str, *args: str) -> str:
        before = len(self.adapter.directs)
        await self.bot.handle(
            CommandInvoked(
                event_id=f"cmd-{next(_ids)}",
                platform="memory",
                user=who,
                occurred_at=self.clock.now(),
                name=name,
                args=args,
            )
        )
        answers = [d for d in self.adapter.directs[before:] if d.target == who.id]
        assert answers, f"no answer to /rallybot {name}"
        return answers[0].message.text

    def dms_to(self, who: str) -> list[str]:
        return [d.message.text for d in self.adapter.directs if d.target == who]


async def make_world(db: Database, tmp_path: Path, *, quiet: str = "off") -> World:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "launch.yaml").write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=3))
    adapter = MemoryAdapter()
    settings = Settings(database_url="sqlite://", admins=["memory:cm"], quiet_hours=quiet)
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[folder])
    assert not (await bot.reload()).errors
    for uid, cohort, locale in (("m1", "pilote", "fr"), ("m2", "pilote", "en"), ("m3", "x", "en")):
        await upsert_member(
            db, "memory", uid, clock.now(), first_name=uid.upper(), cohort=cohort, locale=locale
        )
    await upsert_member(db, "memory", "cm", clock.now(), first_name="Cm", locale="fr")
    return World(bot, adapter, clock)


async def test_members_are_refused_every_control(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    for name in ("preview", "send", "skip", "pending", "timeline"):
        answer = await w.command(MEMBER, name, "invite")
        assert answer == f"« /rallybot {name} » est réservé aux community managers."  # m1 is French
    english = UserRef("memory", "m2", name="M2")
    assert (
        await w.command(english, "skip", "x") == '"/rallybot skip" is for community managers only.'
    )
    async with db.read() as session:
        assert (await session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))) == 0


async def test_preview_sends_me_the_message_in_a_language(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    head = await w.command(CM, "preview", "invite", "en")
    assert head == "Aperçu de « invite » (launch), langue en, tel qu'un membre le verrait :"
    preview = w.adapter.directs[-1]
    assert preview.target == "cm"
    assert preview.message.text == "Hello Cm, welcome to the pilot"
    assert [b.label for b in preview.message.buttons] == ["Open Connect"]
    await w.command(CM, "preview", "invite")  # my own language
    assert w.adapter.directs[-1].message.text == "Bonjour Cm, bienvenue dans le pilote"
    assert await w.command(CM, "preview", "nope") == (
        "Aucune étape « nope » dans les campagnes chargées. Étapes : ceo, invite, teaser."
    )
    async with db.read() as session:
        actions = (await session.execute(sa.select(AuditEntry.actor, AuditEntry.action))).all()
    assert [tuple(a) for a in actions] == [("memory:cm", "preview"), ("memory:cm", "preview")]


async def test_the_audit_log_keeps_real_time_on_a_simulated_clock(
    db: Database, tmp_path: Path
) -> None:
    """The console records its own entries in real time: a chat command's entry too, or the
    log would mix the two clocks (the campaigns here play three days before their launch)."""
    w = await make_world(db, tmp_path)
    before = utcnow()
    await w.command(CM, "preview", "invite")
    async with db.read() as session:
        [at] = (await session.execute(sa.select(AuditEntry.at))).scalars()
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    assert before <= at <= utcnow()
    assert abs(at - w.clock.now()) > timedelta(hours=1)


async def test_send_now_reaches_the_audience_once(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    answer = await w.command(CM, "send", "invite")
    # The invite is planned for them later: the send now takes its place, and says so.
    assert answer.splitlines() == [
        "Envoi de « invite » maintenant à 2 membres.",
        "2 d'entre eux devaient encore le recevoir plus tard comme prévu : ce message remplace "
        "celui-là.",
    ]
    await w.bot.dispatch_tick(drain=True)
    assert w.dms_to("m1") == ["Bonjour M1, bienvenue dans le pilote"]
    assert w.dms_to("m2") == ["Hello M2, welcome to the pilot"]
    assert w.dms_to("m3") == []
    # To one member only.
    assert await w.command(CM, "send", "invite", "to", "@m3") == (
        "Envoi de « invite » maintenant à 1 membre."
    )
    await w.bot.dispatch_tick(drain=True)
    assert w.dms_to("m3") == ["Hello M3, welcome to the pilot"]
    await w.bot.advance_to(LAUNCH + timedelta(days=2))
    assert len(w.dms_to("m1")) == 1  # the send now took the place of the planned one
    assert await w.command(CM, "send", "invite", "to", "@ghost") == "Je ne connais pas @ghost."
    # The audit log keeps counts, no English words; the console's audit page tells them.
    async with db.read() as session:
        targets = (
            await session.scalars(
                sa.select(AuditEntry.target)
                .where(AuditEntry.action == "send")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert targets == ["launch/invite members=2 had=0", "launch/invite members=1 had=0"]


async def _invite_rows(db: Database) -> list[tuple[str, str, str, str | None]]:
    T = table_of(Delivery).c
    async with db.read() as session:
        rows = await session.execute(
            sa.select(T.recipient, T.occurrence, T.status, T.reason)
            .where(T.step_id == "invite")
            .order_by(T.recipient, T.id)
        )
        return [tuple(r) for r in rows.all()]


async def test_send_now_takes_the_place_of_the_planned_message(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    # Days before: the planner has not written the invite yet (it plans minutes ahead); the
    # send now takes the place of the planned one all the same, and says so.
    assert (await w.command(CM, "send", "invite", "to", "@m1")).splitlines() == [
        "Envoi de « invite » maintenant à 1 membre.",
        "1 d'entre eux devait encore le recevoir plus tard comme prévu : ce message remplace "
        "celui-là.",
    ]
    await w.bot.advance_to(LAUNCH + timedelta(days=1, minutes=27))  # due at 09:00 UTC
    await w.bot.plan_tick()
    assert sorted(r[2] for r in await _invite_rows(db)) == ["cancelled", "pending", "sent"]
    # Now the planned one waits in the outbox: the send now takes its place.
    answer = await w.command(CM, "send", "invite", "to", "@m2")
    assert answer.splitlines() == [
        "Envoi de « invite » maintenant à 1 membre.",
        "1 d'entre eux devait encore le recevoir plus tard comme prévu : ce message remplace "
        "celui-là.",
    ]
    await w.bot.advance_to(LAUNCH + timedelta(days=3))
    assert w.dms_to("m1") == ["Bonjour M1, bienvenue dans le pilote"]  # once, not twice
    assert w.dms_to("m2") == ["Hello M2, welcome to the pilot"]
    rows = await _invite_rows(db)
    assert sorted(
        (occurrence == "once", status, reason) for _, occurrence, status, reason in rows
    ) == [
        (False, "sent", None),
        (False, "sent", None),
        (True, "cancelled", "replaced: sent now by CM"),
        (True, "cancelled", "replaced: sent now by CM"),
    ]


async def test_send_now_does_not_send_again_to_who_has_it(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    await w.command(CM, "send", "invite", "to", "@m1")
    await w.bot.dispatch_tick(drain=True)
    answer = await w.command(CM, "send", "invite")
    assert answer.splitlines() == [
        "Envoi de « invite » maintenant à 1 membre.",
        "1 membre l'a déjà (ou est en train de le recevoir) : pas une seconde fois.",
        "1 d'entre eux devait encore le recevoir plus tard comme prévu : ce message remplace "
        "celui-là.",
    ]
    await w.bot.advance_to(LAUNCH + timedelta(days=3))
    assert w.dms_to("m1") == ["Bonjour M1, bienvenue dans le pilote"]
    assert w.dms_to("m2") == ["Hello M2, welcome to the pilot"]
    assert await w.command(CM, "send", "invite", "to", "@m2") == (
        "Envoi de « invite » maintenant à 0 membre.\n"
        "1 membre l'a déjà (ou est en train de le recevoir) : pas une seconde fois."
    )


async def test_a_dispatcher_racing_send_now_sends_once(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    await w.bot.advance_to(LAUNCH + timedelta(days=1, minutes=27))  # the invite is due at 09:00
    await w.bot.plan_tick()
    assert [r[2] for r in await _invite_rows(db)] == ["pending", "pending"]
    w.clock.set(LAUNCH + timedelta(days=1, minutes=31))  # due now: both race for the rows
    await asyncio.gather(
        w.bot.dispatch_tick(drain=True), w.command(CM, "send", "invite"), w.bot.dispatch_tick()
    )
    await w.bot.advance_to(LAUNCH + timedelta(days=3))
    assert w.dms_to("m1") == ["Bonjour M1, bienvenue dans le pilote"]
    assert w.dms_to("m2") == ["Hello M2, welcome to the pilot"]


async def test_send_now_waits_for_the_end_of_quiet_hours(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path, quiet="21:00-08:00")
    # 03:30 in Montreal: inside m1's quiet hours; 09:30 in Paris for m2.
    await upsert_member(db, "memory", "m1", w.clock.now(), timezone="America/Montreal")
    answer = await w.command(CM, "send", "invite")
    assert answer.splitlines()[-1] == (
        "1 d'entre eux est dans ses heures calmes : il le recevra quand elles prendront fin."
    )
    await w.bot.dispatch_tick(drain=True)
    assert w.dms_to("m1") == [] and len(w.dms_to("m2")) == 1
    await w.bot.advance_to(w.clock.now() + timedelta(hours=5))  # 08:30 in Montreal
    assert w.dms_to("m1") == ["Bonjour M1, bienvenue dans le pilote"]


async def test_skip_stops_what_was_not_sent_and_send_brings_it_back(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    answer = await w.command(CM, "skip", "teaser")
    assert answer == "« teaser » sautée : 1 message pas encore envoyé ne partira pas."
    await w.bot.advance_to(LAUNCH - timedelta(hours=1))
    assert "Tomorrow!" not in [d.message.text for d in w.adapter.posts]
    await w.command(CM, "send", "teaser")
    await w.bot.dispatch_tick(drain=True)
    assert [d.message.text for d in w.adapter.posts].count("Tomorrow!") == 1
    T = table_of(Delivery).c
    async with db.read() as session:
        rows = (
            await session.execute(sa.select(T.status, T.reason).where(T.step_id == "teaser"))
        ).all()
    assert sorted(r.status for r in rows) == ["sent", "skipped"]


async def test_must_send_goes_out_late_after_a_pause(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    await w.bot.advance_to(LAUNCH - timedelta(hours=2))
    await set_campaign_status(db, "launch", CampaignStatus.paused, w.clock.now())
    await w.bot.advance_to(LAUNCH + timedelta(hours=18))  # an 18-hour pause over launch
    await set_campaign_status(db, "launch", CampaignStatus.active, w.clock.now())
    await w.bot.advance_to(LAUNCH + timedelta(hours=19))
    texts = [d.message.text for d in w.adapter.posts]
    assert texts.count("Connect is open.") == 1  # late, not lost


async def test_pending_and_timeline(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    assert await w.command(CM, "pending") == (
        "Rien ne vous attend : aucune preuve à juger, aucune question sans réponse, aucun envoi en "
        "échec."
    )
    answer = await w.command(CM, "timeline", "4")
    assert answer.splitlines()[0] == "4 jours à venir (UTC) :"
    assert "teaser → #annonces" in answer
    assert "ceo → #annonces" in answer
    assert "invite" not in answer  # on the fifth day
    assert await w.command(CM, "timeline", "soon") == "Utilisation : /rallybot timeline [jours]"


async def test_pending_offers_buttons_and_retry_sends_failed_deliveries_again(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    await w.command(CM, "send", "invite")
    T = table_of(Delivery).c
    async with db.session() as session:  # the platform refused them: failed for good
        await session.execute(
            sa.update(table_of(Delivery))
            .where(T.step_id == "invite", T.status == "pending")
            .values(status="failed", reason="the platform refused it")
        )
        member = (
            await session.execute(sa.select(Member.id).where(Member.platform_user_id == "m1"))
        ).scalar_one()
        session.add(
            ChallengeSubmission(
                challenge="launch/post3", member_id=member, text="a link", submitted_at=LAUNCH
            )
        )
        session.add(HelpTicket(platform="memory", channel_id="help", message_id="q1"))
    before = len(w.adapter.directs)
    answer = await w.command(CM, "pending")
    assert "• 1 preuve de défi à valider : #1 (launch/post3)" in answer
    assert "• 2 envois en échec : launch/invite ×2" in answer
    shown = [d.message for d in w.adapter.directs[before:] if d.message.buttons]
    assert "• 1 question d'aide sans réponse : #1" in answer
    assert [[b.label for b in m.buttons] for m in shown] == [
        ["Accepter", "Refuser"],
        ["Je m'en occupe", "Résolu"],
        ["Renvoyer"],
    ]
    retry = shown[2].buttons[0]
    await w.bot.handle(
        ButtonClicked(
            event_id="click-retry",
            platform="memory",
            user=CM,
            occurred_at=w.clock.now(),
            channel=ChannelRef("memory", "dm-cm", is_direct=True),
            message_id="m",
            action_id=retry.action_id or "",
            value=retry.value,
        )
    )
    assert w.dms_to("cm")[-1] == "launch/invite : 2 envois en échec remis en file."
    await w.bot.dispatch_tick(drain=True)
    assert w.dms_to("m1") == ["Bonjour M1, bienvenue dans le pilote"]
    # A member's click on the same button changes nothing.
    await w.bot.handle(
        ButtonClicked(
            event_id="click-member",
            platform="memory",
            user=MEMBER,
            occurred_at=w.clock.now(),
            channel=ChannelRef("memory", "dm-m1", is_direct=True),
            message_id="m",
            action_id=retry.action_id or "",
            value=retry.value,
        )
    )
    assert w.dms_to("m1")[-1] == "« /rallybot pending » est réservé aux community managers."


async def test_a_german_manager_steers_in_german(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    await upsert_member(db, "memory", "cm", w.clock.now(), locale="de")
    assert (await w.command(CM, "send", "invite")).splitlines() == [
        "„invite“ wird jetzt an 2 Mitglieder gesendet.",
        "2 davon sollten es später noch planmäßig bekommen: diese Nachricht ersetzt jene.",
    ]
    assert await w.command(CM, "send", "invite", "to", "@m3") == (
        "„invite“ wird jetzt an 1 Mitglied gesendet."
    )
    assert await w.command(CM, "skip") == "Verwendung: /rallybot skip SCHRITT"
    answer = await w.command(CM, "timeline", "4")
    lines = answer.splitlines()
    assert lines[0] == "Die nächsten 4 Tage (UTC):"
    assert any(
        line.startswith("• Mo., 1. März, ") and "teaser → #annonces" in line for line in lines
    )
    assert await w.command(CM, "timeline", "1") == "Innerhalb von 1 Tag geht nichts raus."
