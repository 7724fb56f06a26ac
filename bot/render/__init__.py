"""Pure rendering of results: Block Kit for Slack, and the same blocks as terminal text.

May import ``bot.core`` and the result values of ``bot.commands``; no I/O, no storage, no services.
"""
