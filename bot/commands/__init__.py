"""Slash-command text shared by Slack, the console and ``oncall-bot ask``: parse, then answer.

- ``common``: ``UsageError``, Slack mentions, naming a person.
- ``parse``: text to a command value; ``changes``: the ``/oncall override|swap|away|...`` forms.
- ``answer``: a command answered from a snapshot at an explicit instant; ``results``: the answers.
- ``mention``: ``@bot`` mentions as commands.

Pure (no I/O, no clock). May import ``bot.core`` and the ``Snapshot`` value of
``bot.services.snapshot``; never storage or a transport.
"""
