"""Pages that wake someone (issue 13): contact methods beyond Slack, notification rules, Slack
Do Not Disturb, and acknowledge links.

- ``contacts``: add, list (masked), test, remove, order a person's contact methods (Apprise URLs,
  encrypted at rest with a key from ``ONCALL_SECRET_KEY``), and who has no way to be woken;
- ``planner``: for each open incident's person page, its plan (once; Slack's ``dnd.info`` asked
  for a critical page) and the steps due (``bot.core.paging``), queued in the incident outbox
  as ``notify`` deliveries, each under its own key; renders them when they are sent and tells
  the incident thread;
- ``links``: the acknowledge link of a page (``ONCALL_PUBLIC_URL/ack/TOKEN``): what it shows and
  what its buttons do.

Imports ``bot.core``, ``bot.render``, ``bot.storage`` and ``bot.services.deliveries``;
``bot.services.incidents.outbox`` calls ``planner`` on every delivery pass, and ``links`` calls
the incident actions. Import the modules, not this ``__init__``.
"""
