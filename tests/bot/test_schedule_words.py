"""When a step is sent, in its reader's words: every form of ``at`` and ``every`` the campaign
language has reads as a sentence in French, Spanish, German and English, never as the file's
syntax."""

from __future__ import annotations

import pytest

from rallybot.bot.schedule_words import recurrence_words, schedule_words, time_expr_words
from rallybot.campaigns.schema import Campaign, Step
from rallybot.campaigns.timeexpr import parse_recurrence, parse_time_expr

EVERY = [
    # (every:, en, fr, es, de)
    (
        "monday at 09:00",
        "every Monday at 9:00 AM",
        "chaque lundi à 09:00",
        "cada lunes a las 9:00",
        "jeden Montag um 09:00",
    ),
    (
        "monday and thursday at 09:00",
        "every Monday and Thursday at 9:00 AM",
        "chaque lundi et jeudi à 09:00",
        "cada lunes y jueves a las 9:00",
        "jeden Montag und Donnerstag um 09:00",
    ),
    (
        "day at 18:00",
        "every day at 6:00 PM",
        "tous les jours à 18:00",
        "todos los días a las 18:00",
        "täglich um 18:00",
    ),
    (
        "weekday at 08:30",
        "Monday to Friday at 8:30 AM",
        "du lundi au vendredi à 08:30",
        "de lunes a viernes a las 8:30",
        "montags bis freitags um 08:30",
    ),
    (
        "2 weeks on monday at 09:00",
        "every 2 weeks on Monday at 9:00 AM",
        "une semaine sur 2, le lundi, à 09:00",
        "cada 2 semanas, el lunes, a las 9:00",
        "alle 2 Wochen am Montag um 09:00",
    ),
    (
        "first monday of the month at 09:00",
        "the first Monday of each month at 9:00 AM",
        "le premier lundi de chaque mois à 09:00",
        "el primer lunes de cada mes a las 9:00",
        "am ersten Montag jedes Monats um 09:00",
    ),
    (
        "last friday of the month at 17:00",
        "the last Friday of each month at 5:00 PM",
        "le dernier vendredi de chaque mois à 17:00",
        "el último viernes de cada mes a las 17:00",
        "am letzten Freitag jedes Monats um 17:00",
    ),
    (
        "tous les lundis à 09:00",  # the French spelling of a recurrence
        "every Monday at 9:00 AM",
        "chaque lundi à 09:00",
        "cada lunes a las 9:00",
        "jeden Montag um 09:00",
    ),
    (
        "cron 30 9 * * 1-5",  # a cron line that only chooses weekdays reads like one
        "Monday to Friday at 9:30 AM",
        "du lundi au vendredi à 09:30",
        "de lunes a viernes a las 9:30",
        "montags bis freitags um 09:30",
    ),
    (
        "cron 0 9 1,15 * *",
        "at 9:00 AM on the days of the cron line 0 9 1,15 * *",
        "à 09:00, les jours de la ligne cron 0 9 1,15 * *",
        "a las 9:00, los días de la línea cron 0 9 1,15 * *",
        "um 09:00 an den Tagen der Cron-Zeile 0 9 1,15 * *",
    ),
]

AT = [
    # (at:, en, fr, es, de)
    (
        "2026-09-15 09:30",
        "on Sep 15, 2026 at 9:30 AM",
        "le 15 sept. 2026 à 09:30",
        "el 15 sept 2026 a las 9:30",
        "am 15. Sept. 2026 um 09:30",
    ),
    (
        "launch - 28d at 09:00",
        "28 days before launch, at 9:00 AM",
        "28 jours avant launch, à 09:00",
        "28 días antes de launch, a las 9:00",
        "28 Tage vor launch um 09:00",
    ),
    (
        "launch + 1d",
        "1 day after launch",
        "1 jour après launch",
        "1 día después de launch",
        "1 Tag nach launch",
    ),
    (
        "launch - 2h 30m",
        "2 hours and 30 minutes before launch",
        "2 heures et 30 minutes avant launch",
        "2 horas y 30 minutos antes de launch",
        "2 Stunden und 30 Minuten vor launch",
    ),
    (
        "launch - 3 workdays at 08:45",
        "3 working days before launch, at 8:45 AM",
        "3 jours ouvrés avant launch, à 08:45",
        "3 días laborables antes de launch, a las 8:45",
        "3 Werktage vor launch um 08:45",
    ),
    (
        "launch at 09:00",
        "on the day of launch, at 9:00 AM",
        "le jour de launch, à 09:00",
        "el día de launch, a las 9:00",
        "am Tag von launch um 09:00",
    ),
    (
        "launch",
        "at launch",
        "au moment de launch",
        "en el momento de launch",
        "zum Zeitpunkt von launch",
    ),
    (
        "join + 2d at 10:00",
        "2 days after joining, at 10:00 AM",
        "2 jours après l'arrivée, à 10:00",
        "2 días después de la llegada, a las 10:00",
        "2 Tage nach dem Beitritt um 10:00",
    ),
    (
        "join + 0d at 10:00",
        "the day they join, at 10:00 AM",
        "le jour de l'arrivée, à 10:00",
        "el día de la llegada, a las 10:00",
        "am Tag des Beitritts um 10:00",
    ),
    (
        "join",
        "as soon as they join",
        "dès l'arrivée",
        "en cuanto llegan",
        "sofort beim Beitritt",
    ),
    (
        "2026-09-15 - 2d at 10:00",
        "2 days before Sep 15, 2026, at 10:00 AM",
        "2 jours avant le 15 sept. 2026, à 10:00",
        "2 días antes del 15 sept 2026, a las 10:00",
        "2 Tage vor dem 15. Sept. 2026 um 10:00",
    ),
]

LOCALES = ("en", "fr", "es", "de")


@pytest.mark.parametrize(("every", "en", "fr", "es", "de"), EVERY)
def test_every_recurrence_reads_in_each_language(
    every: str, en: str, fr: str, es: str, de: str
) -> None:
    recurrence = parse_recurrence(every)
    said = [_plain(recurrence_words(recurrence, locale)) for locale in LOCALES]
    assert said == [en, fr, es, de]


@pytest.mark.parametrize(("at", "en", "fr", "es", "de"), AT)
def test_every_time_reads_in_each_language(at: str, en: str, fr: str, es: str, de: str) -> None:
    expr = parse_time_expr(at)
    assert [_plain(time_expr_words(expr, locale)) for locale in LOCALES] == [en, fr, es, de]


def _plain(words: str) -> str:
    """The words with CLDR's narrow no-break space ("9:00 AM") as a plain one."""
    return words.replace("\u202f", " ")


def _step(campaign: Campaign, step_id: str) -> Step:
    step = campaign.step(step_id)
    assert step is not None
    return step


def test_a_step_reads_with_the_days_its_recurrence_runs(example_campaign: Campaign) -> None:
    # the example's weekly post runs from a milestone to another: the days, not the syntax
    weekly = next(step for step in example_campaign.steps if step.every is not None)
    words = schedule_words(example_campaign, weekly, "fr")
    assert words.startswith("chaque lundi à 09:00")
    assert "every" not in words and ":" in words
    once = _step(example_campaign, "ceo-announcement")
    assert schedule_words(example_campaign, once, "fr") == "au moment de launch"


def test_from_and_until_are_days(example_campaign: Campaign) -> None:
    base = _step(example_campaign, "ceo-announcement")
    every = parse_recurrence("monday at 09:00")
    both = _with(base, every, "2026-09-01", "2026-10-15")
    start_only = _with(base, every, "2026-09-01", None)
    end_only = _with(base, every, None, "launch + 1d")
    launch = example_campaign.milestones["launch"]
    fr = "chaque lundi à 09:00"
    assert (
        schedule_words(example_campaign, both, "fr") == f"{fr}, du 1er sept. 2026 au 15 oct. 2026"
    )
    assert schedule_words(example_campaign, start_only, "fr") == f"{fr}, à partir du 1er sept. 2026"
    day = launch.day + 1
    assert schedule_words(example_campaign, end_only, "fr").startswith(f"{fr}, jusqu'au {day} ")
    assert _plain(schedule_words(example_campaign, both, "en")) == (
        "every Monday at 9:00 AM, from Sep 1, 2026 until Oct 15, 2026"
    )


def _with(step: Step, every: object, start: str | None, end: str | None) -> Step:
    from dataclasses import replace

    return replace(
        step,
        at=None,
        every=every,  # type: ignore[arg-type]
        from_=parse_time_expr(start) if start else None,
        until=parse_time_expr(end) if end else None,
    )


@pytest.fixture
def example_campaign() -> Campaign:
    from pathlib import Path

    from rallybot.campaigns.loader import load_campaign

    folder = Path(__file__).resolve().parents[2] / "campaigns" / "examples" / "en"
    return load_campaign(folder / "connect-launch.yaml")
