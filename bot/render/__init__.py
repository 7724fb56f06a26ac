"""Pure rendering of results: Block Kit for Slack, and the same blocks as terminal text."""
