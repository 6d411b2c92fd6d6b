"""Reading a dataclass back from a stored artifact: exactly its fields, nothing defaulted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any


def exact_field_names(cls: type, data: Mapping[str, Any]) -> list[str]:
    """The dataclass's field names, once `data` is known to hold exactly those keys: a stored
    artifact never silently takes a newer default, and no stored key goes unread."""
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    missing = [n for n in names if n not in data]
    if unknown or missing:
        raise ValueError(
            f"{cls.__name__}.from_dict needs exactly the keys {names}; "
            f"missing {missing}, unknown {unknown}."
        )
    return names
