"""Slack: adapter on slack-bolt, Block Kit renderer, rate limits, profiles and app manifest."""
