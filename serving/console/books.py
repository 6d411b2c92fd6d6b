"""Each cooperative's book, read once and kept: the console's pages must answer in tens of
milliseconds, and reading a cooperative's ledger partition takes longer than that.

The ledger is `AMANAH_LEDGER_DIR`, else the ledger the current profiles were built from
(recorded in the features folder's `features.json`). A rebuilt or re-imported ledger (its
manifest replaced) is noticed on the next page and read again. Loan positions (days past
due, kolektibilitas, outstanding) are computed once per book with the one definition of
late (`features.book`, over `features.repayment_status`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.book import CooperativeBook, load_book, loan_positions, member_number
from features.ledger.store import MANIFEST, Ledger, LedgerNotFoundError
from serving.config import ApiSettings, features_dir
from serving.security import member_ref_from_number

__all__ = ["BookCache", "LoadedBook", "ledger_dir"]


def ledger_dir(settings: ApiSettings) -> Path | None:
    """The console's ledger folder (see the module docstring), or None when none is known."""
    if settings.ledger_dir is not None:
        return settings.ledger_dir
    manifest = features_dir(settings) / "features.json"
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = recorded.get("ledger") if isinstance(recorded, dict) else None
    return Path(found) if isinstance(found, str) else None


@dataclass(frozen=True)
class LoadedBook:
    book: CooperativeBook
    positions: pd.DataFrame
    # the keyed hash of each member (as the store keeps her) -> member id
    member_of_ref: dict[str, str]
    ref_of_member: dict[str, str]


@dataclass
class BookCache:
    root: Path | None
    key: bytes | None
    _books: dict[str, tuple[float, LoadedBook]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, cooperative_id: str) -> LoadedBook | None:
        """The cooperative's book, or None without a ledger or without this cooperative."""
        if self.root is None:
            return None
        try:
            stamp = (self.root / MANIFEST).stat().st_mtime
        except OSError:
            return None
        with self._lock:
            held = self._books.get(cooperative_id)
            if held is not None and held[0] == stamp:
                return held[1]
            try:
                Ledger(self.root)
                book = load_book(self.root, cooperative_id)
            except (KeyError, LedgerNotFoundError, FileNotFoundError):
                return None
            refs = self._refs(book)
            loaded = LoadedBook(book, loan_positions(book), refs, {m: r for r, m in refs.items()})
            self._books[cooperative_id] = (stamp, loaded)
            return loaded

    def _refs(self, book: CooperativeBook) -> dict[str, str]:
        if self.key is None:
            return {}
        coop = book.cooperative_id
        return {
            member_ref_from_number(coop, member_number(m, coop), self.key).ref: m
            for m in book.members["member_id"].astype("str")
        }
