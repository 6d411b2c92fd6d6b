"""`Idempotency-Key` on a POST: the same partner, key and body answer the stored response.

A partner may send `Idempotency-Key: <1 to 255 characters>` (anything else answers 422
`invalid_idempotency_key` naming the header). Without the header nothing changes. With it:

- no record for (partner, key): the route does its work and `record` adds the answer to
  the route's own transaction, so the answer, its rows and its audit entry commit together
  or not at all;
- a record with the same body digest: `replay` answers the stored status and body with
  `Idempotent-Replayed: true`, and nothing new is written;
- a record with another body digest: 409 `idempotency_key_reused`.

Concurrent requests with one key: the table is unique on (partner, key), so only one
commit wins; the loser's commit raises IntegrityError and `replay_after_conflict` rolls
its transaction back (its score and audit entry with it) and answers the winner's record,
as a replay or as 409. (On SQLite the store's `BEGIN IMMEDIATE` already serialises the two
requests, so the loser usually finds the record before it scores.)

The body digest (`body_digest`) is `serving.audit.digest` of the body's canonical JSON
with the member given as its keyed hash, never the member number in clear: a plain
SHA-256 over a body whose other fields are guessable is as easy to reverse as a member
number's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from serving.audit import digest
from serving.errors import DomainError
from serving.store.database import table_of
from serving.store.tables import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255  # IdempotencyRecord.key


class InvalidIdempotencyKeyError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_idempotency_key"
    title = "The Idempotency-Key header is not valid"


class IdempotencyKeyReusedError(DomainError):
    status = HTTPStatus.CONFLICT
    code = "idempotency_key_reused"
    title = "The Idempotency-Key was used with another body"


async def idempotency_key(
    key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)] = None,
) -> str | None:
    """The request's `Idempotency-Key`, None when absent; empty or over 255 characters:
    422 naming the header."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKeyError(
            f"header {IDEMPOTENCY_HEADER}: must be 1 to {MAX_KEY_LENGTH} characters "
            f"(got {len(key)}).",
            f"header {IDEMPOTENCY_HEADER}: harus 1 sampai {MAX_KEY_LENGTH} karakter "
            f"(diterima {len(key)}).",
        )
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


@dataclass(frozen=True)
class Claim:
    """A request's claim on a key: whose, which key, and the digest of its body."""

    partner_id: str
    key: str
    body_digest: str


def body_digest(body: dict[str, Any]) -> str:
    """The digest of a request body as canonical JSON (the caller puts the member's keyed
    hash in place of the member number)."""
    return digest(body)


# built once (a select built per call costs more than running it: `serving.store.repo`)
_STORED = select(table_of(IdempotencyRecord)).where(
    IdempotencyRecord.partner_id == bindparam("partner_id"),
    IdempotencyRecord.key == bindparam("key"),
)
_INSERT = insert(table_of(IdempotencyRecord))


def stored(session: Session, claim: Claim) -> IdempotencyRecord | None:
    """The record of the claim's partner and key, if any (read as a row on the session's
    connection, then a detached record: no ORM entity loading on every POST)."""
    params = {"partner_id": claim.partner_id, "key": claim.key}
    row = session.connection().execute(_STORED, params).first()
    return None if row is None else IdempotencyRecord(**row._asdict())


def replay(found: IdempotencyRecord, claim: Claim) -> JSONResponse:
    """The stored answer, marked as a replay; 409 when the body differs."""
    if found.body_digest != claim.body_digest:
        raise IdempotencyKeyReusedError(
            f"This {IDEMPOTENCY_HEADER} was already used with a different request body; "
            "send a new key for a new request.",
            f"{IDEMPOTENCY_HEADER} ini sudah dipakai dengan isi permintaan yang berbeda; "
            "kirim kunci baru untuk permintaan baru.",
        )
    return JSONResponse(
        found.response, status_code=found.status_code, headers={REPLAYED_HEADER: "true"}
    )


def record(session: Session, claim: Claim, status_code: int, response: dict[str, Any]) -> None:
    """Add the answer to the session's transaction (the caller commits). The row is
    inserted at once (a Core statement, no ORM object to flush), so a key another request
    holds raises IntegrityError here, inside the callers' `try` (on PostgreSQL after
    waiting for that request's transaction to end)."""
    session.connection().execute(*record_insert(claim, status_code, response))


def record_insert(
    claim: Claim, status_code: int, response: dict[str, Any]
) -> tuple[Insert, dict[str, Any]]:
    """The insert of `record` as a statement and its row, for a write that another
    transaction commits (`serving.group_commit`); a key another request holds raises
    IntegrityError there."""
    return _INSERT, {
        "partner_id": claim.partner_id, "key": claim.key, "body_digest": claim.body_digest,
        "status_code": status_code, "response": response, "created_at": datetime.now(UTC),
    }  # fmt: skip


def replay_after_conflict(session: Session, claim: Claim, error: IntegrityError) -> JSONResponse:
    """After a commit failed on IntegrityError: roll back, then answer the record another
    request committed with this key (replay or 409); no such record: `error` again."""
    session.rollback()
    found = stored(session, claim)
    if found is None:
        raise error
    return replay(found, claim)
