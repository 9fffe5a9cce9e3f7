"""What the pages call campaigns, steps and sends, in words instead of the files' ids: a
campaign by its title, a step by its title or the first words of its message (as the Act
page names it), a preview by the person it went to, a send made now by "sent now".

They are template globals: ``campaign_name(id)``, ``step_name(campaign_id, step_id)``,
``draft_step_name(campaign, step_id, at)`` (a step of a campaign not loaded, a draft),
``step_title(campaign_id, step_id)`` (empty without a title; both take the send's time
``at``, by default now, to fill in the words as that send's message), ``is_preview(campaign_id)``,
``occurrence_words(occurrence)``, ``challenge_name(key)`` (a challenge's title in the page's
language, its ``campaign/challenge`` key when no campaign has it any more); and the filter
``person`` (a member's name as shown: "erased member" for the row left by an erased person,
whose only name is its ``forgotten-…`` id) and ``platform`` ("Slack", "Console")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from jinja2 import pass_context
from jinja2.runtime import Context

from rallybot.campaigns.base import pick_locale
from rallybot.campaigns.journey import journey_of, task_of_done_step
from rallybot.campaigns.schema import Campaign
from rallybot.handlers.challenges.service import title_of
from rallybot.handlers.console.act_services import PREVIEW_SUFFIX, step_label, step_title
from rallybot.handlers.console.kit import console_state, templates
from rallybot.handlers.console.words import N_, gettext, when
from rallybot.handlers.privacy.service import FORGOTTEN_PREFIX

__all__ = [
    "campaign_of",
    "named_step",
    "occurrence_words",
    "person_words",
    "platform_words",
    "step_words",
]


def campaign_of(context: Context, campaign_id: str) -> Campaign | None:
    """The loaded campaign of ``campaign_id`` (a preview's too), if any."""
    request = context.get("request")
    if request is None:
        return None
    return console_state(request).campaigns().get(campaign_id.removesuffix(PREVIEW_SUFFIX))


def _now(context: Context) -> datetime:
    """The console's now (the bot's clock: a simulated one plays the campaigns)."""
    return console_state(context["request"]).clock.now()


# The outbox "campaigns" of the bot's own features (their messages are no campaign's steps),
# and the suffixes of those a campaign's own journey and challenges write under.
_FEATURES = {
    ".helpdesk": N_("Help desk"),
    ".quiz": N_("Quizzes"),
    ".polls": N_("Polls"),
    ".survey": N_("Surveys"),
    ".steering": N_("Chat commands"),
    ".privacy": N_("Privacy"),
}
_SIDES = {".onboarding": N_("Onboarding"), ".challenges": N_("Challenges")}


def campaign_words(context: Context, campaign_id: str) -> str:
    """A campaign's title; a feature's name for the bot's own messages; "Onboarding · title"
    for a campaign's journey (its id when none of these is known)."""
    locale = context.get("locale")
    if campaign_id in _FEATURES:
        return gettext(locale, _FEATURES[campaign_id])
    for suffix, words in _SIDES.items():
        if campaign_id.endswith(suffix):
            base = campaign_of(context, campaign_id.removesuffix(suffix))
            title = (base.spec.title if base is not None else "") or campaign_id[: -len(suffix)]
            # Translators: the messages a campaign's journey or challenges send ("Onboarding ·
            # Connect launch").
            return gettext(locale, "{part} · {campaign}").format(
                part=gettext(locale, words), campaign=title
            )
    campaign = campaign_of(context, campaign_id)
    return (campaign.spec.title if campaign is not None else "") or campaign_id


@pass_context
def _campaign_name(context: Context, campaign_id: str) -> str:
    """A campaign's title, or what the bot's own messages belong to, in words."""
    return campaign_words(context, campaign_id)


# The messages an onboarding journey sends of itself, which are no step of its file.
_JOURNEY_MESSAGES = {
    # Translators: the name of the message telling a newcomer who their buddy is.
    "journey-buddy": N_("Onboarding: your buddy"),
    # Translators: the name of the message telling a buddy about the newcomer they help.
    "journey-buddy-intro": N_("Onboarding: the buddy's newcomer"),
    # Translators: the name of the message a newcomer gets once every task is done.
    "journey-done": N_("Onboarding: journey completed"),
}


def _base_id(campaign_id: str) -> str:
    """The campaign of a delivery: a campaign's journey and challenges write under its id
    with a suffix (``connect-launch.onboarding``), a preview too."""
    campaign_id = campaign_id.removesuffix(PREVIEW_SUFFIX)
    for suffix in _SIDES:
        campaign_id = campaign_id.removesuffix(suffix)
    return campaign_id


def _base_of(context: Context, campaign_id: str) -> Campaign | None:
    return campaign_of(context, _base_id(campaign_id))


def _task_done_words(campaign: Campaign | None, task_id: str, locale: str | None) -> str:
    """The acknowledgement of a task a member marked done, named by the task's label."""
    journey = journey_of(campaign) if campaign is not None else None
    task = journey.task(task_id) if journey is not None else None
    if campaign is None or task is None:
        # Translators: the name of the message acknowledging a task a newcomer marked done,
        # when its campaign or task is gone.
        return gettext(locale, "Onboarding: a task done")
    label = pick_locale(task.label, locale, campaign.spec.locale)[1]
    # Translators: the name of the message acknowledging a task a newcomer marked done;
    # {task} is the task's label, from the campaign ("Task “Introduce yourself” done").
    return gettext(locale, "Task “{task}” done").format(task=" ".join(label.split()))


def step_words(campaign: Campaign | None, step_id: str, locale: str | None, at: datetime) -> str:
    """A step's title, else the first words of its message, in ``locale``; a journey's own
    message by what it is (a task's acknowledgement by the task's label); its id when the
    campaign or the step is not known."""
    step = campaign.step(step_id) if campaign is not None else None
    if campaign is None or step is None:
        task_id = task_of_done_step(step_id)
        if task_id is not None:
            return _task_done_words(campaign, task_id, locale)
        words = _JOURNEY_MESSAGES.get(step_id)
        return gettext(locale, words) if words is not None else step_id
    return step_label(campaign, step, locale, at)


def named_step(
    campaigns: Mapping[str, Campaign], key: str, locale: str | None, at: datetime
) -> str:
    """A ``campaign/step`` key (as the audit log keeps it) as people read it: the campaign's
    title and the step's words (:func:`step_words`); the key when they are not known."""
    campaign_id, _, step_id = key.partition("/")
    campaign = campaigns.get(_base_id(campaign_id))
    if campaign is None or not step_id:
        return key
    words = step_words(campaign, step_id, locale, at)
    if words == step_id:
        return key
    # Translators: a campaign's step in the audit log: its title or first words, then
    # its campaign's title ("Teaser: 14 days to go · Connect launch").
    return gettext(locale, "{step} · {campaign}").format(
        step=words, campaign=campaign.spec.title or campaign.id
    )


@pass_context
def _step_name(context: Context, campaign_id: str, step_id: str, at: datetime | None = None) -> str:
    """A step's title, else the first words of its message, in the page's language; its id
    when the campaign or the step is not loaded."""
    campaign = _base_of(context, campaign_id)
    return step_words(campaign, step_id, context.get("locale"), at or _now(context))


@pass_context
def _draft_step_name(context: Context, campaign: Campaign, step_id: str, at: datetime) -> str:
    """A step of a campaign not loaded (a draft being checked) by its words."""
    return step_words(campaign, step_id, context.get("locale"), at)


@pass_context
def _step_title(
    context: Context, campaign_id: str, step_id: str, at: datetime | None = None
) -> str:
    """A step's title in the page's language; empty when it has none (the page names it by
    its message's words then)."""
    campaign = _base_of(context, campaign_id)
    step = campaign.step(step_id) if campaign is not None else None
    if campaign is None or step is None:
        return ""
    return step_title(campaign, step, context.get("locale"), at or _now(context))


@pass_context
def _challenge_name(context: Context, key: str) -> str:
    """A challenge's title in the page's language (its key without a loaded campaign)."""
    request = context.get("request")
    if request is None:
        return key
    return title_of(console_state(request).campaigns(), key, context.get("locale"))


def _is_preview(campaign_id: str) -> bool:
    """Whether a delivery is a preview sent to a community manager."""
    return campaign_id.endswith(PREVIEW_SUFFIX)


def occurrence_words(occurrence: str, locale: str | None, dates: bool = True) -> str:
    """Which send of a step a delivery is, for people: nothing for the step's one send,
    "sent now" for a send made now, "preview" for a preview; a recurring step's day as a
    date in ``locale`` (nothing without ``dates``: a page that shows the day already);
    nothing for the bot's other marks."""
    if occurrence == "once":
        return ""
    if occurrence.startswith("now-"):
        # Translators: a send of a step made by hand ("Send now"), not at its time.
        return gettext(locale, "sent now")
    if occurrence.startswith("preview-"):
        # Translators: a step's message sent to a community manager alone, to see it.
        return gettext(locale, "preview")
    try:
        day = date.fromisoformat(occurrence)
    except ValueError:
        return ""  # another of the bot's own marks ("thread"...): nothing a person needs
    return when(day, locale, form="date") if dates else ""


@pass_context
def _occurrence_words(context: Context, occurrence: str, dates: bool = True) -> str:
    return occurrence_words(occurrence, context.get("locale"), dates)


# The chat platforms by their names; the console's own platform (people in a roster, who
# sign in with a link) in words.
# Translators: the console as a platform, beside Slack and Discord (a roster's people).
_PLATFORMS = {"slack": "Slack", "discord": "Discord", "console": N_("Console")}


def platform_words(platform: str, locale: str | None) -> str:
    """A platform by its name ("Slack"); one the console does not know as written."""
    words = _PLATFORMS.get(platform)
    if words is None:
        return platform
    return gettext(locale, words) if platform == "console" else words


@pass_context
def _platform(context: Context, platform: str) -> str:
    return platform_words(platform, context.get("locale"))


def person_words(name: str | None, locale: str | None) -> str:
    """A person's name as the pages show it: "erased member" for the row an erased person
    left (its only name is a random ``forgotten-…`` id, meaningless to anyone)."""
    if not name:
        return ""
    if name.startswith(FORGOTTEN_PREFIX):
        # Translators: shown instead of the name of a person whose data was erased ("forget me").
        return gettext(locale, "erased member")
    return name


@pass_context
def _person(context: Context, name: str | None) -> str:
    return person_words(name, context.get("locale"))


templates.env.filters.setdefault("person", _person)
templates.env.filters.setdefault("platform", _platform)
templates.env.globals.setdefault("campaign_name", _campaign_name)
templates.env.globals.setdefault("step_name", _step_name)
templates.env.globals.setdefault("step_title", _step_title)
templates.env.globals.setdefault("draft_step_name", _draft_step_name)
templates.env.globals.setdefault("is_preview", _is_preview)
templates.env.globals.setdefault("challenge_name", _challenge_name)
templates.env.globals.setdefault("occurrence_words", _occurrence_words)
