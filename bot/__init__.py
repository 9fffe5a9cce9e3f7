"""Rallybot runtime kernel: settings, events, messages, clock, outbox, scheduler and adapters."""

__version__ = "0.1.0"
