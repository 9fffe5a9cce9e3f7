"""The Discord platform: renderer, invite link and adapter built on discord.py."""
