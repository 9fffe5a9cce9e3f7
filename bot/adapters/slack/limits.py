"""Slack's Web API rate limits, as rules for :class:`bot.ratelimit.RateLimiter`.

Slack limits each Web API method per app per workspace, in tiers (calls per minute, "with
occasional bursts"): Tier 1 1+, Tier 2 20+, Tier 3 50+, Tier 4 100+. Those floors are what
the bot budgets for; bursts are sized at a tenth of a minute's allowance (at least 1), the
"sporadic bursts" Slack tolerates without promising.

``chat.postMessage`` has a special tier: "generally one message per second per channel"
with short bursts not guaranteed, "while also maintaining a workspace-wide limit" whose
figure Slack does not publish beyond "several hundred messages a minute". The bot budgets
:data:`POST_WORKSPACE_PER_MINUTE` (600, ten a second, with a burst of ten) for the whole
workspace and one a second, without burst, per channel; a direct message is sent to its DM
channel, so a fan-out of DMs is bounded by the workspace allowance, not by the channels.

Every rate is further multiplied by :data:`HEADROOM` (0.95): a call leaves the limiter a
little before it reaches Slack, and network jitter would otherwise make some calls arrive
early and be refused with a 429. 95 % of the allowance with no 429 is faster than 100 % with
retries. A 429 still happens (other apps of the workspace share nothing with us, but Slack's
figures are floors): the caller then penalizes the keys it acquired for ``Retry-After``
seconds (:meth:`RateLimiter.penalize`), which delays only the calls that need those buckets.

Keys (see :func:`rate_keys`): ``post:workspace`` and ``post:channel:<id>`` for
``chat.postMessage``, ``tier<N>:<method>`` for tiered methods (a bucket per method, the rule
of its tier), ``special:<method>`` for methods without a budget (``auth.test``) — free, but
they honour a penalty. The rule named ``post`` is the per-channel one (a rule applies to the
keys it prefixes before ``:``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rallybot.bot.ratelimit import RateLimiter, Rule

__all__ = [
    "HEADROOM",
    "METHOD_TIERS",
    "POST_CHANNEL_PER_MINUTE",
    "POST_WORKSPACE_BURST",
    "POST_WORKSPACE_PER_MINUTE",
    "SLACK_TIERS",
    "rate_keys",
    "slack_limiter",
    "slack_rules",
]

SLACK_TIERS: Mapping[str, float] = {"tier1": 1.0, "tier2": 20.0, "tier3": 50.0, "tier4": 100.0}
"""Slack's documented tiers, in calls per minute per method per workspace."""

POST_CHANNEL_PER_MINUTE = 60.0
"""``chat.postMessage``: about one message a second in one channel."""
POST_WORKSPACE_PER_MINUTE = 600.0
"""``chat.postMessage``: the workspace allowance budgeted ("several hundred a minute")."""
POST_WORKSPACE_BURST = 10
HEADROOM = 0.95
"""The share of each allowance the limiter hands out (see the module docstring)."""

METHOD_TIERS: dict[str, str] = {
    "chat.postMessage": "post",  # special: per channel plus the workspace allowance
    "chat.update": "tier3",
    "chat.postEphemeral": "tier4",
    "chat.delete": "tier3",
    "pins.add": "tier2",
    "reactions.add": "tier3",
    "conversations.open": "tier3",
    "conversations.history": "tier3",
    "conversations.replies": "tier3",
    "conversations.info": "tier3",
    "conversations.members": "tier4",
    "users.info": "tier4",
    "users.list": "tier2",
    "users.lookupByEmail": "tier3",  # roster import matching emails, one lookup per row
    "usergroups.list": "tier2",  # teams from user groups (RALLYBOT_TEAM_GROUPS), one per sync
    "views.open": "tier4",  # a form opened in answer to a click
    "views.publish": "tier4",  # a member's Home tab, each time they open it
    "files.getUploadURLExternal": "tier4",  # a file (the /rallybot stats charts): step 1
    "files.completeUploadExternal": "tier4",  # step 3, which shares it in the channel
    "auth.test": "special",  # a generous special tier; called once at start
    "apps.connections.open": "tier1",
}
"""Each Web API method the adapter calls, and its tier (``post`` and ``special`` apart)."""

_DEFAULT_TIER = "tier2"  # "most methods allow at least 20 requests per minute"


def _burst(per_minute: float) -> int:
    return max(1, math.floor(per_minute / 10))


def slack_rules(scale: float = 1.0, *, headroom: float = HEADROOM) -> dict[str, Rule]:
    """The limiter's rules; ``scale`` multiplies every rate (a fake Slack scaled alike).

    Bursts are not scaled: they are what may go at once, whatever the rate.
    """
    if not scale > 0 or not 0 < headroom <= 1:
        raise ValueError("scale must be positive and headroom in (0, 1]")

    def per_second(per_minute: float) -> float:
        return per_minute / 60.0 * scale * headroom

    rules = {
        name: Rule(rate=per_second(per_minute), burst=_burst(per_minute))
        for name, per_minute in SLACK_TIERS.items()
    }
    rules["post:workspace"] = Rule(
        rate=per_second(POST_WORKSPACE_PER_MINUTE), burst=POST_WORKSPACE_BURST
    )
    rules["post"] = Rule(rate=per_second(POST_CHANNEL_PER_MINUTE), burst=1)  # per channel
    return rules


def rate_keys(method: str, channel: str | None = None) -> tuple[str, ...]:
    """The limiter keys to acquire (all at once) before calling ``method``.

    ``channel`` matters for ``chat.postMessage`` only: its per-channel bucket. A method not
    in :data:`METHOD_TIERS` is budgeted as Tier 2, Slack's most common tier.
    """
    tier = METHOD_TIERS.get(method, _DEFAULT_TIER)
    if tier == "post":
        if channel is None:
            return ("post:workspace",)
        return ("post:workspace", f"post:channel:{channel}")
    return (f"{tier}:{method}",)


def slack_limiter(scale: float = 1.0, **kwargs: Any) -> RateLimiter:
    """A :class:`RateLimiter` with :func:`slack_rules`; ``kwargs`` go to its constructor
    (``time_func``, ``sleep``, ``max_buckets``), but ``headroom`` to :func:`slack_rules`."""
    headroom = float(kwargs.pop("headroom", HEADROOM))
    kwargs.setdefault("platform", "slack")  # the metrics' label
    return RateLimiter(slack_rules(scale, headroom=headroom), **kwargs)
