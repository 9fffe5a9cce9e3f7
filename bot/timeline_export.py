"""The timeline of ``rallybot plan`` as a calendar file (iCalendar) and as one HTML page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import icalendar
from jinja2 import Environment, select_autoescape

from rallybot.campaigns.timeline import TimelineRow

__all__ = ["to_html", "to_ics"]

_KIND_LABELS = {"post": "post", "dm": "direct messages", "quiz": "quiz", "digest": "digest"}


def _title(row: TimelineRow) -> str:
    who = row.target if row.kind != "dm" else f"✉ {row.target} · {row.count} people"
    return f"{row.step} → {who}"


def to_ics(rows: Sequence[TimelineRow], *, campaign_title: str) -> bytes:
    """One event per timeline row (a post, or one step's DMs at one local time in one zone and
    one language), for Outlook or Google Calendar."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Rallybot//campaign timeline//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", campaign_title)
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
        event.add("summary", _title(row))
        details = [row.preview]
        if row.kind == "dm":
            details.append(
                f"{row.count} recipient(s), {row.recipient_local:%H:%M} {row.zone}, in {row.locale}"
            )
        if row.sender:
            details.append(f"sent as {row.sender}")
        if row.pin:
            details.append("pinned")
        event.add("description", "\n".join(details))
        event.add("categories", [_KIND_LABELS.get(row.kind, row.kind)])
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} — timeline</title>
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
<p class="meta">Times in {{ zone }}; direct messages also at each recipient's own time.
{{ total }} message(s) in {{ rows|length }} send(s).</p>
<table>
<thead><tr><th scope="col">When</th><th scope="col">Their time</th><th scope="col">Step</th>
<th scope="col">To</th><th scope="col">Lang</th><th scope="col">#</th>
<th scope="col">Message</th></tr></thead>
<tbody>
{% for row in rows %}<tr>
<td>{{ row.due_local.strftime("%a %Y-%m-%d %H:%M") }}</td>
<td>{% if row.kind == "dm" %}{{ row.recipient_local.strftime("%H:%M") }} {{ row.zone }}
{%- endif %}</td>
<td>{{ row.step }} <span class="kind">{{ kinds.get(row.kind, row.kind) }}</span></td>
<td>{{ row.target }}
{%- if row.sender %}<br><span class="meta">as {{ row.sender }}</span>{% endif %}
{%- if row.pin %}<br><span class="meta">pinned</span>{% endif %}</td>
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


def to_html(rows: Sequence[TimelineRow], *, campaign_title: str, zone: str) -> str:
    """A one-page timeline to share (every text escaped)."""
    template = _ENVIRONMENT.from_string(_PAGE)
    return template.render(
        title=campaign_title,
        zone=zone,
        rows=rows,
        total=sum(row.count for row in rows),
        kinds=_KIND_LABELS,
    )
