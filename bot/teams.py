"""Teams from platform groups: Slack user groups and Discord roles named in
``RALLYBOT_TEAM_GROUPS`` become members' teams (leaderboards per team, team audiences,
team challenges).

The rules:

- a member in several team groups gets the first of them in the setting's order; group names
  are compared without regard to case, and the team is written as the setting spells it;
- a roster team wins: ``member.team_source`` records where a team came from, and a team
  the roster import gave ("roster") is never touched, whatever its name. The sync marks what
  it writes "group";
- a member who left every team group loses the group's team (and its source) at the next
  sync; so do the members of a group taken out of the setting;
- a team of unknown source (NULL: written before migration 0010, or by other means) follows
  the former rule: an empty team, or one named like a team group (in any case), is the sync's
  and becomes "group" when the sync writes it; any other team is kept as a roster team;
- only members the bot already knows are updated (the sync creates nobody), and forgotten
  members' rows (see the privacy feature) are left as they are;
- an empty setting, or a platform without groups, turns the feature off (nothing changes).

The platform side is the adapter's optional ``member_groups()`` (see
:class:`bot.adapters.base.Adapter`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from rallybot.storage.database import Database
from rallybot.storage.models import Member, TeamSource, table_of

__all__ = ["TEAM_SYNC_SECONDS", "TeamSync", "apply_group_teams", "sync_teams", "team_of"]

log = logging.getLogger("rallybot.teams")

TEAM_SYNC_SECONDS = 900.0
"""How often a running bot reads the platform groups again (at start, then every 15 minutes)."""

M = table_of(Member).c


@dataclass(frozen=True, slots=True)
class TeamSync:
    """What one sync did.

    ``teamed``: members whose team now comes from a team group; ``changed``: rows updated;
    ``cleared``: members who lost a group's team (they left every team group, or their group
    is no longer one); ``kept``: members of a team group whose roster team was kept.
    """

    teamed: int = 0
    changed: int = 0
    cleared: int = 0
    kept: int = 0


def team_of(groups: Iterable[str], team_groups: Sequence[str]) -> str | None:
    """The first of ``team_groups`` (in their order) among ``groups``, compared without
    regard to case and spelled as in ``team_groups``; None when there is none."""
    folded = {group.strip().casefold() for group in groups}
    return next((team for team in team_groups if team.casefold() in folded), None)


async def apply_group_teams(
    db: Database,
    platform: str,
    teams: Mapping[str, str],
    team_groups: Sequence[str],
    now: datetime,
) -> TeamSync:
    """Give the members of ``platform`` their team from ``teams`` (platform user id -> team),
    under the module's rules, in one transaction: one read, then one bulk UPDATE by id."""
    managed = {name.casefold() for name in team_groups}
    group = TeamSource.group.value
    teamed = cleared = kept = 0
    updates: list[dict[str, Any]] = []
    async with db.session() as session:
        rows = await session.execute(
            sa.select(M.id, M.platform_user_id, M.team, M.team_source).where(
                M.platform == platform, M.forgotten.is_(False)
            )
        )
        for member_id, user_id, team, source in rows.all():
            wanted = teams.get(str(user_id))
            if source == TeamSource.roster.value or (
                source is None and team is not None and team.casefold() not in managed
            ):  # a roster team (or, of unknown source, not named like a team group)
                kept += wanted is not None
                continue
            teamed += wanted is not None
            new_source = None if wanted is None else group
            if (team, source) != (wanted, new_source):
                cleared += wanted is None and team is not None
                updates.append(
                    {
                        "member_id": member_id,
                        "old_team": team,
                        "old_source": source,
                        "new_team": wanted,
                        "new_source": new_source,
                    }
                )
        if updates:
            statement = (
                sa.update(table_of(Member))
                .where(
                    M.id == sa.bindparam("member_id"),
                    # unchanged since read: a roster import that ran meanwhile keeps its team
                    M.team.is_not_distinct_from(sa.bindparam("old_team")),
                    M.team_source.is_not_distinct_from(sa.bindparam("old_source")),
                )
                .values(
                    team=sa.bindparam("new_team"),
                    team_source=sa.bindparam("new_source"),
                    updated_at=now,
                )
            )
            await session.execute(statement, updates)
    return TeamSync(teamed=teamed, changed=len(updates), cleared=cleared, kept=kept)


async def sync_teams(
    db: Database, adapter: object, platform: str, team_groups: Sequence[str], now: datetime
) -> TeamSync | None:
    """Read the platform groups (``adapter.member_groups()``) and apply them; None when the
    feature is off (no team groups) or the platform has no groups. Adapter errors propagate
    (nothing is changed then)."""
    if not team_groups:
        return None
    member_groups = getattr(adapter, "member_groups", None)
    if member_groups is None:
        return None
    groups: Mapping[str, Sequence[str]] = await member_groups()
    teams: dict[str, str] = {}
    for user_id, names in groups.items():
        team = team_of(names, team_groups)
        if team is not None:
            teams[user_id] = team
    result = await apply_group_teams(db, platform, teams, team_groups, now)
    log.info(
        "teams from platform groups: members with a group's team %d, changed %d, "
        "cleared %d, roster teams kept %d",
        result.teamed,
        result.changed,
        result.cleared,
        result.kept,
    )
    return result
