"""``rallybot`` with the Slack adapter's rate limiter scaled by ``FAKE_SLACK_SCALE``.

The real-process tests run the real command line against the local fake Slack, whose limits
are Slack's multiplied by one constant (``FakeSlack(scale=...)``) so that a 1,000-message
fan-out takes seconds, not minutes. The bot's own limiter must then be scaled by the same
constant, as the benchmarks do in-process; nothing else differs from ``rallybot``::

    FAKE_SLACK_SCALE=6 python -m tests.reliability.scaled_rallybot run --platform slack ...
"""

from __future__ import annotations

import functools
import os
from typing import Any

from rallybot.bot.adapters.slack.adapter import SlackAdapter
from rallybot.bot.cli import main


def _scaled(scale: float) -> None:
    original = SlackAdapter.__init__

    @functools.wraps(original)
    def init(self: SlackAdapter, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("limiter_scale", scale)
        original(self, *args, **kwargs)

    SlackAdapter.__init__ = init  # type: ignore[method-assign]


if __name__ == "__main__":
    _scaled(float(os.environ.get("FAKE_SLACK_SCALE", "1")))
    main()
