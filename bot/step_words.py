"""What people call a campaign's step, in their language: its title (a journey's welcome and
reminders by their task), else the first words of its message as the bot fills it in.

The console's pages and the command line's demo and try name steps alike, so the words live
in the kernel, below both.
"""

from __future__ import annotations

from datetime import datetime

from rallybot.bot import i18n
from rallybot.bot.messages import plain, readable
from rallybot.campaigns.base import pick_locale
from rallybot.campaigns.journey import journey_of
from rallybot.campaigns.planner import MemberView, build_message
from rallybot.campaigns.schema import Campaign, Step

__all__ = ["EXTRACT", "step_label", "step_title", "step_words_of"]

EXTRACT = 70
"""How many characters of a step's message its name shows."""


def _extract(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXTRACT else flat[: EXTRACT - 1] + "…"


def _sample(locale: str | None) -> MemberView:
    """The member a step's words are shown for on a page: its per-member fields
    (``{first_name}``...) read as what they stand for, in the reader's language."""
    return MemberView(
        key="sample",
        # Translators: what the Act page shows for {name} in a step's message.
        name=i18n.gettext(locale, "[full name]"),
        # Translators: what the Act page shows for {first_name} in a step's message.
        first_name=i18n.gettext(locale, "[first name]"),
        # Translators: what the Act page shows for {team} in a step's message.
        team=i18n.gettext(locale, "[team]"),
        locale=locale,
    )


def step_words_of(
    campaign: Campaign, step: Step, locale: str | None, when: datetime
) -> tuple[str, str, str]:
    """(title, detail, extract) of a step in ``locale`` (else the campaign's language): a
    journey's welcome and reminders are named by their task, as the file's ``label`` says it;
    a step with a ``title`` by it; every step by the first words of its message, filled in
    as the bot fills it at ``when`` (milestones in the campaign's zone, in ``locale``; a
    member's fields as markers)."""
    default = campaign.spec.locale
    spec = step.spec
    text = spec.message_text
    title = pick_locale(spec.title, locale, default)[1] if spec.title is not None else ""
    extract = ""
    if text:
        # the bot's own renderer, as the Timeline's preview uses it
        message = build_message(campaign, step, when.astimezone(campaign.zone), _sample(locale))
        extract = _extract(readable(message.text))
        title = plain(message.title or "") if spec.title is not None else ""
    if not extract and spec.quiz is not None:
        # Translators: what the Act page shows of a quiz step without a text; {quiz} is its id.
        extract = i18n.gettext(locale, "Quiz {quiz}").format(quiz=spec.quiz)
    detail = ""
    journey = journey_of(campaign)
    if journey is not None and step.id == journey.welcome_step:
        # Translators: the Act page's name of an onboarding journey's welcome message.
        title = i18n.gettext(locale, "Onboarding: welcome message")
    elif journey is not None and journey.is_nudge(step.id):
        task = journey.task(journey.step_task[step.id])
        assert task is not None
        # Translators: the Act page's name of a reminder of an onboarding task; {task} is
        # the task's label from the campaign file ("Accept the usage charter").
        title = i18n.gettext(locale, "Onboarding: {task}").format(
            task=pick_locale(task.label, locale, default)[1]
        )
        if len(task.nudge_steps) > 1:
            # Translators: which of an onboarding task's reminders a step is ("reminder 1
            # of 2").
            detail = i18n.gettext(locale, "reminder {number} of {total}").format(
                number=task.nudge_steps.index(step.id) + 1, total=len(task.nudge_steps)
            )
    return " ".join(title.split()), detail, extract


def step_label(campaign: Campaign, step: Step, locale: str | None, when: datetime) -> str:
    """What a confirmation calls a step: its title (and which reminder it is), else the
    first words of its message, in ``locale`` (filled in at ``when``, see
    :func:`step_words_of`); its id when it has neither."""
    title, detail, extract = step_words_of(campaign, step, locale, when)
    if title and detail:
        return f"{title} ({detail})"
    return title or extract or step.id


def step_title(campaign: Campaign, step: Step, locale: str | None, when: datetime) -> str:
    """A step's title (and which reminder it is) in ``locale``, filled in at ``when``; empty
    when it has none."""
    title, detail, _extract = step_words_of(campaign, step, locale, when)
    return f"{title} ({detail})" if title and detail else title
