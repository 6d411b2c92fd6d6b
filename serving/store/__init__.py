"""The store behind the API and the console: partners, keys, grants, consents,
applications, scores, decisions, idempotency records and the audit chain (`tables`), and
how to reach and migrate it (`database`)."""

from serving.store.database import (
    StoreError,
    current_revision,
    database_url,
    make_engine,
    sessions,
    upgrade,
)

__all__ = [
    "StoreError",
    "current_revision",
    "database_url",
    "make_engine",
    "sessions",
    "upgrade",
]
