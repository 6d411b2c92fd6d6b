"""The store behind the API and the console: partners, keys, grants, consents,
applications, scores, decisions, idempotency records and the audit chain (`tables`), and
how to reach and migrate it (`database`); partners, keys, grants and consents on a session
(`repo`)."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from serving.store.database import (
    StoreError,
    current_revision,
    database_url,
    make_engine,
    sessions,
    upgrade,
)

if TYPE_CHECKING:
    from serving.store.repo import (
        NotFoundError,
        Principal,
        RepoValueError,
        UnknownConsentError,
        UnknownKeyError,
        UnknownPartnerError,
        active_consent,
        add_partner,
        authenticate,
        create_key,
        get_consent,
        get_partner,
        give_consent,
        grant,
        is_granted,
        list_keys,
        revoke_consent,
        revoke_key,
    )

# `repo` appends audit entries and `serving.audit` imports this package's `database`, so
# repo's names are loaded on first use (PEP 562) rather than here: either module can then
# be imported first
_REPO_NAMES = frozenset(
    {
        "NotFoundError",
        "Principal",
        "RepoValueError",
        "UnknownConsentError",
        "UnknownKeyError",
        "UnknownPartnerError",
        "active_consent",
        "add_partner",
        "authenticate",
        "create_key",
        "get_consent",
        "get_partner",
        "give_consent",
        "grant",
        "is_granted",
        "list_keys",
        "revoke_consent",
        "revoke_key",
    }
)


def __getattr__(name: str) -> Any:
    if name in _REPO_NAMES:
        return getattr(import_module("serving.store.repo"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "NotFoundError",
    "Principal",
    "RepoValueError",
    "StoreError",
    "UnknownConsentError",
    "UnknownKeyError",
    "UnknownPartnerError",
    "active_consent",
    "add_partner",
    "authenticate",
    "create_key",
    "current_revision",
    "database_url",
    "get_consent",
    "get_partner",
    "give_consent",
    "grant",
    "is_granted",
    "list_keys",
    "make_engine",
    "revoke_consent",
    "revoke_key",
    "sessions",
    "upgrade",
]
