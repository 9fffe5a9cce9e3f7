"""Warnings: things a campaign file allows but a community manager rarely means.

Errors stop a campaign; warnings do not (``rallybot validate --strict`` makes them fail). Each
is a silent trap met in real launches: a milestone without a time sends the CEO's post at
midnight, an unquoted `` #channel`` cuts a text short, a teaser falls on a Sunday, a welcome
goes to nobody because the audience is misspelt in the roster, a reminder waits for the end
of the quiet hours.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from rallybot.campaigns.planner import MemberView, PlannedDelivery, members_of, plan
from rallybot.campaigns.quiet_hours import QuietHours
from rallybot.campaigns.schema import Campaign
from rallybot.campaigns.timeline import default_window
from rallybot.campaigns.words import N_, nN_
from rallybot.campaigns.workdays import calendar_for_zone

__all__ = ["Warning", "campaign_warnings", "channel_warnings", "text_warnings"]

_CHANNEL_ID = {
    "slack": re.compile(r"^[CGD][A-Z0-9]{6,}$"),
    "discord": re.compile(r"^\d{15,21}$"),
}

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# key: plain value #comment — a plain (unquoted) value followed by " #" and a word: YAML ends
# the value there. A deliberate comment usually has a space after "#" ("# J-30").
_CUT = re.compile(
    r"^(?P<lead>\s*(?:-\s+)?[A-Za-z_][\w-]*:\s+|\s*-\s+)"
    r"(?P<value>[^\s'\"|>&*!{\[#%@`][^#]*?)\s+#(?P<rest>\S.*)$"
)


@dataclass(frozen=True)
class Warning:
    """One warning, at a 1-based line and column of a file (like a load error); its
    ``message`` is translatable (:func:`rallybot.campaigns.words.render`)."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: warning"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


def text_warnings(text: str, source: str) -> list[Warning]:
    """Values cut short by an unquoted `` #`` (YAML reads the rest as a comment)."""
    found: list[Warning] = []
    in_block = False
    block_indent = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if in_block:
            if stripped and indent <= block_indent:
                in_block = False
            else:
                continue  # inside a | or > block, "#" is text
        if re.search(r":\s*[|>][-+0-9]*\s*(#.*)?$", line):
            in_block, block_indent = True, indent
            continue
        match = _CUT.match(line)
        if match is None:
            continue
        value, rest = match.group("value").rstrip(), match.group("rest")
        column = len(match.group("lead")) + 1
        found.append(
            Warning(
                source,
                number,
                column,
                "",
                # Translators: {value} and " #{rest}" are parts of a line of the file.
                N_(
                    'the value stops at "{value}": YAML reads " #{rest}" as a comment; put '
                    "the whole text in quotes",
                    value=value,
                    rest=rest,
                ),
            )
        )
    return found


def _non_working(when: datetime, zone: tzinfo) -> str | None:
    """Why the local day of ``when`` is not a working day ("a weekend day", "a public holiday
    (...)"), or None."""
    local = when.astimezone(zone)
    calendar = calendar_for_zone(zone)
    if local.weekday() >= 5:
        return N_("a weekend day")
    holiday = calendar.holiday(local.date())
    # Translators: {holiday} is the holiday's name from the country's calendar.
    return N_("a public holiday ({holiday})", holiday=holiday) if holiday else None


def campaign_warnings(
    campaign: Campaign,
    members: Sequence[MemberView] = (),
    *,
    roster_given: bool = False,
    default_timezone: str = "Europe/Paris",
    default_quiet_hours: QuietHours | None = None,
) -> list[tuple[tuple[str | int, ...], str]]:
    """Warnings about ``campaign`` as ``(loc, message)``, ``loc`` a path into the file (like
    validation problems). ``members`` come from the roster (``roster_given``) when it has one:
    then audiences and waves that reach nobody are said too. ``default_quiet_hours`` are the
    bot's, for a campaign that sets none (as a run uses them)."""
    if campaign.quiet_hours is None and default_quiet_hours is not None:
        campaign = replace(campaign, quiet_hours=default_quiet_hours)
    found: list[tuple[tuple[str | int, ...], str]] = []
    for name, value in campaign.spec.milestones.items():
        if _DATE_ONLY.match(str(value).strip()):
            found.append(
                (
                    ("milestones", name),
                    # Translators: {name} is a milestone of the file (launch), {value} its
                    # date as written (2026-09-15); keep "09:30", a time to write after it.
                    N_(
                        '"{value}" has no time of day: what happens at {name} goes out at '
                        "00:00 (write {value} 09:30)",
                        value=str(value),
                        name=name,
                    ),
                )
            )
    start, end = default_window(campaign, members)
    planned = list(plan(campaign, members, start, end, default_timezone=default_timezone))
    found.extend(_weekend_warnings(campaign, planned))
    found.extend(_quiet_warnings(campaign, members, start, end, default_timezone, planned))
    if roster_given:
        found.extend(_audience_warnings(campaign, members))
    return found


def channel_warnings(
    campaign: Campaign, channel_map: dict[str, str], platform: str
) -> list[tuple[tuple[str | int, ...], str]]:
    """Logical channels the steps post to that name no channel id of ``platform`` (Slack and
    Discord post by id): the community file's ``channels`` (or the campaign's) must map them."""
    pattern = _CHANNEL_ID.get(platform)
    if pattern is None:
        return []
    used = {step.spec.post for step in campaign.steps if step.spec.post is not None}
    found: list[tuple[tuple[str | int, ...], str]] = []
    for name in sorted(used):
        target = channel_map.get(name, campaign.spec.channels.get(name, name))
        if not pattern.match(target):
            found.append(
                (
                    ("channels", name),
                    # Translators: {platform} is slack or discord; "channels:" is a key of the
                    # community file, kept as it is.
                    N_(
                        'channel "{name}" is "{target}", not a {platform} channel id: map it '
                        "in the community file's channels: ({name}: its id), or posts to it "
                        "will fail",
                        name=name,
                        target=target,
                        platform=platform,
                    ),
                )
            )
    return found


def _index_of(campaign: Campaign, step_id: str) -> int | None:
    for index, spec in enumerate(campaign.spec.steps):
        if spec.id == step_id:
            return index
    return None  # a journey step: it has no place of its own in the file


def _weekend_warnings(
    campaign: Campaign, planned: Iterable[PlannedDelivery]
) -> list[tuple[tuple[str | int, ...], str]]:
    by_step: dict[str, list[tuple[PlannedDelivery, str]]] = defaultdict(list)
    total: dict[str, int] = defaultdict(int)
    for delivery in planned:
        step = delivery.step
        if step.at is None or step.on_weekend != "keep":
            continue  # recurrences choose their days; a policy already moves the day
        total[step.id] += 1
        why = _non_working(delivery.due_at, delivery.zone)
        if why is not None:
            by_step[step.id].append((delivery, why))
    found: list[tuple[tuple[str | int, ...], str]] = []
    for step_id, hits in by_step.items():
        index = _index_of(campaign, step_id)
        if index is None:
            continue
        first, why = hits[0]
        when = first.due_at.astimezone(first.zone).date()  # shown in the reader's words
        message: str
        if first.member is None:
            # Translators: {when} is a day (Sunday, November 8, 2026), {why} "a weekend day"
            # or "a public holiday (...)"; "on_weekend: next_workday" and
            # "previous_workday" are written in the file as they are.
            message = N_(
                "falls on {when}, {why}; add on_weekend: next_workday (or previous_workday) "
                "to move it",
                when=when,
                why=why,
            )
        else:
            # Translators: {hits} of {n} recipients; {when} is a day, {zone} a time zone
            # (Europe/Paris), {why} "a weekend day" or "a public holiday (...)".
            message = nN_(
                "falls on a weekend or a public holiday for {hits} of {n} recipient (first: "
                "{when} in {zone}, {why}); add on_weekend: next_workday (or "
                "previous_workday) to move it",
                "falls on a weekend or a public holiday for {hits} of {n} recipients (first: "
                "{when} in {zone}, {why}); add on_weekend: next_workday (or "
                "previous_workday) to move it",
                total[step_id],
                hits=len(hits),
                when=when,
                zone=str(first.zone),
                why=why,
            )
        found.append((("steps", index, "at"), message))
    return found


def _quiet_warnings(
    campaign: Campaign,
    members: Sequence[MemberView],
    start: datetime,
    end: datetime,
    default_timezone: str,
    planned: list[PlannedDelivery],
) -> list[tuple[tuple[str | int, ...], str]]:
    if campaign.quiet_hours is None:
        return []
    loud = replace(campaign, quiet_hours=None)
    unmoved = {
        d.key: d.due_at for d in plan(loud, members, start, end, default_timezone=default_timezone)
    }
    moved: dict[str, list[PlannedDelivery]] = defaultdict(list)
    for delivery in planned:
        before = unmoved.get(delivery.key)
        if before is not None and before != delivery.due_at and delivery.member is not None:
            moved[delivery.step.id].append(delivery)
    found: list[tuple[tuple[str | int, ...], str]] = []
    window = campaign.quiet_hours
    for step_id, hits in moved.items():
        index = _index_of(campaign, step_id)
        if index is None:
            continue
        first = hits[0]
        planned_at = unmoved[first.key].astimezone(first.zone)
        sent_at = first.due_at.astimezone(first.zone)
        found.append(
            (
                ("steps", index, "at" if campaign.spec.steps[index].at else "every"),
                # Translators: {start}-{end} are the quiet hours (21:00-08:00), {planned} →
                # {sent} times of day, {zone} a time zone; "quiet_hours: false" is written in
                # the file as it is.
                nN_(
                    "falls inside the quiet hours ({start}-{end}) for {n} recipient: it waits "
                    "until the end (first: {planned} → {sent} in {zone}); set quiet_hours: "
                    "false on the step to send anyway",
                    "falls inside the quiet hours ({start}-{end}) for {n} recipients: it waits "
                    "until the end (first: {planned} → {sent} in {zone}); set quiet_hours: "
                    "false on the step to send anyway",
                    len(hits),
                    start=f"{window.start:%H:%M}",
                    end=f"{window.end:%H:%M}",
                    planned=f"{planned_at:%H:%M}",
                    sent=f"{sent_at:%H:%M}",
                    zone=str(first.zone),
                ),
            )
        )
    return found


def _audience_warnings(
    campaign: Campaign, members: Sequence[MemberView]
) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    for name in campaign.waves:
        if not members_of(campaign, [name], members):
            found.append(
                (
                    ("audiences", name),
                    # Translators: {name} is a wave (an audience) of the file.
                    nN_(
                        'wave "{name}" has nobody in the roster ({n} member): it opens for no one',
                        'wave "{name}" has nobody in the roster ({n} members): it opens for no one',
                        len(members),
                        name=name,
                    ),
                )
            )
    for index, spec in enumerate(campaign.spec.steps):
        step = next((s for s in campaign.steps if s.id == spec.id), None)
        if step is None or not step.is_dm:
            continue
        if not members_of(campaign, step.audiences, members):
            names = ", ".join(step.audiences)
            found.append(
                (
                    ("steps", index, "for" if spec.for_ is not None else "dm"),
                    # Translators: {names} are the file's audiences, separated by commas.
                    nN_(
                        "this direct message reaches nobody: no member of the roster is in "
                        "{names} ({n} member)",
                        "this direct message reaches nobody: no member of the roster is in "
                        "{names} ({n} members)",
                        len(members),
                        names=names,
                    ),
                )
            )
    return found
