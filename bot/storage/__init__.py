"""Storage: SQLAlchemy 2 async tables, migrations, seed load/export and database start-up; and
``quickread``, a read-only look at a ready SQLite database with the standard library's sqlite3
(with ``seedrows`` and ``revisions``, which import no SQLAlchemy) for one-shot CLI answers.

May import core, seed and config; never services or a transport. Returns core values or rows.
"""
