"""The demo's way in to its own API: a partner, a key, grants and a few consents.

`amanah demo` ends by serving the scoring API on the embedded store. A person trying it
needs what a real partner gets from an administrator: a partner, an API key (shown once),
grants for the demo's cooperatives and a member who consented. `open_demo_access` creates
them in the caller's transaction, each audited like the `amanah partners` / `keys`
commands would; running the demo again reuses the partner and makes a new key.

The PII key. Member references are keyed hashes, so the server needs `AMANAH_PII_KEY`. When
it is not set the demo keeps its own development key in ``data/demo-secrets/pii.key``
(git-ignored, readable by its owner only), made once and reused so the ledger's NIK hashes
and the consents stay valid from one run to the next; a real deployment sets the variable.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from features.profile_store import ProfileStore
from serving.security import Scope, member_ref_from_number
from serving.store import repo
from serving.store.tables import Partner

DEMO_PARTNER = "Mitra Demo"
DEMO_ACTOR = "amanah-demo"
DEMO_PURPOSE = "credit_scoring"
CONSENT_DAYS = 30
CONSENTS_PER_COOPERATIVE = 3
DEMO_KEY_FILE = Path("data") / "demo-secrets" / "pii.key"  # under the project's folder


@dataclass(frozen=True)
class DemoAccess:
    """What the demo prints: the key (once), where it may score, one consented member."""

    partner_id: str
    api_key: str
    cooperatives: int
    consents: int
    cooperative_id: str
    member_number: str


def demo_pii_key(root: Path) -> bytes:
    """The demo's development PII key under `root`, made (mode 0600) on first use."""
    path = root / DEMO_KEY_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key.encode("utf-8")


def _demo_partner(session: Session, at: datetime) -> Partner:
    found = session.scalar(select(Partner).where(Partner.name == DEMO_PARTNER))
    return (
        found
        if found is not None
        else repo.add_partner(session, DEMO_PARTNER, actor=DEMO_ACTOR, at=at)
    )


def open_demo_access(
    session: Session,
    profiles: ProfileStore,
    pii_key: bytes,
    *,
    at: datetime | None = None,
    per_cooperative: int = CONSENTS_PER_COOPERATIVE,
) -> DemoAccess:
    """The demo partner with a new all-scopes key, a grant for every cooperative of
    `profiles`, and a consent for the first `per_cooperative` members of each for
    `CONSENT_DAYS` days. Adds to the session; the caller commits. Raises LookupError when
    `profiles` holds no member."""
    when = at if at is not None else datetime.now(UTC)
    members = profiles.members()
    if not members:
        raise LookupError(f"{profiles.root} holds no member profile to consent for")
    partner = _demo_partner(session, when)
    _row, api_key = repo.create_key(session, partner, list(Scope), actor=DEMO_ACTOR, at=when)
    by_coop: dict[str, list[str]] = {}
    for member_id in members:
        coop, _, number = member_id.rpartition("-")
        by_coop.setdefault(coop, []).append(number)
    consents = 0
    for coop, numbers in sorted(by_coop.items()):
        repo.grant(session, partner, coop, actor=DEMO_ACTOR, at=when)
        for number in numbers[:per_cooperative]:
            ref = member_ref_from_number(coop, number, pii_key).ref
            repo.give_consent(
                session, partner, ref, coop, DEMO_PURPOSE, when + timedelta(days=CONSENT_DAYS),
                actor=DEMO_ACTOR, at=when,
            )  # fmt: skip
            consents += 1
    first_coop = sorted(by_coop)[0]
    return DemoAccess(
        partner.id, api_key, len(by_coop), consents, first_coop, by_coop[first_coop][0]
    )


def curl_line(base_url: str, access: DemoAccess) -> str:
    """A ready `curl` scoring the demo's first consented member."""
    body = json.dumps(
        {
            "member": {"cooperative_id": access.cooperative_id,
                       "member_number": access.member_number},
            "loan": {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"},
        },
        ensure_ascii=False,
    )  # fmt: skip
    return " ".join(
        [
            "curl -s -X POST",
            shlex.quote(f"{base_url.rstrip('/')}/v1/scores"),
            "-H",
            shlex.quote(f"Authorization: Bearer {access.api_key}"),
            "-H 'Content-Type: application/json'",
            "-d",
            shlex.quote(body),
        ]
    )


DEMO_OFFICERS = (
    ("petugas", "Petugas Demo", "officer"),
    ("pengawas", "Pengawas Demo", "supervisor"),
)


def open_demo_officers(
    session: Session, cooperative_id: str, at: datetime | None = None
) -> list[tuple[str, str, str]]:
    """A demo officer and a demo supervisor of `cooperative_id` with new passwords, as
    (username, role, password) to print once; a second demo run gives them new passwords
    and lifts any lock-out. Committed."""
    from serving.officers import add_officer, hash_password
    from serving.store.tables import Officer

    made = []
    for username, name, role in DEMO_OFFICERS:
        password = secrets.token_urlsafe(12)
        found = session.scalars(select(Officer).where(Officer.username == username)).first()
        if found is None:
            add_officer(
                session, cooperative_id=cooperative_id, username=username, display_name=name,
                password=password, role=role, actor="amanah demo", at=at,
            )  # fmt: skip
        else:
            found.password_hash = hash_password(password)
            found.cooperative_id, found.role = cooperative_id, role
            found.failed_logins, found.locked_until, found.disabled_at = 0, None, None
        made.append((username, role, password))
    session.commit()
    return made
