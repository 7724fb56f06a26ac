"""Storage: SQLAlchemy 2 async tables, migrations, seed load/export and database start-up."""
