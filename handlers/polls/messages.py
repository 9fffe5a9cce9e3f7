"""The polls' messages: the choice buttons, the private answers to a click, the results
(counts and bars) posted at close and shown to managers."""

from __future__ import annotations

from datetime import tzinfo

from rallybot.bot import formats
from rallybot.bot.i18n import gettext, ngettext
from rallybot.bot.messages import Button, Message
from rallybot.handlers.polls.store import Counts, choice_label, question_text
from rallybot.storage.poll_models import MIN_GROUP, Poll

__all__ = [
    "ACTION",
    "ACTIONS",
    "CAST",
    "PRIVATE_ACTION",
    "bar",
    "buttons",
    "hint",
    "results_message",
    "results_text",
]

ACTION = "poll"
"""The action id of a named poll's buttons; the value is ``KEY:INDEX`` or ``KEY:cast``."""
PRIVATE_ACTION = "private-poll"
"""The action id of an anonymous poll's buttons: a click on them leaves no activity row (its
time and the number of clicks would follow the member to the ballot)."""
ACTIONS = frozenset({ACTION, PRIVATE_ACTION})
CAST = "cast"
BAR_WIDTH = 10


def buttons(poll: Poll, key: str, locale: str | None) -> tuple[Button, ...]:
    """One button per choice, then "Cast my vote" for an anonymous multiple-choice poll."""
    action = PRIVATE_ACTION if poll.anonymous else ACTION
    out = tuple(
        Button(label=choice_label(poll, i, locale), action_id=action, value=f"{key}:{i}")
        for i in range(len(poll.choices))
    )
    if poll.anonymous and poll.multiple:
        label = gettext(locale, "Cast my vote")
        out += (Button(label=label, action_id=action, value=f"{key}:{CAST}", style="primary"),)
    return out


def hint(poll: Poll, locale: str | None, zone: tzinfo) -> str:
    """The line under the question: how to vote, whether it is anonymous, when it closes
    (in ``zone``)."""
    if poll.anonymous and poll.multiple:
        how = gettext(
            locale,
            "Anonymous poll: pick any number of choices, then cast your vote. Nobody can see "
            "who chose what.",
        )
    elif poll.anonymous:
        how = gettext(locale, "Anonymous poll: one choice, final. Nobody can see who chose what.")
    elif poll.multiple:
        how = gettext(locale, "Pick any number of choices; click again to take one back.")
    else:
        how = gettext(locale, "One choice; click another to change your vote.")
    if poll.closes_at is None:
        return how
    when = formats.moment(locale, poll.closes_at.astimezone(zone), "MMMEd")
    return how + " " + gettext(locale, "Closes {when}.").format(when=when)


def bar(share: float) -> str:
    """A text bar ``share`` (0 to 1) long."""
    full = round(max(0.0, min(1.0, share)) * BAR_WIDTH)
    return "█" * full + "░" * (BAR_WIDTH - full)


def results_text(poll: Poll, counts: Counts, locale: str | None) -> str:
    """The counts with bars, or why they are held back (an anonymous poll with too few
    ballots, as the survey's results do)."""
    lines: list[str] = []
    if counts.anonymous and not counts.voters and counts.not_counted:
        pass  # every ballot was left out at the close: the line below says so
    elif counts.hidden:
        lines.append(
            ngettext(
                locale,
                "{n} vote: too few to show without telling who chose what (at least {k}).",
                "{n} votes: too few to show without telling who chose what (at least {k}).",
                counts.voters,
            ).format(n=formats.number(locale, counts.voters), k=MIN_GROUP)
        )
    else:
        total = sum(counts.per_choice)
        for index, count in enumerate(counts.per_choice):
            share = count / total if total else 0.0
            lines.append(
                f"{bar(share)} {choice_label(poll, index, locale)}: "
                + ngettext(locale, "{n} vote", "{n} votes", count).format(
                    n=formats.number(locale, count)
                )
                + f" ({formats.percent(locale, share)})"
            )
        lines.append(
            ngettext(locale, "{n} person voted.", "{n} people voted.", counts.voters).format(
                n=formats.number(locale, counts.voters)
            )
        )
    if counts.waiting:
        lines.append(
            ngettext(
                locale,
                "{n} anonymous ballot waits for its batch (counted from {k} on).",
                "{n} anonymous ballots wait for their batch (counted from {k} on).",
                counts.waiting,
            ).format(n=formats.number(locale, counts.waiting), k=MIN_GROUP)
        )
    if counts.not_counted:
        lines.append(
            ngettext(
                locale,
                "{n} ballot could not be counted: fewer than {k} were still waiting when the "
                "poll closed, too few to stay anonymous.",
                "{n} ballots could not be counted: fewer than {k} were still waiting when the "
                "poll closed, too few to stay anonymous.",
                counts.not_counted,
            ).format(n=formats.number(locale, counts.not_counted), k=MIN_GROUP)
        )
    return "\n".join(lines)


def results_message(poll: Poll, counts: Counts, locale: str | None) -> Message:
    """The results posted in the channel when the poll closes."""
    title = gettext(locale, "Poll closed: {question}").format(question=question_text(poll, locale))
    return Message(
        text=results_text(poll, counts, locale),
        title=title,
        metadata={"poll": poll.id, "results": "1"},
    )
