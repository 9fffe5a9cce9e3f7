"""The timeline of ``rallybot plan`` as a calendar file (iCalendar) and as one HTML page, in
the reader's language (``--locale``, else ``RALLYBOT_LOCALE``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import icalendar
from jinja2 import Environment, select_autoescape

from rallybot.bot import formats, i18n
from rallybot.campaigns.timeline import TimelineRow

__all__ = ["to_html", "to_ics"]


def _kind(words: str | None, kind: str) -> str:
    """The kind of a row in the reader's words (a calendar category, a label on the page)."""
    labels = {
        "post": i18n.pgettext(words, "timeline kind", "post"),
        "dm": i18n.pgettext(words, "timeline kind", "direct messages"),
        "quiz": i18n.pgettext(words, "timeline kind", "quiz"),
        "digest": i18n.pgettext(words, "timeline kind", "digest"),
    }
    return labels.get(kind, kind)


def _dm_line(words: str | None, row: TimelineRow) -> str:
    """``12 recipients, 10:00 Europe/Madrid, in es``."""
    line = i18n.ngettext(
        words,
        "{n} recipient, {time} {zone}, in {language}",
        "{n} recipients, {time} {zone}, in {language}",
        row.count,
    )
    return line.format(
        n=row.count, time=f"{row.recipient_local:%H:%M}", zone=row.zone, language=row.locale
    )


def _title(words: str | None, row: TimelineRow) -> str:
    if row.kind != "dm":
        return f"{row.step} → {row.target}"
    people = i18n.ngettext(words, "{n} person", "{n} people", row.count).format(n=row.count)
    return f"{row.step} → ✉ {row.target} · {people}"


def to_ics(rows: Sequence[TimelineRow], *, campaign_title: str, words: str | None = None) -> bytes:
    """One event per timeline row (a post, or one step's DMs at one local time in one zone and
    one language), for Outlook or Google Calendar."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Rallybot//campaign timeline//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", campaign_title)
    # Translators: a timeline event's description, a message sent under another name.
    sent_as = i18n.gettext(words, "sent as {sender}")
    pinned = i18n.gettext(words, "pinned")
    for row in rows:
        event = icalendar.Event()
        uid = "-".join(
            [row.campaign, row.step, row.occurrence, f"{row.due_utc:%Y%m%dT%H%M%SZ}"]
            + ([row.zone, row.locale] if row.kind == "dm" else [])
        )
        event.add("uid", f"{uid}@rallybot")
        event.add("dtstamp", row.due_utc)
        event.add("dtstart", row.due_utc)
        event.add("dtend", row.due_utc + timedelta(minutes=15))
        event.add("summary", _title(words, row))
        details = [row.preview]
        if row.kind == "dm":
            details.append(_dm_line(words, row))
        if row.sender:
            details.append(sent_as.format(sender=row.sender))
        if row.pin:
            details.append(pinned)
        event.add("description", "\n".join(details))
        event.add("categories", [_kind(words, row.kind)])
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


_PAGE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ heading }}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d0d0;
         vertical-align: top; }
th { background: #f2f2f2; }
td.count { text-align: right; }
.kind { font-size: .8rem; padding: .1rem .4rem; border-radius: .3rem; background: #e8eef8; }
.meta { color: #4a4a4a; font-size: .85rem; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="meta">{{ intro }}</p>
<table>
<thead><tr>{% for column in columns %}<th scope="col">{{ column }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr>
<td>{{ row.when }}</td>
<td>{{ row.their_time }}</td>
<td>{{ row.step }} <span class="kind">{{ row.kind }}</span></td>
<td>{{ row.target }}
{%- if row.sender %}<br><span class="meta">{{ row.sender }}</span>{% endif %}
{%- if row.pin %}<br><span class="meta">{{ row.pin }}</span>{% endif %}</td>
<td>{{ row.locale }}</td>
<td class="count">{{ row.count }}</td>
<td>{{ row.preview }}</td>
</tr>
{% endfor %}</tbody>
</table>
</body>
</html>
"""

_ENVIRONMENT = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def to_html(
    rows: Sequence[TimelineRow], *, campaign_title: str, zone: str, words: str | None = None
) -> str:
    """A one-page timeline to share (every text escaped)."""
    total = sum(row.count for row in rows)
    messages = i18n.ngettext(words, "{n} message", "{n} messages", total).format(n=total)
    sends = i18n.ngettext(words, "in {n} send", "in {n} sends", len(rows)).format(n=len(rows))
    # Translators: the line under the title of a shared timeline page; {count}: "64 messages
    # in 37 sends".
    intro = i18n.gettext(
        words,
        "Times in {zone}; direct messages also at each recipient's own time. {count}.",
    ).format(zone=zone, count=f"{messages} {sends}")
    # Translators: the title of the browser tab of a shared timeline page.
    heading = i18n.gettext(words, "{campaign} — timeline").format(campaign=campaign_title)
    columns = (
        i18n.pgettext(words, "plan column", "When"),
        i18n.pgettext(words, "plan column", "Their time"),
        i18n.pgettext(words, "plan column", "Step"),
        i18n.pgettext(words, "plan column", "To"),
        i18n.pgettext(words, "plan column", "Lang"),
        "#",
        i18n.pgettext(words, "plan column", "Preview"),
    )
    sent_as = i18n.gettext(words, "sent as {sender}")
    pinned = i18n.gettext(words, "pinned")
    shown = [
        {
            "when": formats.weekday_iso(words, row.due_local),
            "their_time": f"{row.recipient_local:%H:%M} {row.zone}" if row.kind == "dm" else "",
            "step": row.step,
            "kind": _kind(words, row.kind),
            "target": row.target,
            "sender": sent_as.format(sender=row.sender) if row.sender else "",
            "pin": pinned if row.pin else "",
            "locale": row.locale,
            "count": row.count,
            "preview": row.preview,
        }
        for row in rows
    ]
    lang = str(formats.babel_locale(words)).replace("_", "-")
    return _ENVIRONMENT.from_string(_PAGE).render(
        lang=lang, heading=heading, title=campaign_title, intro=intro, columns=columns, rows=shown
    )
