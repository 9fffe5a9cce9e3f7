"""The ``poll:`` block of a campaign step, registered as a step section
(:mod:`campaigns.sections`), and the ``/rallybot poll`` subcommand the feature declares.

A poll step is a channel post (``post``) whose ``text`` is the question::

    - id: lunch-vote
      at: launch + 1d at 10:00
      post: annonces
      text: {en: "Where shall we have the launch lunch?", fr: "Où déjeuner ?"}
      poll:
        choices: [Pizza, Sushi, {en: Salad bar, fr: Bar à salades}]
        multiple: false      # true: members pick any number of choices
        anonymous: true      # nobody can tell who chose what (see the privacy page)
        closes: launch + 2d at 17:00

The message gets one button per choice; the results are posted in the channel when the poll
closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.campaigns.sections import SectionLoc, StepSection
from rallybot.campaigns.sections import register as register_section
from rallybot.campaigns.templates import did_you_mean
from rallybot.campaigns.timeexpr import TimeExprError, parse_datetime_local, parse_time_expr
from rallybot.campaigns.words import N_

__all__ = ["MAX_CHOICES", "MIN_CHOICES", "POLL", "POLL_COMMAND", "PollSpec", "closes_at"]

MIN_CHOICES = 2
MAX_CHOICES = 10
LABEL_CHARS = 75  # Slack's limit for a button's text

ChoiceText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=75)]


class PollSpec(BaseModel):
    """The ``poll:`` block: the choices, single or multiple choice, anonymity, the close."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    choices: list[ChoiceText | dict[str, ChoiceText]] = Field(
        min_length=MIN_CHOICES, max_length=MAX_CHOICES
    )
    multiple: bool = False
    anonymous: bool = False
    closes: str

    @field_validator("closes")
    @classmethod
    def _closes(cls, value: str) -> str:
        try:
            parse_time_expr(value, allow_join=False)
        except TimeExprError as exc:
            raise ValueError(
                N_(
                    "{problem} (a poll closes at a milestone like launch + 2d at 17:00, or a date)",
                    problem=exc.args[0],
                )
            ) from None
        return value

    @field_validator("choices")
    @classmethod
    def _languages(cls, value: list[str | dict[str, str]]) -> list[str | dict[str, str]]:
        for choice in value:
            if isinstance(choice, dict):
                if not choice:
                    raise ValueError(N_("a choice needs its text in at least one language"))
                for locale in choice:
                    if not locale or len(locale) > 10 or not locale.replace("-", "").isalpha():
                        raise ValueError(
                            N_(
                                '"{locale}" is not a language code (use fr, en, de...)',
                                locale=locale,
                            )
                        )
        return value


def closes_at(spec: PollSpec, zone: ZoneInfo, milestones: dict[str, datetime]) -> datetime:
    """When the poll closes (UTC-aware)."""
    return parse_time_expr(spec.closes, allow_join=False).resolve(zone, milestones)


def _problems(campaign: Any, step: Any, poll: PollSpec) -> Iterator[tuple[SectionLoc, str]]:
    """What a poll step needs beyond its block: a channel post at one time, a known
    milestone for ``closes``, a close after the post."""
    if step.post is None:
        yield (
            ("..", "dm"),
            N_('a poll is posted in a channel: use "post" (and "text" for the question)'),
        )
    if step.every is not None:
        yield ("..", "every"), N_('a poll runs once: use "at", not "every"')
    for other in ("quiz", "survey", "leaderboard"):
        if getattr(step, other, None):
            # Translators: {other} is a step key written as it is (quiz, survey, leaderboard).
            yield ("..", other), N_("a step is a poll or a {other}, not both", other=other)
    if step.digest:
        yield ("..", "digest"), N_("a step is a poll or a {other}, not both", other="digest")
    milestones = {name: parse_datetime_local(str(v)) for name, v in campaign.milestones.items()}
    close = parse_time_expr(poll.closes, allow_join=False)
    if close.anchor != "absolute" and close.anchor not in milestones:
        known = ", ".join(sorted(milestones)) or N_("none defined")
        hint = did_you_mean(close.anchor, milestones)
        yield (
            ("closes",),
            N_(
                'unknown milestone "{anchor}"{hint}; milestones: {known}',
                anchor=close.anchor,
                hint=hint,
                known=known,
            ),
        )
        return
    if step.at is None:
        return
    try:
        opens = parse_time_expr(step.at, allow_join=False)
    except TimeExprError:
        return  # the step's own check reports its time
    if opens.anchor != "absolute" and opens.anchor not in milestones:
        return
    zone = ZoneInfo(campaign.timezone)
    if close.resolve(zone, milestones) <= opens.resolve(zone, milestones):
        yield (
            ("closes",),
            N_(
                "the poll closes ({closes}) before it is posted ({at})",
                closes=poll.closes,
                at=step.at,
            ),
        )


POLL = register_section(
    StepSection(
        "poll",
        PollSpec,
        # Translators: the words after "a poll" are the block's keys, written as they are.
        N_("a poll (choices: [...], multiple: ..., anonymous: ..., closes: ...)"),
        _problems,
    )
)

POLL_COMMAND = CommandSpec(
    "poll",
    N_("Managers: start a poll here now, see live counts, list polls"),
    (
        ParamSpec(
            "poll",
            # Translators: the usage of /rallybot poll: translate "Question?", "A", "B"
            # and NAME; --multiple, --anonymous, closes=, results and list are typed as
            # they are.
            N_('"Question?" "A" "B"... [--multiple] [--anonymous] [closes=2h]; results NAME; list'),
            True,
            placeholder=N_("POLL"),
        ),
    ),
    admin=True,
    group="manage",
)
"""``/rallybot poll``: the polls feature's part of the catalogue (its ``commands``)."""
