"""``python -m bot`` runs the ``rallybot`` command line."""

from bot.cli import main

main()
