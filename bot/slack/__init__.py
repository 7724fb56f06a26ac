"""The Slack transport: a bolt AsyncApp whose listeners parse and render only."""
