"""Storage: SQLAlchemy 2 async tables, migrations, seed load/export and database start-up.

May import core, seed and config; never services or a transport. Returns core values or rows.
"""
