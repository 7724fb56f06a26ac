"""The pure on-call engine: no I/O, no clock reads, frozen values, explicit aware instants.

- ``model``: the seed's data as frozen values; ``answer``: engine results.
- ``calendar``: ``CompanyCalendar`` (zone, holidays, day types, business days, local instants).
- ``rotation``: week numbers, slot holders, overrides, handoffs.
- ``coverage``: ``oncall_at`` and ``schedule`` for a pipeline.
- ``escalation``: ``escalation_chain``.
- ``search``: ``find_pipeline``, ``find_owners``, ``match_issues``.

Imports only ``bot.core``, the standard library and pure libraries (holidays, icalendar). Import from the
modules; this package imports nothing so that loading the model stays cheap.
"""
