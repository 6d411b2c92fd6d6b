"""The fast serving lookups: `ProfileStore.fetch` from its caches and the plain-Python
`application_record`, each held equal to the direct computation it replaces."""

from __future__ import annotations

import json
import math
import random
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.application import (
    PROFILE_INPUTS,
    SALES_INDEX_COLUMNS,
    LoanRequest,
    LoanRequestError,
    _check_order,
    _number,
    _plain,
    _profile_date,
    application_record,
    declared_inputs,
    request_features,
)
from features.ledger.contracts import MAX_RUPIAH
from features.ledger.enums import LoanProduct, LoanPurpose
from features.pipeline import build_features, write_index
from features.profile_store import INDEX, MANIFEST, PROFILES, ProfileStore

AS_OF = pd.Timestamp("2025-07-01")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, small_ledger: Path) -> Path:
    out = tmp_path_factory.mktemp("fast-store") / "out"
    assert build_features(small_ledger, out, AS_OF, workers=1).failed == {}
    return out


def _direct(root: Path, member_id: str) -> dict[str, Any] | None:
    """The row as read straight from its partition (the store's former algorithm)."""
    db = sqlite3.connect(root / INDEX)
    try:
        found = db.execute(
            "SELECT cooperative_id, row FROM profiles WHERE member_id = ?", (member_id,)
        ).fetchone()
    finally:
        db.close()
    if found is None:
        return None
    coop, row = found
    record = pq.read_table(root / PROFILES / f"{coop}.parquet").slice(row, 1).to_pylist()[0]
    record["as_of"] = str(pd.Timestamp(record["as_of"]).date())
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}


def _same(got: dict[str, Any] | None, want: dict[str, Any] | None) -> None:
    """Same keys in the same order, same values of the same types (NaN equal to NaN)."""
    assert (got is None) == (want is None)
    if got is None or want is None:
        return
    assert list(got) == list(want)
    for key, value in want.items():
        assert type(got[key]) is type(value), key
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == value, key


def test_fetch_equals_a_direct_read_of_the_row_in_every_cooperative(built: Path) -> None:
    store = ProfileStore(built)
    members = store.members()
    coops = {store.cooperative_of(m) for m in members}
    assert len(coops) == 3 and len(members) == 180
    for member_id in members:
        got = store.fetch(member_id)
        _same(got, _direct(built, member_id))
        assert got is not None and got["member_id"] == member_id
        assert got["as_of"] == "2025-07-01"
    # a value missing in the file is None, never NaN
    assert any(v is None for v in (store.fetch(members[0]) or {}).values())


def test_an_unknown_member_has_no_profile(built: Path) -> None:
    store = ProfileStore(built)
    assert store.fetch("no-such-member") is None
    assert store.cooperative_of("no-such-member") is None
    assert store.profiles(["no-such-member"]).columns.tolist() == ["member_id"]


def test_threads_fetching_at_once_get_their_own_rows(built: Path) -> None:
    store = ProfileStore(built)  # cold: the threads race to fill the caches
    members = store.members()
    want = {m: _direct(built, m) for m in members}

    def work(seed: int) -> int:
        rnd = random.Random(seed)
        for _ in range(300):
            member_id = rnd.choice(members)
            assert store.fetch(member_id) == want[member_id]
            assert store.cooperative_of(member_id) == member_id.rpartition("-")[0]
        assert store.members() == members  # each thread's own index connection
        return seed

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(work, range(8))) == list(range(8))


def test_a_rebuild_of_the_folder_is_noticed_without_a_restart(
    built: Path, small_ledger: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    store = ProfileStore(out)
    member_id = store.members("KMP-0003")[5]
    before = store.fetch(member_id)
    assert before is not None and store.as_of == date(2025, 7, 1)
    earlier = pd.Timestamp("2025-03-01")
    assert build_features(small_ledger, out, earlier, workers=1).failed == {}
    after = store.fetch(member_id)  # the same store, caches dropped
    _same(after, _direct(out, member_id))
    assert after is not None and after["as_of"] == "2025-03-01"
    assert after["membership_months"] < before["membership_months"]
    assert store.as_of == date(2025, 3, 1) and store.manifest["profiles_as_of"] == "2025-03-01"


def test_a_store_that_rechecks_every_interval_serves_a_rebuild_after_it(
    built: Path, small_ledger: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    store = ProfileStore(out, recheck_seconds=0.5)
    assert store.as_of == date(2025, 7, 1)
    assert build_features(small_ledger, out, pd.Timestamp("2025-03-01"), workers=1).failed == {}
    time.sleep(0.6)  # past the interval, however long the build took
    assert store.as_of == date(2025, 3, 1) and store.manifest["profiles_as_of"] == "2025-03-01"


def test_a_rewritten_index_is_read_again_by_each_thread(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    db = sqlite3.connect(out / INDEX)
    nik_hash, member_id = db.execute("SELECT nik_hash, member_id FROM members_by_nik").fetchone()
    db.close()
    store = ProfileStore(out)
    assert store.member_by_nik_hash(nik_hash) == member_id
    write_index(out)  # without the ledger: no NIK table any more
    assert store.member_by_nik_hash(nik_hash) is None
    assert store.fetch(member_id) == _direct(out, member_id)


def test_a_manifest_rewritten_in_place_is_noticed(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    store = ProfileStore(out)
    assert store.as_of == date(2025, 7, 1)
    manifest = out / MANIFEST
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**recorded, "profiles_as_of": "2025-06-30"}), encoding="utf-8")
    assert store.as_of == date(2025, 6, 30)


# ----------------------------------------------------------------------------- one record
def _record_vectorised(profile: dict[str, Any], request: LoanRequest) -> dict[str, Any]:
    """The former `application_record`: the vectorised functions on one row."""
    missing = [c for c in PROFILE_INPUTS if c not in profile]
    if missing:
        raise LoanRequestError(f"profile: missing {', '.join(missing)} (not a member profile?)")
    _check_order(request.application_date, _profile_date(profile.get("as_of")))
    one = {c: np.array([_number(profile[c])]) for c in PROFILE_INPUTS}
    # the sector's sales index, where the profile holds it
    one.update({c: np.array([_number(profile[c])]) for c in SALES_INDEX_COLUMNS if c in profile})
    features = request_features(
        one,
        [request.amount],
        [request.tenor_months],
        [request.flat_monthly_rate],
        [request.purpose],
        [request.product],
        np.array([request.application_date], dtype="datetime64[D]"),
    )
    declared = declared_inputs(
        [request.declared_monthly_income],
        [request.declared_household_expenses],
        [request.income_verified],
    )
    record = dict(profile)
    for name, values in (*features.items(), *declared.items()):
        record[name] = _plain(values[0])
    return record


_figures = st.one_of(
    st.none(),
    st.just(0.0),
    st.just(math.nan),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e9),
    st.floats(min_value=1e-300, max_value=1e-3),
    st.integers(min_value=0, max_value=10**12).map(float),
)
_amounts = st.one_of(
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=1, max_value=10**300),
    st.integers(min_value=1, max_value=5),
)
_rates = st.one_of(st.just(0.0), st.floats(min_value=0, max_value=0.10), st.just(0.10))
_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=400, deadline=None)
@given(
    inputs=st.tuples(_figures, _figures, _figures),
    amount=_amounts,
    tenor=st.integers(min_value=1, max_value=60),
    rate=_rates,
    purpose=st.sampled_from(LoanPurpose.values()),
    product=st.sampled_from(LoanProduct.values()),
    applied=_days,
    as_of_days_before=st.one_of(st.none(), st.integers(min_value=-40, max_value=4000)),
    as_of_kind=st.sampled_from(["text", "date", "timestamp"]),
    income=st.one_of(st.none(), st.integers(min_value=1, max_value=MAX_RUPIAH)),
    expenses=st.one_of(st.none(), st.just(0), st.integers(min_value=0, max_value=MAX_RUPIAH)),
    verified=st.sampled_from([None, True, False]),
    index=st.one_of(st.none(), st.lists(_figures, min_size=12, max_size=12)),
)
def test_the_plain_record_equals_the_vectorised_one(
    inputs: tuple[float | None, float | None, float | None],
    amount: int,
    tenor: int,
    rate: float,
    purpose: str,
    product: str,
    applied: date,
    as_of_days_before: int | None,
    as_of_kind: str,
    income: int | None,
    expenses: int | None,
    verified: bool | None,
    index: list[float | None] | None,
) -> None:
    as_of: object = None
    if as_of_days_before is not None:
        day = applied - timedelta(days=as_of_days_before)
        as_of = {"text": day.isoformat(), "date": day, "timestamp": pd.Timestamp(day)}[as_of_kind]
    profile: dict[str, Any] = {"member_id": "KMP-0001-00001", "as_of": as_of}
    profile.update(zip(PROFILE_INPUTS, inputs, strict=True))
    profile["application_month"] = None  # as a fetched profile holds it
    if index is not None:  # else a profile without the sector's index
        profile.update(zip(SALES_INDEX_COLUMNS, index, strict=True))
    request = LoanRequest(
        amount=amount,
        tenor_months=tenor,
        purpose=purpose,
        product=product,
        flat_monthly_rate=rate,
        application_date=applied,
        declared_monthly_income=income,
        declared_household_expenses=expenses,
        income_verified=verified,
    )
    try:
        with np.errstate(over="ignore"):  # huge amounts over tiny incomes: inf, capped
            want = _record_vectorised(profile, request)
    except LoanRequestError as exc:
        with pytest.raises(LoanRequestError) as plain:
            application_record(profile, request)
        assert str(plain.value) == str(exc)
        return
    _same(application_record(profile, request), want)


def test_a_fetched_profile_gives_the_same_record_both_ways(built: Path) -> None:
    store = ProfileStore(built)
    request = LoanRequest(
        amount=5_000_000,
        tenor_months=12,
        purpose="modal usaha",
        flat_monthly_rate=0.015,
        application_date=date(2025, 7, 15),
        declared_monthly_income=4_000_000,
        income_verified=True,
    )
    for member_id in store.members()[::7]:
        profile = store.fetch(member_id)
        assert profile is not None
        record = application_record(profile, request)
        _same(record, _record_vectorised(profile, request))
        assert record["application_month"] == "7" and record["income_verified"] == 1.0
        assert record["declared_household_expenses"] is None
