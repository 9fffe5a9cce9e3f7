"""``python -m rallybot.bot`` runs the ``rallybot`` command line."""

from rallybot.bot.cli import main

main()
