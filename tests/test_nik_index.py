"""The NIK index of a features build (`members_by_nik` in profiles.sqlite) and the member
resolver on top of it (`serving.members.resolve_member`).

The generator keeps no NIK in clear (`features.generator.ids.make_nik_hashes` hashes
them at once), so a copy of the small ledger is given NIKs this test knows: one member
gets a NIK of its own, two members of one cooperative share one, and two members of two
cooperatives share another (one person in two cooperatives)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from features.identity import keyed_hash
from features.ledger.store import Ledger, write_partition
from features.pipeline import build_features, write_index
from features.profile_store import INDEX, MANIFEST, ProfileStore
from serving.members import UnknownMemberError, resolve_member
from serving.schemas import MemberByNik, MemberByNumber
from serving.security import MemberRefError, member_ref_from_nik, member_ref_from_number
from tests.conftest import PII_KEY

NIK = "6471015203880042"  # as the generator forms them: 6471, region, birth day+40, serial
SHARED_IN_COOP = "6471020101900007"
SHARED_ACROSS = "6471030202850011"


def _hash(nik: str) -> str:
    return keyed_hash(nik, PII_KEY)


def _set_nik_hashes(ledger_dir: Path, coop: str, hashes: dict[int, str]) -> list[str]:
    """Give members (by position) of `coop` these NIK hashes; their member ids."""
    members = Ledger(ledger_dir).read("members", coop)
    for position, nik_hash in hashes.items():
        members.loc[position, "nik_hash"] = nik_hash
    write_partition(ledger_dir, "members", coop, members)
    return [str(members.loc[p, "member_id"]) for p in hashes]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, small_ledger: Path) -> dict[str, object]:
    """A built copy of the small ledger with known NIKs planted in it."""
    root = tmp_path_factory.mktemp("nik")
    ledger_dir = root / "ledger"
    shutil.copytree(small_ledger, ledger_dir)
    first, second = Ledger(ledger_dir).cooperative_ids()[:2]
    own, in_a, in_b, across_a = _set_nik_hashes(
        ledger_dir, first,
        {0: _hash(NIK), 1: _hash(SHARED_IN_COOP), 2: _hash(SHARED_IN_COOP),
         3: _hash(SHARED_ACROSS)},
    )  # fmt: skip
    (across_b,) = _set_nik_hashes(ledger_dir, second, {5: _hash(SHARED_ACROSS)})
    out = root / "features"
    report = build_features(ledger_dir, out, workers=1)
    assert report.failed == {}
    return {
        "ledger": ledger_dir, "out": out, "own": own, "shared": [in_a, in_b, across_a, across_b],
        "report": report,
    }  # fmt: skip


def _ledger_members(planted: dict[str, object]) -> pd.DataFrame:
    return Ledger(Path(str(planted["ledger"]))).read("members", columns=["member_id", "nik_hash"])


def test_build_indexes_every_unique_nik_hash_and_counts_the_shared_ones(
    planted: dict[str, object],
) -> None:
    members = _ledger_members(planted)
    holders = members.groupby("nik_hash")["member_id"].nunique()
    store = ProfileStore(Path(str(planted["out"])))
    for member_id, nik_hash in zip(members["member_id"], members["nik_hash"], strict=True):
        expected = member_id if holders[nik_hash] == 1 else None
        assert store.member_by_nik_hash(nik_hash) == expected, member_id
    manifest = json.loads((Path(str(planted["out"])) / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["nik_index"] == {
        "niks": int((holders == 1).sum()),
        "duplicate_niks": int((holders > 1).sum()),
        "members_left_out": int(holders[holders > 1].sum()),
    }
    # the two planted shared NIKs at least, four members between them
    assert manifest["nik_index"]["duplicate_niks"] >= 2
    assert manifest["nik_index"]["members_left_out"] >= 4
    assert manifest["nik_index"]["niks"] >= len(members) - manifest["nik_index"]["members_left_out"]


def test_the_hash_the_api_computes_from_a_nik_finds_the_member(
    planted: dict[str, object],
) -> None:
    store = ProfileStore(Path(str(planted["out"])))
    for typed in (NIK, "6471 0152 0388 0042", "6471.0152.0388.0042", "6471-015203-880042"):
        assert store.member_by_nik_hash(member_ref_from_nik(typed, PII_KEY).ref) == planted["own"]
    assert store.member_by_nik_hash(member_ref_from_nik(SHARED_IN_COOP, PII_KEY).ref) is None
    assert store.member_by_nik_hash(member_ref_from_nik(SHARED_ACROSS, PII_KEY).ref) is None
    # another key gives another hash: the index is of no use without the PII key
    assert store.member_by_nik_hash(member_ref_from_nik(NIK, b"another-key").ref) is None


def test_an_index_without_the_nik_table_answers_none(
    planted: dict[str, object], tmp_path: Path
) -> None:
    older = tmp_path / "older"
    shutil.copytree(Path(str(planted["out"])), older)
    db = sqlite3.connect(older / INDEX)
    db.execute("DROP TABLE members_by_nik")
    db.commit()
    db.close()
    store = ProfileStore(older)
    assert store.member_by_nik_hash(_hash(NIK)) is None
    assert store.fetch(str(planted["own"])) is not None  # the rest still works
    # and an index written without a ledger has no NIK table either
    counts = write_index(older)
    assert counts.niks == 0 and counts.profiles == len(store.members())
    assert ProfileStore(older).member_by_nik_hash(_hash(NIK)) is None


def test_a_nik_and_a_member_number_resolve_to_one_member(planted: dict[str, object]) -> None:
    store = ProfileStore(Path(str(planted["out"])))
    own = str(planted["own"])
    coop = str(store.cooperative_of(own))
    number = own.removeprefix(f"{coop}-")
    by_nik = resolve_member(MemberByNik(nik=NIK), PII_KEY, store)
    by_number = resolve_member(MemberByNumber(cooperative_id=coop, member_number=number), PII_KEY,
                               store)  # fmt: skip
    by_id = resolve_member(MemberByNumber(cooperative_id=coop, member_number=own), PII_KEY, store)
    assert by_nik == by_number == by_id
    assert by_nik.member_id == own and by_nik.cooperative_id == coop
    assert by_nik.member_ref == member_ref_from_number(coop, number, PII_KEY).ref
    assert by_nik.member_ref != member_ref_from_nik(NIK, PII_KEY).ref


def test_members_the_profiles_do_not_know_are_unknown(planted: dict[str, object]) -> None:
    store = ProfileStore(Path(str(planted["out"])))
    for nik in ("6471019999990001", SHARED_IN_COOP, SHARED_ACROSS):
        with pytest.raises(UnknownMemberError) as caught:
            resolve_member(MemberByNik(nik=nik), PII_KEY, store)
        assert nik not in str(caught.value)
    coop = str(store.cooperative_of(str(planted["own"])))
    with pytest.raises(UnknownMemberError):
        resolve_member(MemberByNumber(cooperative_id=coop, member_number="A99999"), PII_KEY, store)
    # a whole member id of one cooperative sent under another names nobody
    other = next(c for c in Ledger(Path(str(planted["ledger"]))).cooperative_ids() if c != coop)
    with pytest.raises(UnknownMemberError):
        resolve_member(
            MemberByNumber(cooperative_id=other, member_number=str(planted["own"])), PII_KEY, store
        )
    with pytest.raises(MemberRefError) as malformed:
        resolve_member(MemberByNik(nik="6471-0152-0388-00xx"), PII_KEY, store)
    assert malformed.value.field == "nik"
