"""Act: preview a step to myself, send a step now, skip it, or send its failed messages
again; each after a confirmation that says how many people it reaches. The same functions
as ``/rallybot preview``, ``send``, ``skip`` and the Retry button (:mod:`handlers.steering`),
so the console never acts differently from chat. Every action is audited. Served alone
(``rallybot console``), the console writes into the outbox of the bot that runs on the same
database, which sends it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from rallybot.bot import formats
from rallybot.campaigns.schema import Campaign, Step
from rallybot.handlers.console.act_kit import console_of, form_key, steering_of
from rallybot.handlers.console.act_services import (
    STEP_STATES,
    Reach,
    StepRow,
    preview_to,
    reach_of,
    step_label,
    step_rows,
)
from rallybot.handlers.console.kit import (
    ConsoleState,
    Page,
    Role,
    Viewer,
    audit,
    console_state,
    render,
    require,
)
from rallybot.handlers.console.sources import timeline_source
from rallybot.handlers.console.words import N_, gettext, language_name, ngettext
from rallybot.handlers.steering.service import (
    SentNow,
    find_step,
    retry_failed,
    send_now,
    send_now_outlook,
    skip_outlook,
    skip_step,
)
from rallybot.storage.models import Delivery, DeliveryStatus, table_of
from rallybot.storage.repositories import get_member

__all__ = ["ActDone", "ActIn", "ReachOut", "SendIn", "StepOut", "page"]

router = APIRouter()
api = APIRouter(tags=["act"])

D = table_of(Delivery).c


Action = Literal["send", "skip", "retry"]


class StepOut(BaseModel):
    """A step of a loaded campaign: its words in the reader's language, when it is due, its
    state and its messages (``planned``: what the files will send in the next two months)."""

    campaign: str
    step: str
    kind: str
    target: str
    pending: int
    failed: int
    campaign_title: str
    title: str
    detail: str
    extract: str
    schedule: str = Field(description="When it is sent, in the reader's words.")
    schedule_file: str = Field(description="When it is sent, as the campaign file writes it.")
    due: datetime | None = Field(
        description="The next message (waiting or planned), else the last one (see due_next)."
    )
    due_next: bool
    state: Literal[STEP_STATES]  # type: ignore[valid-type]
    sending: int
    sent: int
    skipped: int
    cancelled: int
    replaced: int = Field(
        default=0, description="Cancelled because a send now replaced them (not in cancelled)."
    )
    planned: int


class ReachOut(BaseModel):
    """Whom sending a step now reaches."""

    campaign: str
    step: str
    kind: str
    target: str
    people: int
    problem: str | None = None


class ActIn(BaseModel):
    """A step, by its campaign and id."""

    campaign: str = Field(min_length=1, max_length=100)
    step: str = Field(min_length=1, max_length=100)


class SendIn(ActIn):
    """Send a step now; ``key`` makes a repeated request act once; ``target``: an audience
    or ``@name`` (None: the step's audiences). For a preview, ``locale`` is the language."""

    key: str = Field(min_length=8, max_length=64)
    target: str | None = Field(default=None, max_length=100)
    locale: str | None = Field(default=None, max_length=16)


class ActDone(BaseModel):
    """What an action did: messages queued, skipped or queued again; ``people`` reached. For
    a send: ``already``, the people left out because they have the step already (or it is
    being sent to them); ``replaced``, the queued messages that took the place of the same
    step still waiting for its recipient (cancelled); ``quiet``, the queued ones waiting for
    the end of their recipient's quiet hours."""

    action: str
    campaign: str
    step: str
    count: int
    people: int | None = None
    already: int = 0
    replaced: int = 0
    quiet: int = 0


def _step(state: ConsoleState, campaign: str, step: str) -> tuple[Campaign, Step]:
    found = find_step(console_of(state).campaigns, f"{campaign}/{step}")
    if isinstance(found, str):
        raise HTTPException(404, found)
    return found


async def _count(state: ConsoleState, campaign: str, step: str, status: DeliveryStatus) -> int:
    async with state.db.read() as session:
        value = await session.scalar(
            sa.select(sa.func.count())
            .select_from(table_of(Delivery))
            .where(D.campaign_id == campaign, D.step_id == step, D.status == status.value)
        )
    return int(value or 0)


def _reach_out(reach: Reach) -> ReachOut:
    return ReachOut(
        campaign=reach.campaign,
        step=reach.step,
        kind=reach.kind,
        target=reach.target,
        people=reach.people,
        problem=reach.problem,
    )


# ---------------------------------------------------------------------------- actions


async def _send(state: ConsoleState, viewer: Viewer, order: SendIn) -> ActDone:
    campaign, step = _step(state, order.campaign, order.step)
    reach = await reach_of(console_of(state), campaign, step, order.target, locale=viewer.locale)
    if reach.problem is not None:
        raise HTTPException(422, reach.problem)
    if step.is_dm and not reach.members:
        raise HTTPException(422, gettext(viewer.locale, "Nobody to send it to."))
    done = await send_now(
        steering_of(state), campaign, step, reach.members, f"console:{order.key}", viewer.name
    )
    if done.queued or done.already:
        await audit(
            state,
            viewer,
            "send",
            f"{campaign.id}/{step.id} to {done.queued} of {reach.people} people, "
            f"{done.already} had it",
        )
    return ActDone(
        action="send",
        campaign=campaign.id,
        step=step.id,
        count=done.queued,
        people=reach.people,
        already=done.already,
        replaced=done.replaced,
        quiet=done.quiet,
    )


async def _skip(state: ConsoleState, viewer: Viewer, order: ActIn) -> ActDone:
    campaign, step = _step(state, order.campaign, order.step)
    count = await skip_step(steering_of(state), campaign, step)
    await audit(state, viewer, "skip", f"{campaign.id}/{step.id}")
    return ActDone(action="skip", campaign=campaign.id, step=step.id, count=count)


async def _retry(state: ConsoleState, viewer: Viewer, order: ActIn) -> ActDone:
    campaign, step = _step(state, order.campaign, order.step)
    console = console_of(state)
    now = console.clock.now()
    count = await retry_failed(state.db, campaign.id, step.id, now, console.settings.grace)
    console.request_plan()
    await audit(state, viewer, "retry", f"{campaign.id}/{step.id}")
    return ActDone(action="retry", campaign=campaign.id, step=step.id, count=count)


async def _preview(state: ConsoleState, viewer: Viewer, order: SendIn) -> ActDone:
    campaign, step = _step(state, order.campaign, order.step)
    me = await get_member(state.db, viewer.member_id) if viewer.member_id is not None else None
    if me is None:
        raise HTTPException(
            422,
            gettext(
                viewer.locale,
                "The bot does not know you as a member yet: it cannot send you a preview.",
            ),
        )
    queued, locale = await preview_to(
        console_of(state), campaign, step, me, f"console:{order.key}", order.locale
    )
    await audit(state, viewer, "preview", f"{campaign.id}/{step.id} {locale}")
    return ActDone(action="preview", campaign=campaign.id, step=step.id, count=queued, people=1)


# ---------------------------------------------------------------------------- pages


# The words of a step's state on the Act page.
_STATE_WORDS = {
    "planned": N_("planned"),
    "waiting": N_("waiting"),
    "partly-sent": N_("partly sent"),
    "sent": N_("sent"),
    "paused": N_("paused"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
    "cancelled": N_("cancelled"),
    # Translators: a one-off step whose time went by before the bot could send it.
    "passed": N_("time passed, not sent"),
    # Translators: a step with nothing planned (no member has it ahead).
    "none": N_("nothing planned"),
}


async def _rows(request: Request, state: ConsoleState, locale: str) -> list[StepRow]:
    """The steps in ``locale``, with what the console's timeline plans for them."""
    now = state.clock.now()
    planned = await timeline_source(request, state).planned(now)
    return await step_rows(console_of(state), locale, planned=planned, now=now)


async def _page(
    request: Request, viewer: Viewer, state: ConsoleState, **context: object
) -> HTMLResponse:
    rows = await _rows(request, state, viewer.locale)
    values: dict[str, object] = {
        "rows": rows,
        "zone": state.settings.timezone,
        "campaigns_now": state.clock.now(),
        "state_words": {k: gettext(viewer.locale, v) for k, v in _STATE_WORDS.items()},
        "key": form_key(),
        "notice": None,
        "problem": None,
        **context,
    }
    return render(request, viewer, "act.html", values)


@router.get("/act", name="act", response_class=HTMLResponse)
async def act_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> HTMLResponse:
    """Every step of the loaded campaigns, with what waits and what failed."""
    return await _page(request, viewer, state)


@router.get("/act/confirm", name="act_confirm", response_class=HTMLResponse)
async def act_confirm(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Annotated[str, Query(max_length=100)],
    step: Annotated[str, Query(max_length=100)],
    action: Annotated[Action, Query()] = "send",
    target: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """Ask before acting, saying how many people (or messages) it concerns."""
    found_campaign, found_step = _step(state, campaign, step)
    names = {
        "step": step_label(found_campaign, found_step, viewer.locale, state.clock.now()),
        "campaign": found_campaign.spec.title or found_campaign.id,
    }
    reach: Reach | None = None
    if action == "send":
        reach = await reach_of(
            console_of(state), found_campaign, found_step, target or None, locale=viewer.locale
        )
        outlook = await send_now_outlook(
            steering_of(state), found_campaign, found_step, reach.members
        )
        if found_step.is_dm:
            asked = ngettext(
                viewer.locale,
                "Send “{step}” ({campaign}) now to {people} member?",
                "Send “{step}” ({campaign}) now to {people} members?",
                reach.people,
            )
        elif reach.people == 0:
            # "0 members known there" read as "it reaches nobody": the channel's members are
            # only unknown to the bot (not synced yet, or a platform that says nothing).
            asked = gettext(
                viewer.locale,
                "Post “{step}” ({campaign}) now in {target}? Everyone in the channel will see "
                "it (the bot does not know its members yet).",
            )
        else:
            asked = ngettext(
                viewer.locale,
                "Post “{step}” ({campaign}) now in {target}? {people} member known there.",
                "Post “{step}” ({campaign}) now in {target}? {people} members known there.",
                reach.people,
            )
        question = " ".join(
            [
                asked.format(
                    people=_num(viewer.locale, reach.people), target=reach.target, **names
                ),
                *_outlook_words(viewer.locale, found_step, outlook),
            ]
        )
    elif action == "skip":
        # The same count the skip reports: the waiting messages and the planned ones.
        stopped = await skip_outlook(steering_of(state), found_campaign, found_step)
        question = ngettext(
            viewer.locale,
            "Skip “{step}” ({campaign})? {count} message, waiting or planned, will not go.",
            "Skip “{step}” ({campaign})? {count} messages, waiting or planned, will not go.",
            stopped,
        ).format(count=_num(viewer.locale, stopped), **names)
    else:
        failed = await _count(state, campaign, step, DeliveryStatus.failed)
        question = ngettext(
            viewer.locale,
            "Send the {failed} failed message of “{step}” ({campaign}) again?",
            "Send the {failed} failed messages of “{step}” ({campaign}) again?",
            failed,
        ).format(failed=_num(viewer.locale, failed), **names)
    values = {
        "action": action,
        "campaign": found_campaign.id,
        "step": found_step.id,
        "is_dm": found_step.is_dm,
        "target": target,
        "question": question,
        "reach": reach,
        "key": form_key(),
    }
    return render(request, viewer, "act_confirm.html", values)


def _num(locale: str, count: int) -> str:
    """A count as the reader's language writes it ("1,493", "1 493")."""
    return formats.number(locale, count)


def _outlook_words(locale: str, step: Step, outlook: SentNow) -> list[str]:
    """What sending ``step`` now will do, said before it is confirmed: who gets it, who has
    it already (not sent again), who waits for the end of their quiet hours."""
    if not step.is_dm:
        return (
            [gettext(locale, "It is posted there already: it will not be posted again.")]
            if outlook.already
            else []
        )
    said = [
        ngettext(
            locale,
            "{count} will receive it,",
            "{count} will receive it,",
            outlook.queued,
        ).format(count=_num(locale, outlook.queued)),
        ngettext(
            locale,
            "{count} has it already (not sent again).",
            "{count} have it already (not sent again).",
            outlook.already,
        ).format(count=_num(locale, outlook.already))
        if outlook.already
        # Translators: after "{count} will receive it,", when no member has the message yet.
        else gettext(locale, "nobody has it yet."),
    ]
    if outlook.quiet:
        said.append(
            ngettext(
                locale,
                "{count} of them is in their quiet hours now: they will get it when their "
                "quiet hours end.",
                "{count} of them are in their quiet hours now: they will get it when their "
                "quiet hours end.",
                outlook.quiet,
            ).format(count=_num(locale, outlook.quiet))
        )
    if outlook.queued:
        said.append(
            gettext(
                locale,
                "Whoever was still to get it later as planned gets this message instead, not both.",
            )
        )
    return said


def _sent_words(locale: str, done: ActDone) -> list[str]:
    """What a send now did, beyond what it queued."""
    said = []
    if done.already:
        said.append(
            ngettext(
                locale,
                "{count} person has it already: not sent again.",
                "{count} people have it already: not sent again.",
                done.already,
            ).format(count=_num(locale, done.already))
        )
    if done.replaced:
        said.append(
            ngettext(
                locale,
                # The words of the Act and Campaigns pages' count of the same messages.
                "{count} planned, not sent: replaced by this send now.",
                "{count} planned, not sent: replaced by this send now.",
                done.replaced,
            ).format(count=_num(locale, done.replaced))
        )
    if done.quiet:
        said.append(
            ngettext(
                locale,
                "{count} waits for the end of its recipient's quiet hours.",
                "{count} wait for the end of their recipients' quiet hours.",
                done.quiet,
            ).format(count=_num(locale, done.quiet))
        )
    return said


async def _done(
    request: Request, viewer: Viewer, state: ConsoleState, done: ActDone | HTTPException
) -> HTMLResponse:
    if isinstance(done, HTTPException):
        return await _page(request, viewer, state, problem=str(done.detail))
    # the notice names the step as its row does, not by its id
    done = done.model_copy(
        update={
            "step": step_label(
                *_step(state, done.campaign, done.step), viewer.locale, state.clock.now()
            )
        }
    )
    if done.action == "send":
        if done.count:
            notice = ngettext(
                viewer.locale,
                "“{step}” is on its way: {queued} message queued.",
                "“{step}” is on its way: {queued} messages queued.",
                done.count,
            ).format(step=done.step, queued=_num(viewer.locale, done.count))
        elif done.already:
            notice = gettext(viewer.locale, "“{step}” was not sent again.").format(step=done.step)
        else:
            notice = gettext(
                viewer.locale, "This confirmation was used already: nothing was sent twice."
            )
        notice = " ".join([notice, *_sent_words(viewer.locale, done)])
    else:
        said = (
            ngettext(
                viewer.locale,
                "“{step}” skipped: {count} message will not go.",
                "“{step}” skipped: {count} messages will not go.",
                done.count,
            )
            if done.action == "skip"
            else ngettext(
                viewer.locale,
                "“{step}”: {count} failed message queued again.",
                "“{step}”: {count} failed messages queued again.",
                done.count,
            )
        )
        notice = said.format(step=done.step, count=_num(viewer.locale, done.count))
    return await _page(request, viewer, state, notice=notice)


@router.post("/act/send", name="act_send", response_class=HTMLResponse)
async def act_send(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Annotated[str, Form(max_length=100)],
    step: Annotated[str, Form(max_length=100)],
    key: Annotated[str, Form(min_length=8, max_length=64)],
    target: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    """Send the step now (once per confirmation)."""
    order = SendIn(campaign=campaign, step=step, key=key, target=target or None)
    try:
        done: ActDone | HTTPException = await _send(state, viewer, order)
    except HTTPException as exc:
        done = exc
    return await _done(request, viewer, state, done)


@router.post("/act/skip", name="act_skip", response_class=HTMLResponse)
async def act_skip(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Annotated[str, Form(max_length=100)],
    step: Annotated[str, Form(max_length=100)],
) -> HTMLResponse:
    """Skip what the step has not sent yet."""
    try:
        done: ActDone | HTTPException = await _skip(
            state, viewer, ActIn(campaign=campaign, step=step)
        )
    except HTTPException as exc:
        done = exc
    return await _done(request, viewer, state, done)


@router.post("/act/retry", name="act_retry", response_class=HTMLResponse)
async def act_retry(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Annotated[str, Form(max_length=100)],
    step: Annotated[str, Form(max_length=100)],
) -> HTMLResponse:
    """Send the step's failed messages again."""
    try:
        done: ActDone | HTTPException = await _retry(
            state, viewer, ActIn(campaign=campaign, step=step)
        )
    except HTTPException as exc:
        done = exc
    return await _done(request, viewer, state, done)


@router.post("/act/preview", name="act_preview", response_class=HTMLResponse)
async def act_preview(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Annotated[str, Form(max_length=100)],
    step: Annotated[str, Form(max_length=100)],
    key: Annotated[str, Form(min_length=8, max_length=64)],
) -> HTMLResponse:
    """Send me the step's message as a member would see it."""
    try:
        done = await _preview(state, viewer, SendIn(campaign=campaign, step=step, key=key))
    except HTTPException as exc:
        return await _page(request, viewer, state, problem=str(exc.detail))
    # Translators: {language} is the name of a language, as Babel writes it ("français").
    notice = gettext(
        viewer.locale, "The preview of “{step}” ({language}) is on its way to you."
    ).format(
        step=step_label(*_step(state, done.campaign, done.step), viewer.locale, state.clock.now()),
        language=language_name(viewer.locale, viewer.locale),
    )
    return await _page(request, viewer, state, notice=notice)


# ---------------------------------------------------------------------------- JSON API


@api.get("/act/steps", response_model=list[StepOut])
async def steps_api(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> list[StepOut]:
    """Every step of the loaded campaigns (its words in my language), when it is due, its
    state and its messages."""
    return [StepOut(**row.__dict__) for row in await _rows(request, state, viewer.locale)]


@api.get("/act/reach", response_model=ReachOut)
async def reach_api(
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Annotated[str, Query(max_length=100)],
    step: Annotated[str, Query(max_length=100)],
    target: Annotated[str | None, Query(max_length=100)] = None,
) -> ReachOut:
    """How many people sending the step now reaches."""
    found = _step(state, campaign, step)
    return _reach_out(await reach_of(console_of(state), *found, target, locale=viewer.locale))


@api.post("/act/send", response_model=ActDone)
async def send_api(
    order: SendIn,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> ActDone:
    """Send a step now, once per ``key`` (``count`` 0: that key was used already)."""
    return await _send(state, viewer, order)


@api.post("/act/skip", response_model=ActDone)
async def skip_api(
    order: ActIn,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> ActDone:
    """Skip what a step has not sent yet, and its later messages."""
    return await _skip(state, viewer, order)


@api.post("/act/retry", response_model=ActDone)
async def retry_api(
    order: ActIn,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> ActDone:
    """Queue a step's failed messages again."""
    return await _retry(state, viewer, order)


@api.post("/act/preview", response_model=ActDone)
async def preview_api(
    order: SendIn,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> ActDone:
    """Send me a step's message as a member would see it (in ``locale``, else mine)."""
    return await _preview(state, viewer, order)


page = Page(name="act", title=N_("Act"), role=Role.MANAGER, router=router, api=api)
