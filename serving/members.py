"""Who a partner means: a member named by number or by NIK, resolved to one member.

The profile store is keyed by the ledger's member id, which the ledger forms as
`<cooperative_id>-<number>` ("KMP-0026" and "A00006" give "KMP-0026-A00006"). A partner
sends the cooperative and the number within it; the whole member id is accepted as the
number too and cut to the number (`member_id_of`), so both spellings give one member.

Whichever way a member is named, the answer carries one canonical `member_ref`: the keyed
hash of the cooperative and the member number (`serving.security.member_ref_from_number`).
A NIK is hashed with the same key as the ledger's `nik_hash`, looked up in the profile
store's NIK index to find the member id, and then given the member number's hash: one
consent covers both spellings. Neither the NIK nor its hash goes further than this module.

A member the profile store does not know (an unknown number, a NIK the index does not
hold, a NIK several members share) raises `UnknownMemberError`; the routes answer it as
the same 404 as any other member out of reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from features.profile_store import ProfileStore
from serving.schemas import MemberByNik, MemberByNumber
from serving.security import member_ref_from_nik, member_ref_from_number


class UnknownMemberError(LookupError):
    """No member with a profile matches the reference. The message never repeats it."""


@dataclass(frozen=True)
class ResolvedMember:
    """A member the profile store knows: its profile key, canonical keyed hash and
    cooperative."""

    member_id: str
    member_ref: str
    cooperative_id: str


def member_id_of(cooperative_id: str, member_number: str) -> tuple[str, str]:
    """(member id, member number) for a cooperative's member number or whole member id,
    both stripped: ("KMP-0026", "A00006") and ("KMP-0026", "KMP-0026-A00006") both give
    ("KMP-0026-A00006", "A00006")."""
    coop, number = cooperative_id.strip(), member_number.strip()
    number = number.removeprefix(f"{coop}-")
    return f"{coop}-{number}", number


def resolve_member(
    member: MemberByNumber | MemberByNik, key: bytes, profiles: ProfileStore
) -> ResolvedMember:
    """The member `member` names. Raises MemberRefError (from `serving.security`, naming
    the field) for a malformed reference and UnknownMemberError for a member the profile
    store does not know."""
    if isinstance(member, MemberByNik):
        nik_hash = member_ref_from_nik(member.nik, key).ref
        member_id = profiles.member_by_nik_hash(nik_hash)
        coop = profiles.cooperative_of(member_id) if member_id is not None else None
        if member_id is None or coop is None:
            raise UnknownMemberError("no member with a profile has this NIK")
        number = member_id.removeprefix(f"{coop}-")
        ref = member_ref_from_number(coop, number, key)
        return ResolvedMember(member_id, ref.ref, coop)
    member_id, number = member_id_of(member.cooperative_id, member.member_number)
    # the number as cut from a whole member id is hashed, so both spellings agree
    ref = member_ref_from_number(member.cooperative_id, number, key)
    coop = str(ref.cooperative_id)
    if profiles.cooperative_of(member_id) != coop:
        raise UnknownMemberError("no member with a profile has this member number")
    return ResolvedMember(member_id, ref.ref, coop)
