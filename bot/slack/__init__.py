"""The Slack transport: a bolt AsyncApp whose listeners parse and render only.

- ``app``: builds the app and registers the listener modules; ``context``: ``BotContext`` they share.
- Listeners by area: ``commands``, ``home``, ``incidents``, ``scheduled``, ``changes``; ``errors``.
- ``server``: HTTP and Socket Mode; ``client``, ``deps``, ``memo``, ``metrics``.

May import services, commands, render, core, config, ops and jobs; never storage.
"""
