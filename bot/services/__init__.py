"""Load from storage, ask the core, apply: the layer between transports and the pure core.

May import storage, seed, core, commands, render, config and ops.logging; never a transport.
Transports reach the database only through here (``database``: open, migrate, seed in and out;
``records``: read-only listings; ``queries``/``ask``: answers; ``quick``: a one-shot answer's
snapshot without SQLAlchemy when the database allows it; and the modules of each area).
"""
