"""Alembic migrations of the tenancy database (run by :func:`..database.migrate`; see docs/studio.md)."""
