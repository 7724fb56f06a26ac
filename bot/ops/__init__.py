"""Running the bot in production: logging, the locking migration, health checks, ``doctor``.

Operator tools beside the transports: may import storage (migrations, the read-only checks of
``doctor``), seed, core, config and Slack's client. ``ops.logging`` is imported by every layer
above the core, so it imports none of them.
"""
