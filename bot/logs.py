"""Logging set-up: text or JSON lines, with secrets scrubbed and context fields on every record.

Context fields say what a line is about: ``campaign``, ``step``, ``delivery`` (the outbox row
id), ``event`` (the platform's event id), ``platform`` and ``worker`` (the replica). The code
that works on a delivery or an event opens :class:`log_context`; everything logged inside it,
by our code or a library, carries the fields (a :mod:`contextvars` variable, so concurrent
tasks never see each other's). :func:`set_process_fields` sets the ones true for the whole
process (``worker``, ``platform``).

Messages never carry tokens (scrubbed here as a last resort), passwords or what members
write: log ids and counts, not texts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import TracebackType

__all__ = [
    "CONTEXT_FIELDS",
    "ContextFilter",
    "RedactingFilter",
    "configure_logging",
    "current_fields",
    "log_context",
    "set_process_fields",
]

CONTEXT_FIELDS = ("campaign", "step", "delivery", "event", "platform", "worker")
"""The context fields, in the order the text format writes them."""

_EMPTY: dict[str, str] = {}
_context: ContextVar[dict[str, str]] = ContextVar("rallybot_log_context", default=_EMPTY)
_process_fields: dict[str, str] = {}


class log_context:  # lower case: used like a function, ``with log_context(step="j-7"):``
    """Add context fields to every log record inside the ``with`` block (None values are
    left out). Cheap: one dict and one context variable set per block."""

    __slots__ = ("_fields", "_token")

    def __init__(self, **fields: object) -> None:
        self._fields = {k: str(v) for k, v in fields.items() if v is not None}
        self._token: Token[dict[str, str]] | None = None

    def __enter__(self) -> None:
        current = _context.get()
        self._token = _context.set({**current, **self._fields} if current else self._fields)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _context.reset(self._token)
            self._token = None


def set_process_fields(**fields: object) -> None:
    """Fields true for every record of this process (``worker``, ``platform``); None removes."""
    for key, value in fields.items():
        if value is None:
            _process_fields.pop(key, None)
        else:
            _process_fields[key] = str(value)


def current_fields() -> dict[str, str]:
    """The context fields in force here: the process' ones, then the block's."""
    context = _context.get()
    if not context:
        return dict(_process_fields)
    return {**_process_fields, **context}


class ContextFilter(logging.Filter):
    """Puts the context fields on each record as ``record.context`` (a dict)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the fields; never drops a record."""
        record.context = current_fields()
        return True


_TOKEN_PATTERNS = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}"
    r"|[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,})"
)


class RedactingFilter(logging.Filter):
    """Replaces known secrets and anything shaped like a Slack or Discord token."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_PATTERNS.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets removed."""
        message = record.getMessage()
        cleaned = self._scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._scrub(logging.Formatter().formatException(record.exc_info))
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        context: dict[str, str] = getattr(record, "context", None) or {}
        entry.update((k, v) for k, v in context.items() if k not in entry)
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...`` with the context fields at the end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context: dict[str, str] = getattr(record, "context", None) or {}
        if not context:
            return text
        fields = " ".join(f"{k}={_quote(v)}" for k, v in context.items())
        head, newline, rest = text.partition("\n")  # a traceback stays below the fields
        return f"{head} [{fields}]{newline}{rest}"


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if (" " in value or not value) else value


# Libraries whose INFO lines are either chatter (a line per scheduler run, per file event, per
# pool recycle) or data (SQLAlchemy's engine logs statements with their parameters, message
# texts included): held at WARNING unless DEBUG is asked for. Every other library logs at the
# configured level.
_QUIET_BELOW_DEBUG = (
    "apscheduler",
    "sqlalchemy",
    "aiosqlite",
    "asyncio",
    "watchfiles",
    "alembic",
    "uvicorn.access",
)


class _OverrunFilter(logging.Filter):
    """Drops APScheduler's "skipped: maximum number of running instances reached" warning.

    Each tick runs alone (``max_instances=1``) by design: a dispatch pass that outlasts its
    one-second interval goes on with the next batch itself (``Kernel.dispatch_tick``), so the
    skipped tick costs nothing and the warning said nothing an administrator could act on,
    once a second, for as long as a large fan-out lasted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name.startswith("apscheduler")
            and "maximum number of running instances reached" in str(record.msg)
        )


def configure_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send logs to stderr in ``text`` or ``json`` format, secrets scrubbed, context fields
    added; third-party loggers follow ``level`` (see ``_QUIET_BELOW_DEBUG``)."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(secrets))
    if level.upper() != "DEBUG":
        handler.addFilter(_OverrunFilter())
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _TextFormatter())
    # A library imported later may set its own logger's level (bm25s sets DEBUG when the first
    # FAQ question imports it): the handler holds the configured level whatever they do.
    handler.setLevel(level.upper())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, logger in list(logging.root.manager.loggerDict.items()):
        # Libraries that set their own level at import (uvicorn, discord.py, SQLAlchemy's
        # echo flags) follow ours.
        if isinstance(logger, logging.Logger) and not name.startswith("rallybot"):
            logger.setLevel(logging.NOTSET)
    debug = root.level <= logging.DEBUG
    for name in _QUIET_BELOW_DEBUG:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
