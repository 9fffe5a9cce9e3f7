"""The community console: a web page where community managers see, check and steer campaigns.

- :mod:`.app`: the FastAPI application (:func:`~.app.create_app`), served under ``/console``.
- :mod:`.kit`: what pages use: :class:`~.kit.ConsoleState`, :class:`~.kit.Viewer`,
  :class:`~.kit.Role` and :func:`~.kit.require`, :func:`~.kit.render`, :func:`~.kit.audit`.
- :mod:`.security`: headers, CSRF, body limit, login rate limit; :mod:`.signin` and
  :mod:`.sessions`: signing in and the stored sessions.
- :mod:`.pages`: one module per page; :data:`~.pages.PAGES` orders the navigation.
- :mod:`.service`: what the CLI uses (``rallybot console`` and ``console link``).
"""

from __future__ import annotations

from rallybot.handlers.console.feature import ConsoleFeature

__all__ = ["ConsoleFeature"]
