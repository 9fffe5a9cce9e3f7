"""A bot process that dies by SIGKILL in the middle of an event's transaction: the help question
``QUESTION`` has opened its ticket and queued the bot's answer, the statement that closes its
journal row has run, and the process is killed before the commit (the real ``kill -9``, at
that exact point).

    python -m tests.reliability.die_mid_close DATABASE_URL CAMPAIGNS_FOLDER WORKER_ID
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from rallybot.bot.clock import SimulatedClock
from rallybot.storage import journal as journal_store
from rallybot.storage.database import create_database
from tests.helpdesk.helpers import T0, make_bot, post

QUESTION = "How do I reset my password?"


async def main(url: str, folder: Path, worker_id: str) -> None:
    """Record the question, then handle it and die before the commit."""
    db = create_database(url)
    clock = SimulatedClock(T0)
    bot, _ = await make_bot(db, folder, clock, worker_id=worker_id)
    real_close = journal_store.close_in

    async def close_then_die(session: Any, ids: Any, now: Any) -> None:
        await real_close(session, ids, now)
        os.kill(os.getpid(), signal.SIGKILL)

    journal_store.close_in = close_then_die
    question = post("asker", QUESTION, clock, message_id="q-killed")
    journal_id = await bot._record(question)
    assert journal_id is not None
    print("recorded", flush=True)
    bot.inbox.put(question, journal_id)
    await bot.idle()
    raise SystemExit("still alive: the kill did not come")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
