"""The helpers' rota: who is on duty for the help channel, per weekday and hours.

Written in the settings as ``RALLYBOT_HELPERS="mon-fri 09:00-18:00 U1,U2; sat 10:00-12:00 U3"``:
slots separated by ``;``, each with days (``mon``, ``mon-fri``, ``mon,wed,fri``, ``daily``), a
time window ``HH:MM-HH:MM`` in the rota's time zone (an end before the start runs past
midnight) and comma-separated platform user ids (or ``platform:id``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rallybot.bot import i18n
from rallybot.bot.identity import identity_matches
from rallybot.campaigns import words

__all__ = ["DAYS", "NOT_FOUND", "Rota", "RotaSlot", "not_found", "parse_rota", "staffing_warnings"]

NOT_FOUND = "unknown"
"""The platform of a rota entry that names nobody the bot found (``unknown:x@example.com``):
its slot keeps its hours (the help clocks stop outside them), nobody is mentioned for it, and
the console says the person was not found rather than that nobody is on duty."""

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    **{day: index for index, day in enumerate(DAYS)},
    **{
        name: index
        for index, names in enumerate(
            (
                ("monday", "lun", "lundi"),
                ("tuesday", "mar", "mardi"),
                ("wednesday", "mer", "mercredi"),
                ("thursday", "jeu", "jeudi"),
                ("friday", "ven", "vendredi"),
                ("saturday", "sam", "samedi"),
                ("sunday", "dim", "dimanche"),
            )
        )
        for name in names
    },
}
_HOURS = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


@dataclass(frozen=True, slots=True)
class RotaSlot:
    """Helpers on duty on some weekdays (0 = Monday) between two local times."""

    days: frozenset[int]
    start: time
    end: time
    helpers: tuple[str, ...]

    def covers(self, local: datetime) -> bool:
        """Whether the local wall-clock instant falls in this slot."""
        t = local.time().replace(tzinfo=None)
        weekday = local.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= t < self.end
        # past midnight: from ``start`` on a listed day to ``end`` the next morning
        yesterday = (weekday - 1) % 7
        return (weekday in self.days and t >= self.start) or (
            yesterday in self.days and t < self.end
        )


@dataclass(frozen=True, slots=True)
class Rota:
    """Every slot of the rota, read in one time zone."""

    slots: tuple[RotaSlot, ...] = ()
    timezone: str = "UTC"

    @property
    def helpers(self) -> frozenset[str]:
        """Everyone named in the rota, on duty or not."""
        return frozenset(h for slot in self.slots for h in slot.helpers)

    def on_duty(self, at: datetime) -> list[str]:
        """The helpers on duty at ``at`` (aware), in rota order, each once."""
        local = at.astimezone(ZoneInfo(self.timezone))
        found: list[str] = []
        for slot in self.slots:
            if slot.covers(local):
                found.extend(h for h in slot.helpers if h not in found)
        return found

    def is_helper(self, user_id: str, user_key: str | None = None) -> bool:
        """Whether the user is named in the rota: exactly by its ``platform:id`` key when
        given (:func:`~bot.identity.identity_matches`), else by its id."""
        if user_key is not None:
            return identity_matches(user_key, self.helpers)
        return user_id in self.helpers

    def next_change(self, at: datetime) -> datetime | None:
        """The next slot start after ``at`` (None without slots): within a week."""
        if not self.slots:
            return None
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        best: datetime | None = None
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for slot in self.slots:
                if day.weekday() in slot.days:
                    start = datetime.combine(day, slot.start, tzinfo=zone)
                    if start > local and (best is None or start < best):
                        best = start
        return best

    def duty_windows(self, since: datetime, days: int = 15) -> list[tuple[datetime, datetime]]:
        """The on-duty periods (UTC, merged, in order) from the day before ``since`` over
        ``days`` days: when at least one helper is on duty."""
        zone = ZoneInfo(self.timezone)
        first = since.astimezone(zone).date() - timedelta(days=1)
        spans: list[tuple[datetime, datetime]] = []
        for offset in range(days + 1):
            day = first + timedelta(days=offset)
            for slot in self.slots:
                if day.weekday() not in slot.days:
                    continue
                end_day = day if slot.start < slot.end else day + timedelta(days=1)
                start = datetime.combine(day, slot.start, tzinfo=zone).astimezone(UTC)
                end = datetime.combine(end_day, slot.end, tzinfo=zone).astimezone(UTC)
                spans.append((start, end))
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def after_duty_time(self, since: datetime, delay: timedelta) -> datetime:
        """When ``delay`` of on-duty time has passed since ``since``: the help channel's
        clocks stop while nobody is on duty, so a question asked on Saturday night waits for
        Monday morning. Without a rota (or a rota with no hours in two weeks) the clock runs
        day and night."""
        if not self.slots:
            return since + delay
        left = delay
        for opens, end in self.duty_windows(since):
            if end <= since:
                continue
            start = max(opens, since)
            if end - start >= left:
                return start + left
            left -= end - start
        return since + delay


def not_found(entry: str) -> str | None:
    """The person as written when the rota ``entry`` names nobody found, else None."""
    platform, sep, person = entry.partition(":")
    return person if sep and platform == NOT_FOUND else None


def staffing_warnings(
    admins: Sequence[str],
    managers_channel: str | None,
    help_channel: str | None,
    rota: Rota,
    *,
    evidence: bool = True,
    locale: str | None = None,
) -> list[str]:
    """Silent traps in the community's set-up, for ``rallybot validate`` and ``health``: who
    judges challenge evidence (``evidence``: whether any challenge asks for some), who hears
    about help questions nobody answers. Worded in ``locale``'s language (English by
    default)."""
    warnings: list[str] = []
    if not admins and (evidence or help_channel is not None):
        # Translators: RALLYBOT_ADMINS is a setting's name, kept as it is.
        text = i18n.gettext(
            locale,
            "no community manager is named (RALLYBOT_ADMINS): challenge evidence has nobody to "
            "judge it (the member is told so), and nobody can use the managers' commands",
        )
        warnings.append(text)
    if help_channel is not None and not rota.slots:
        # Translators: a rota is the helpers' schedule; RALLYBOT_HELPERS is a setting's name.
        text = i18n.gettext(
            locale,
            "the help channel has no rota (RALLYBOT_HELPERS): its clocks run day and night and "
            "reminders name the community managers",
        )
        warnings.append(text)
    if help_channel is not None and not rota.slots and not admins and managers_channel is None:
        text = i18n.gettext(
            locale,
            "help questions nobody answers reach nobody: name helpers (RALLYBOT_HELPERS), "
            "community managers (RALLYBOT_ADMINS) or a managers' channel "
            "(RALLYBOT_MANAGERS_CHANNEL)",
        )
        warnings.append(text)
    return warnings


def _days(text: str, slot: str) -> frozenset[int]:
    if text in {"daily", "everyday", "all", "*"}:
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.partition("-")
        if first not in _DAY_NAMES or (sep and last not in _DAY_NAMES):
            wrong = first if first not in _DAY_NAMES else last
            # Translators: the day names and "daily" are what the setting accepts: keep them.
            raise ValueError(
                words.N_(
                    '"{wrong}" is not a day in the helpers slot "{slot}" '
                    "(use mon, tue, wed, thu, fri, sat, sun, a range like mon-fri, or daily)",
                    wrong=wrong,
                    slot=slot,
                )
            )
        start = _DAY_NAMES[first]
        end = _DAY_NAMES[last] if sep else start
        index = start
        while True:
            days.add(index)
            if index == end:
                break
            index = (index + 1) % 7
    return frozenset(days)


def _time(text: str, slot: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(
            words.N_(
                '"{text}" is not a time of day in the helpers slot "{slot}"', text=text, slot=slot
            )
        ) from None


def parse_rota(text: str, timezone: str = "UTC") -> Rota:
    """Parse ``"mon-fri 09:00-18:00 U1,U2; sat 10:00-12:00 U3"``; ValueError on a mistake."""
    slots: list[RotaSlot] = []
    for raw in text.split(";"):
        slot = " ".join(raw.split())
        if not slot:
            continue
        parts = slot.split(" ", 2)
        if len(parts) < 3:
            raise ValueError(
                words.N_(
                    'the helpers slot "{slot}" needs days, hours and helpers, '
                    'like "mon-fri 09:00-18:00 U1,U2"',
                    slot=slot,
                )
            )
        days_text, hours_text, people = parts
        match = _HOURS.match(hours_text)
        if match is None:
            raise ValueError(
                words.N_(
                    '"{hours}" in the helpers slot "{slot}" is not a time window '
                    '(like "09:00-18:00")',
                    hours=hours_text,
                    slot=slot,
                )
            )
        start, end = _time(match.group(1), slot), _time(match.group(2), slot)
        if start == end:
            raise ValueError(
                words.N_('the helpers slot "{slot}" starts and ends at the same time', slot=slot)
            )
        helpers = tuple(dict.fromkeys(p.strip() for p in people.split(",") if p.strip()))
        if not helpers or any(" " in h for h in helpers):
            raise ValueError(
                words.N_(
                    'the helpers of the slot "{slot}" are comma-separated user ids, like "U1,U2"',
                    slot=slot,
                )
            )
        slots.append(RotaSlot(_days(days_text.lower(), slot), start, end, helpers))
    return Rota(tuple(slots), timezone)
