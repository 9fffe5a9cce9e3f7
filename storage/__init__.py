"""Persistence: SQLModel tables, the engine for SQLite or PostgreSQL, repositories, migrations."""
