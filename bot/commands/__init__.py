"""Slash-command text shared by Slack, the console and ``oncall-bot ask``: parse, then answer."""
