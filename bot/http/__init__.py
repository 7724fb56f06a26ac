"""Machine-facing HTTP: the routes that tools and other programs call (not Slack, not people in
Slack). Alert intake (PagerDuty Events v2, Alertmanager, generic JSON), data-arrival heartbeats,
the read API with its OpenAPI document and the acknowledge links of pages live here, a module
each, registered on the bot's one aiohttp application by :func:`bot.http.routes.add_routes`.

A transport: it parses and renders only, calls ``bot.services`` (never ``bot.storage``), and
answers with JSON. Nothing of a request is parsed, logged or counted before it is authenticated.
"""
