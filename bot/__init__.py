"""The on-call bot for data teams.

Layers, each importing only those before it: ``core`` (pure) <- ``seed`` / ``storage`` <-
``services`` (with ``commands`` and ``render``, pure helpers of the answers) <- transports (``slack``,
``cli``, ``console``) and ``jobs``; ``ops`` serves all of them. ``scripts/check_architecture.py``
checks that there is no import cycle, no module over 500 lines, and the layers.
"""
