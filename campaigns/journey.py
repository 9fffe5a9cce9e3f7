"""Onboarding journeys in campaign files: the checks, the generated steps, the compiled form.

A ``journey:`` section becomes ordinary direct-message steps (a welcome, then each task's
nudges, timed from each member's own start with ``join + ...``), so the planner and the
outbox pace them, honour quiet hours and member time zones, survive restarts and never send
one twice. Each nudge carries ``unless: task_done(TASK)``: the outbox skips it once the task
is done. Charter and self-declared tasks get an action button in their nudges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rallybot.campaigns import words
from rallybot.campaigns.base import Loc, LocalizedText, Problem, texts_of
from rallybot.campaigns.templates import check_template, did_you_mean, variables_for
from rallybot.campaigns.timeexpr import TimeExprError, parse_time_expr
from rallybot.campaigns.words import N_

if TYPE_CHECKING:  # the schema builds on this module: its models are only annotations here
    from rallybot.campaigns.schema import CampaignSpec, TaskSpec

__all__ = [
    "ACCEPT_ACTION",
    "DONE_ACTION",
    "TASK_CONDITION",
    "WELCOME_STEP",
    "Journey",
    "Task",
    "compile_journey",
    "journey_of",
    "journey_problems",
    "journey_step_data",
    "nudge_step_id",
    "task_done_step_id",
    "task_of_done_step",
]

TASK_CONDITION = re.compile(r"^task_done\(([a-z0-9][a-z0-9_-]{0,39})\)$")
"""``unless: task_done(TASK)``: a step skipped once the member did an onboarding task."""
WELCOME_STEP = "journey-welcome"
"""The step id of a journey's welcome message."""
ACCEPT_ACTION = "onboarding-accept"
"""The action of the "I accept" button of a charter task."""
DONE_ACTION = "onboarding-done"
"""The action of the button of a self-declared task."""


def _button(done_when: str) -> dict[str, str]:
    """The label of a task's button in every language of the bot's words."""
    if done_when == "charter_accepted":
        # Translators: the button of the charter: the newcomer accepts it.
        return {lang: words.gettext(lang, "I accept") for lang in words.languages()}
    # Translators: the button of a task the newcomer says they did.
    return {lang: words.gettext(lang, "Done") for lang in words.languages()}


_ACTIONS = {"charter_accepted": ACCEPT_ACTION, "self_declared": DONE_ACTION}
_BUTTON_TASKS = frozenset(_ACTIONS)


def nudge_step_id(task_id: str, number: int) -> str:
    """The step id of the ``number``-th (1-based) nudge of a task."""
    return f"journey-{task_id}-{number}"


def task_done_step_id(task_id: str) -> str:
    """The step id of the acknowledgement a member gets when they mark a task done with its
    button (a journey's own message: no step of its file)."""
    return f"task-{task_id}-done"


_TASK_DONE = re.compile(r"^task-([a-z0-9][a-z0-9_-]{0,39})-done$")


def task_of_done_step(step_id: str) -> str | None:
    """The task id of a :func:`task_done_step_id` step id; None for any other step."""
    found = _TASK_DONE.match(step_id)
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class Task:
    """A compiled checklist item."""

    id: str
    kind: str
    label: LocalizedText
    channels: tuple[str, ...] = ()  # logical channel names (joined_channels)
    channel: str | None = None  # logical channel name (first_post); None: the community one
    nudge_steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Journey:
    """A compiled journey: what the onboarding handlers work from."""

    campaign_id: str
    audiences: tuple[str, ...]
    community: str | None
    max_nudges_per_day: int | None
    welcome_step: str | None
    tasks: tuple[Task, ...]
    done_dm: LocalizedText | None
    done_points: int | None
    step_task: dict[str, str] = field(default_factory=dict)  # nudge step id -> task id

    def task(self, task_id: str) -> Task | None:
        """The task with ``task_id``, if any."""
        return next((t for t in self.tasks if t.id == task_id), None)

    def is_nudge(self, step_id: str) -> bool:
        """Whether ``step_id`` is one of this journey's nudges."""
        return step_id in self.step_task

    def owns(self, step_id: str) -> bool:
        """Whether ``step_id`` was generated from this journey (welcome or nudge)."""
        return step_id == self.welcome_step or step_id in self.step_task


def journey_of(campaign: Any) -> Journey | None:
    """The journey of a compiled campaign, if its file has one."""
    journey = campaign.extra.get("journey")
    return journey if isinstance(journey, Journey) else None


def _audiences(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _button_dump(buttons: list[Any]) -> list[dict[str, Any]]:
    return [b.model_dump(mode="json", by_alias=True, exclude_none=True) for b in buttons]


def _nudge_buttons(task: TaskSpec, buttons: list[Any]) -> list[dict[str, Any]]:
    dumped = _button_dump(buttons)
    if task.done_when in _BUTTON_TASKS:
        label = task.button if task.button is not None else _button(task.done_when)
        dumped.append({"label": label, "action": _ACTIONS[task.done_when], "style": "primary"})
    return dumped


def journey_step_data(spec: CampaignSpec) -> list[dict[str, Any]]:
    """The direct-message steps a journey stands for, as a file would write them under
    ``steps:`` (none without a ``journey:``); the schema validates them like the others."""
    journey = spec.journey
    if journey is None:
        return []
    common: dict[str, Any] = {}
    if journey.for_ is not None:
        common["for"] = journey.for_
    steps: list[dict[str, Any]] = []
    if journey.welcome is not None:
        welcome = journey.welcome
        data: dict[str, Any] = {
            **common,
            "id": welcome.id or WELCOME_STEP,
            "at": welcome.at,
            "dm": welcome.dm,
            "buttons": _button_dump(welcome.buttons),
        }
        if welcome.image is not None:
            data["image"] = welcome.image.model_dump(mode="json")
        steps.append(data)
    for task in journey.tasks:
        for number, nudge in enumerate(task.nudges, start=1):
            data = {
                **common,
                "id": nudge.id or nudge_step_id(task.id, number),
                "at": nudge.at,
                "dm": nudge.dm,
                "unless": f"task_done({task.id})",
                "buttons": _nudge_buttons(task, nudge.buttons),
            }
            if nudge.id is None and task.renamed_from is not None:
                # A renamed task's nudges keep their history (sent ones are not sent again).
                data["renamed_from"] = nudge_step_id(task.renamed_from, number)
            if nudge.image is not None:
                data["image"] = nudge.image.model_dump(mode="json")
            steps.append(data)
    return steps


def compile_journey(spec: CampaignSpec) -> Journey:
    """The compiled journey of a spec that has one and passed :func:`journey_problems`."""
    journey = spec.journey
    assert journey is not None
    tasks: list[Task] = []
    step_task: dict[str, str] = {}
    for task in journey.tasks:
        nudges = tuple(
            nudge.id or nudge_step_id(task.id, n) for n, nudge in enumerate(task.nudges, start=1)
        )
        step_task.update(dict.fromkeys(nudges, task.id))
        tasks.append(
            Task(
                id=task.id,
                kind=task.done_when,
                label=task.label,
                channels=tuple(task.channels),
                channel=task.channel,
                nudge_steps=nudges,
            )
        )
    return Journey(
        campaign_id=spec.id,
        audiences=tuple(_audiences(journey.for_)) or ("everyone",),
        community=journey.community,
        max_nudges_per_day=journey.max_nudges_per_day,
        welcome_step=(journey.welcome.id or WELCOME_STEP) if journey.welcome is not None else None,
        tasks=tuple(tasks),
        done_dm=journey.done.dm if journey.done is not None else None,
        done_points=journey.done.points if journey.done is not None else None,
        step_task=step_task,
    )


_JOIN_ONLY = (
    'a journey message is timed from each member\'s own start: write it like "join + 2d at 10:00"'
)


def _check_time(text: str, loc: Loc, problems: list[Problem]) -> None:
    try:
        expr = parse_time_expr(text, allow_join=True)
    except TimeExprError as exc:
        problems.append(Problem(loc, exc.args[0]))
        return
    if not expr.per_member:
        problems.append(Problem(loc, _JOIN_ONLY))


def _check_text(
    value: LocalizedText, loc: Loc, variables: set[str], problems: list[Problem]
) -> None:
    if isinstance(value, dict) and not value:
        problems.append(Problem(loc, N_("the message is empty: give at least one language")))
        return
    for locale, text in texts_of(value):
        where = loc if locale is None else (*loc, locale)
        if not text.strip():
            problems.append(Problem(where, N_("the message is empty")))
            continue
        for message in check_template(text, variables, per_member=True):
            problems.append(Problem(where, message))


def _channel(name: str, loc: Loc, channels: set[str], problems: list[Problem]) -> None:
    if name not in channels:
        problems.append(
            Problem(
                loc,
                N_(
                    'unknown channel "{name}"{hint}; declare it under channels:',
                    name=name,
                    hint=did_you_mean(name, channels),
                ),
            )
        )


def _claim(step_id: str, loc: Loc, taken: set[str], problems: list[Problem]) -> None:
    """Reserve a generated step id; two messages may not share one."""
    if step_id in taken:
        problems.append(
            Problem(
                loc,
                N_(
                    'the step id "{step_id}" is used twice (by a step or a journey message)',
                    step_id=step_id,
                ),
            )
        )
    taken.add(step_id)


def journey_problems(spec: CampaignSpec) -> list[Problem]:
    """Problems of the ``journey:`` section, and ``task_done(...)`` conditions pointing nowhere."""
    problems: list[Problem] = []
    journey = spec.journey
    task_ids = {task.id for task in journey.tasks} if journey is not None else set()
    for index, step in enumerate(spec.steps):
        for condition in [step.unless] if isinstance(step.unless, str) else step.unless or []:
            match = TASK_CONDITION.match(condition)
            if match is None or match.group(1) in task_ids:
                continue
            if journey is None:
                message = N_(
                    '"{condition}" needs a journey: section with that task', condition=condition
                )
            else:
                hint = did_you_mean(match.group(1), task_ids)
                message = N_(
                    'unknown onboarding task "{task}"{hint}', task=match.group(1), hint=hint
                )
            problems.append(Problem(("steps", index, "unless"), message))
    if journey is None:
        return problems

    base: Loc = ("journey",)
    channels = set(spec.channels)
    audiences = set(spec.audiences) | {"everyone"}
    variables = variables_for(set(spec.milestones), per_member=True)
    step_ids = {step.id for step in spec.steps}
    for position, target in enumerate(_audiences(journey.for_)):
        if target not in audiences:
            loc: Loc = (*base, "for") if isinstance(journey.for_, str) else (*base, "for", position)
            problems.append(
                Problem(
                    loc,
                    N_(
                        'unknown audience "{target}"{hint}; declare it under audiences:',
                        target=target,
                        hint=did_you_mean(target, audiences),
                    ),
                )
            )
    if journey.community is not None:
        _channel(journey.community, (*base, "community"), channels, problems)
    if journey.welcome is not None:
        _check_time(journey.welcome.at, (*base, "welcome", "at"), problems)
        _check_text(journey.welcome.dm, (*base, "welcome", "dm"), variables, problems)
        welcome_loc: Loc = (*base, "welcome", "id") if journey.welcome.id else (*base, "welcome")
        _claim(journey.welcome.id or WELCOME_STEP, welcome_loc, step_ids, problems)
    if journey.done is not None:
        _check_text(journey.done.dm, (*base, "done", "dm"), variables, problems)

    seen: dict[str, int] = {}
    for index, task in enumerate(journey.tasks):
        where: Loc = (*base, "tasks", index)
        if task.id in seen:
            problems.append(
                Problem(
                    (*where, "id"),
                    N_(
                        'task id "{id}" is used twice (first by task {first})',
                        id=task.id,
                        first=seen[task.id] + 1,
                    ),
                )
            )
        if task.id == "done":
            problems.append(
                Problem(
                    (*where, "id"), N_('task id "done" is reserved (the checklist\'s completion)')
                )
            )
        duplicate = task.id in seen
        seen.setdefault(task.id, index)
        if task.renamed_from is not None and task.renamed_from in task_ids:
            problems.append(
                Problem(
                    (*where, "renamed_from"),
                    N_(
                        'task "{renamed_from}" is still in the file: a task renamed '
                        "from it would share its history; remove renamed_from or the "
                        "old task",
                        renamed_from=task.renamed_from,
                    ),
                )
            )
        kind = task.done_when
        if kind == "joined_channels":
            if not task.channels:
                problems.append(
                    Problem(
                        (*where, "done_when"),
                        N_('a joined_channels task lists the channels to join under "channels"'),
                    )
                )
            for position, name in enumerate(task.channels):
                _channel(name, (*where, "channels", position), channels, problems)
        elif task.channels:
            problems.append(
                Problem((*where, "channels"), N_('"channels" goes with done_when: joined_channels'))
            )
        if task.channel is not None:
            if kind != "first_post":
                problems.append(
                    Problem((*where, "channel"), N_('"channel" goes with done_when: first_post'))
                )
            else:
                _channel(task.channel, (*where, "channel"), channels, problems)
        if task.button is not None and kind not in _BUTTON_TASKS:
            problems.append(
                Problem(
                    (*where, "button"),
                    N_('"button" goes with done_when: charter_accepted or self_declared'),
                )
            )
        if kind in _BUTTON_TASKS and not task.nudges:
            what = (
                N_("the charter and its accept button")
                if kind == "charter_accepted"
                else N_("its button")
            )
            problems.append(
                Problem(
                    (*where, "nudges"),
                    # Translators: {what} is "its button" or "the charter and its accept button".
                    N_(
                        "this task is done with a button: give at least one nudge to carry {what}",
                        what=what,
                    ),
                )
            )
        for number, nudge in enumerate(task.nudges):
            nudge_loc: Loc = (*where, "nudges", number)
            _check_time(nudge.at, (*nudge_loc, "at"), problems)
            _check_text(nudge.dm, (*nudge_loc, "dm"), variables, problems)
            generated = nudge.id or nudge_step_id(task.id, number + 1)
            if duplicate and not nudge.id:
                continue  # said once already: the task id is used twice
            _claim(
                generated, (*nudge_loc, "id") if nudge.id else (*where, "id"), step_ids, problems
            )
    return problems
