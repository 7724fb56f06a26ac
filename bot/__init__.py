"""The on-call bot for data teams."""
