"""The fast profile builder against the slow record-by-record reference (docs/features.md).

* On a small generated ledger, every application and every member's current profile (as of
  a date inside the history and one after it) equals the reference on every feature.
* Point in time: changing events dated on or after T (delete, move to other dates >= T, add)
  never changes the profile as of T; changing one dated before T does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.generator.run import GeneratorConfig, generate_ledger
from features.ledger.contracts import TABLE_ORDER, validate
from features.ledger.store import Ledger
from features.profile_builder import ProfileRequests, RepaymentProfileBuilder
from tests.conftest import PII_KEY, TODAY
from tests.reference_profiles import ReferenceLedger, compare_profiles, reference_profile

Tables = dict[str, pd.DataFrame]
EVENT_TABLES = ("savings", "store_purchases", "produce_sales", "repayments")
ID_COLUMN = {
    "savings": "transaction_id",
    "store_purchases": "purchase_id",
    "produce_sales": "sale_id",
    "repayments": "repayment_id",
}


def _tables(root: Path, cooperative_id: str) -> Tables:
    part = Ledger(root).partition(cooperative_id)
    return {name: part.table(name) for name in TABLE_ORDER}


def _requests(member_ids: list[str], as_of: list[pd.Timestamp]) -> ProfileRequests:
    """Current-profile style requests (no application terms) for (member, as_of) pairs."""
    n = len(member_ids)
    frame = pd.DataFrame(
        {
            "request_id": [f"R{i:05d}" for i in range(n)],
            "member_id": member_ids,
            "as_of": pd.Series(as_of, dtype="datetime64[ms]"),
            "principal": np.nan,
            "tenor_months": np.nan,
            "flat_monthly_rate": np.nan,
            "purpose": pd.Series(None, index=range(n), dtype="str"),
            "product": pd.Series(None, index=range(n), dtype="str"),
        }
    )
    return ProfileRequests(frame)


def _fast_profile(tables: Tables, member_id: str, as_of: pd.Timestamp) -> dict[str, object]:
    out = RepaymentProfileBuilder().fit(tables).transform(_requests([member_id], [as_of]))
    return out.iloc[0].to_dict()


def _mismatches(
    builder: RepaymentProfileBuilder, ref: ReferenceLedger, requests: ProfileRequests
) -> list[str]:
    """Every feature of every request where the fast builder and the reference differ."""
    out = builder.transform(requests)
    terms = requests.frame
    problems = []
    for i, row in enumerate(out.to_dict("records")):
        r = terms.iloc[i]
        expected = reference_profile(
            ref,
            row["member_id"],
            row["as_of"],
            principal=r["principal"],
            tenor=r["tenor_months"],
            rate=r["flat_monthly_rate"],
            purpose=r["purpose"],
            product=r["product"],
        )
        for problem in compare_profiles(row, expected):
            problems.append(
                f"{row['request_id']} {row['member_id']} T={row['as_of']:%Y-%m-%d} {problem}"
            )
    return problems


# ----------------------------------------------------------------------------- fast == reference


@pytest.fixture(scope="module")
def reference_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "ledger"
    config = GeneratorConfig(
        cooperatives=2, members_per_coop=40, months=24, start="2024-06", seed=3
    )
    generate_ledger(out, config, pii_key=PII_KEY, today=TODAY)
    return out


def test_fast_builder_equals_reference(reference_ledger: Path) -> None:
    ledger = Ledger(reference_ledger)
    cooperatives = ledger.cooperative_ids()
    assert len(cooperatives) == 2
    history_end = ledger.as_of
    rng = np.random.default_rng(20261128)
    problems: list[str] = []
    counts = {"applications": 0, "current": 0, "random": 0}
    for coop in cooperatives:
        tables = _tables(reference_ledger, coop)
        builder = RepaymentProfileBuilder().fit(tables)
        ref = ReferenceLedger.from_tables(tables)
        members = tables["members"]
        first_join = members["join_date"].min()
        inside = first_join + (history_end - first_join) * 0.6
        inside = pd.Timestamp(inside.date())
        after = history_end + pd.Timedelta(days=45)
        assert inside < history_end < after
        # every application of every cooperative
        applications = ProfileRequests.from_applications(tables["loans"])
        assert len(applications.frame) > 10
        problems += _mismatches(builder, ref, applications)
        counts["applications"] += len(applications.frame)
        # every member, as of a day inside the history and a day after it
        for as_of in (inside, after):
            problems += _mismatches(builder, ref, ProfileRequests.current(members, as_of))
            counts["current"] += len(members)
        # and a fixed random sample of (member, day) pairs over the whole span
        n = 30
        days = rng.integers(-30, (after - first_join).days, n)
        sample = _requests(
            list(rng.choice(members["member_id"].to_numpy(), n)),
            list(first_join + pd.to_timedelta(days, unit="D")),
        )
        problems += _mismatches(builder, ref, sample)
        counts["random"] += n
    assert counts["applications"] > 20, counts
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)


# ----------------------------------------------------------------------------- point in time


@pytest.fixture(scope="module")
def partition(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    out = tmp_path_factory.mktemp("point_in_time") / "ledger"
    config = GeneratorConfig(
        cooperatives=1, members_per_coop=30, months=18, start="2025-01", seed=17
    )
    generate_ledger(out, config, pii_key=PII_KEY, today=TODAY)
    ledger = Ledger(out)
    return _tables(out, ledger.cooperative_ids()[0])


def _last_event_day(tables: Tables) -> pd.Timestamp:
    return max(tables[name]["date"].max() for name in EVENT_TABLES)


def _append(frame: pd.DataFrame, rows: list[dict[str, object]]) -> pd.DataFrame:
    """`rows` added to `frame`, with the frame's columns and dtypes."""
    if not rows:
        return frame
    new = pd.DataFrame(rows, columns=frame.columns).astype(frame.dtypes.to_dict())
    return pd.concat([frame, new], ignore_index=True)


@st.composite
def future_mutation(draw: st.DrawFn, tables: Tables, member_id: str, t: pd.Timestamp) -> Tables:
    """The tables with events dated on or after `t` deleted, moved to other days >= t, and
    new events (of `member_id` mostly, sometimes of another member) added on days >= t.

    Dates stay valid: savings not before joining, repayments not before disbursement."""
    members = tables["members"].set_index("member_id")
    member_ids = list(members.index)
    coop = str(members["cooperative_id"].iloc[0])
    disbursement = tables["loans"].set_index("loan_id")["disbursement_date"]
    offset = st.integers(0, 400)

    def new_day(mid: str, loan_id: str | None = None) -> pd.Timestamp:
        start = max(t, members.loc[mid, "join_date"])
        if loan_id is not None:
            start = max(start, disbursement[loan_id])
        return start + pd.Timedelta(days=draw(offset))

    out = dict(tables)
    for name in EVENT_TABLES:
        frame = tables[name]
        future = [int(i) for i in np.flatnonzero((frame["date"] >= t).to_numpy())]
        if not future or not draw(st.booleans()):
            continue
        chosen = draw(st.lists(st.sampled_from(future), min_size=1, max_size=15, unique=True))
        frame = frame.copy()
        moved, deleted = chosen[::2], chosen[1::2]
        for i in moved:
            row = frame.iloc[i]
            loan = str(row["loan_id"]) if name == "repayments" else None
            frame.iloc[i, frame.columns.get_loc("date")] = new_day(str(row["member_id"]), loan)
        out[name] = frame.drop(index=frame.index[deleted]).reset_index(drop=True)

    def who() -> str:
        return member_id if draw(st.integers(0, 3)) else draw(st.sampled_from(member_ids))

    amount = st.integers(1, 5_000_000)
    rows = []
    for k in range(draw(st.integers(0, 4))):
        mid = who()
        kind = draw(st.sampled_from(["sukarela deposit", "sukarela withdrawal", "wajib deposit"]))
        period = None
        if kind.startswith("wajib"):
            period = (t.to_period("M") + draw(st.integers(-14, 6))).strftime("%Y-%m")
        rows.append(
            {
                "transaction_id": f"{coop}-SX{k:04d}",
                "member_id": mid,
                "cooperative_id": coop,
                "date": new_day(mid),
                "kind": kind.split()[0],
                "direction": kind.split()[1],
                "amount": draw(amount),
                "period": period,
            }
        )
    out["savings"] = _append(out["savings"], rows)

    rows = []
    for k in range(draw(st.integers(0, 4))):
        mid = who()
        rows.append(
            {
                "purchase_id": f"{coop}-GX{k:04d}",
                "member_id": mid,
                "cooperative_id": coop,
                "date": new_day(mid),
                "amount": draw(amount),
                "payment": draw(st.sampled_from(["cash", "credit"])),
            }
        )
    out["store_purchases"] = _append(out["store_purchases"], rows)

    rows = []
    for k in range(draw(st.integers(0, 4))):
        mid = who()
        rows.append(
            {
                "sale_id": f"{coop}-JX{k:04d}",
                "member_id": mid,
                "cooperative_id": coop,
                "date": new_day(mid),
                "product": draw(st.sampled_from(["snacks", "fresh_fish", "services"])),
                "amount": draw(amount),
            }
        )
    out["produce_sales"] = _append(out["produce_sales"], rows)

    loans = tables["loans"]
    disbursed = loans[loans["disbursement_date"].notna()]
    own = disbursed[disbursed["member_id"] == member_id]
    rows = []
    for k in range(draw(st.integers(0, 4)) if len(disbursed) else 0):
        pool = own if len(own) and draw(st.integers(0, 3)) else disbursed
        loan = pool.iloc[draw(st.integers(0, len(pool) - 1))]
        rows.append(
            {
                "repayment_id": f"{coop}-BX{k:04d}",
                "loan_id": loan["loan_id"],
                "member_id": loan["member_id"],
                "cooperative_id": coop,
                "date": new_day(str(loan["member_id"]), str(loan["loan_id"])),
                "amount": draw(amount),
            }
        )
    out["repayments"] = _append(out["repayments"], rows)
    return out


def _changed_tables(before: Tables, after: Tables) -> list[str]:
    return [n for n in EVENT_TABLES if not before[n].equals(after[n])]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_events_on_or_after_t_do_not_change_the_profile(
    partition: Tables, data: st.DataObject
) -> None:
    tables = partition
    member_id = data.draw(st.sampled_from(list(tables["members"]["member_id"])), label="member")
    first = tables["members"]["join_date"].min()
    # T up to a year after the last event (current profiles asked long after an upload)
    last = _last_event_day(tables) + pd.Timedelta(days=365)
    t = first + pd.Timedelta(days=data.draw(st.integers(-30, (last - first).days), label="T days"))
    mutated = data.draw(future_mutation(tables, member_id, t), label="mutation")
    for name in EVENT_TABLES:
        validate(name, mutated[name])
        assert list(mutated[name].dtypes) == list(tables[name].dtypes), name
        assert (mutated[name]["date"] < t).sum() == (tables[name]["date"] < t).sum(), name
        pd.testing.assert_frame_equal(
            mutated[name][mutated[name]["date"] < t].reset_index(drop=True),
            tables[name][tables[name]["date"] < t].reset_index(drop=True),
        )
    before = _fast_profile(tables, member_id, t)
    after = _fast_profile(mutated, member_id, t)
    problems = compare_profiles(after, before)
    assert not problems, (
        f"{member_id} as of {t:%Y-%m-%d}, changed {_changed_tables(tables, mutated)}:\n"
        + "\n".join(problems)
    )


# ----------------------------------------------------------------------------- the check can fail


def _member_with_loan(tables: Tables) -> tuple[str, pd.Timestamp]:
    """A member and a T with an instalment due before T, repaid before T, and sukarela."""
    inst = tables["installments"].sort_values("due_date")
    pays = tables["repayments"]
    for _, row in inst.iterrows():
        t = row["due_date"] + pd.Timedelta(days=40)
        paid_before = pays[(pays["loan_id"] == row["loan_id"]) & (pays["date"] < t)]
        if len(paid_before) and t < _last_event_day(tables):
            return str(row["member_id"]), t
    raise AssertionError("the generated partition has no repaid instalment")


def _before_t_mutation(tables: Tables, kind: str) -> tuple[str, pd.Timestamp, Tables]:
    member_id, t = _member_with_loan(tables)
    coop = str(tables["members"]["cooperative_id"].iloc[0])
    out = dict(tables)
    if kind == "sukarela withdrawal the day before T":
        row = {
            "transaction_id": f"{coop}-SY0001",
            "member_id": member_id,
            "cooperative_id": coop,
            "date": t - pd.Timedelta(days=1),
            "kind": "sukarela",
            "direction": "withdrawal",
            "amount": 250_000,
            "period": None,
        }
        out["savings"] = _append(tables["savings"], [row])
    elif kind == "sale in the month before T's month":
        row = {
            "sale_id": f"{coop}-JY0001",
            "member_id": member_id,
            "cooperative_id": coop,
            "date": (t.to_period("M") - 1).to_timestamp() + pd.Timedelta(days=3),
            "product": "snacks",
            "amount": 1_000_000,
        }
        out["produce_sales"] = _append(tables["produce_sales"], [row])
    elif kind == "her repayments before T deleted":
        pays = tables["repayments"]
        keep = ~((pays["member_id"] == member_id) & (pays["date"] < t))
        out["repayments"] = pays[keep].reset_index(drop=True)
    else:  # pragma: no cover
        raise ValueError(kind)
    return member_id, t, out


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "sukarela withdrawal the day before T",
            {"sukarela_balance", "sukarela_withdrawals_6m", "total_savings", "ledger_events_6m"},
        ),
        ("sale in the month before T's month", {"avg_monthly_sales_3m", "avg_monthly_sales_12m"}),
        ("her repayments before T deleted", {"current_dpd", "late_instalments_12m"}),
    ],
)
def test_events_before_t_do_change_the_profile(
    partition: Tables, kind: str, expected: set[str]
) -> None:
    member_id, t, mutated = _before_t_mutation(partition, kind)
    for name in EVENT_TABLES:
        validate(name, mutated[name])
    before = _fast_profile(partition, member_id, t)
    after = _fast_profile(mutated, member_id, t)
    problems = compare_profiles(after, before)
    changed = {p.split(":")[0] for p in problems}
    assert expected <= changed, (kind, problems)
    # and the reference agrees with the fast builder on the mutated ledger
    assert compare_profiles(after, reference_profile(mutated, member_id, t)) == []


# ----------------------------------------------------------------------------- known disagreement


def _one_member_ledger(template: Tables) -> tuple[str, Tables]:
    """One member who joined 2025-01-10 and paid wajib for 2025-02..2025-04 on time; no
    other records (empty tables with the ledger's dtypes)."""
    tables = {name: frame.iloc[0:0].copy() for name, frame in template.items()}
    tables["cooperatives"] = template["cooperatives"]
    member = template["members"].iloc[[0]].copy()
    member["join_date"] = pd.Timestamp("2025-01-10")
    member["group_id"] = None
    tables["members"] = member.astype(template["members"].dtypes.to_dict()).reset_index(drop=True)
    member_id = str(member["member_id"].iloc[0])
    coop = str(member["cooperative_id"].iloc[0])
    rows = [
        {
            "transaction_id": f"{coop}-S{i}",
            "member_id": member_id,
            "cooperative_id": coop,
            "date": pd.Timestamp(f"2025-{month:02d}-05"),
            "kind": "wajib",
            "direction": "deposit",
            "amount": 20_000,
            "period": f"2025-{month:02d}",
        }
        for i, month in enumerate((2, 3, 4))
    ]
    tables["savings"] = _append(tables["savings"], rows)
    return member_id, tables


def test_wajib_months_owed_long_after_the_last_record(partition: Tables) -> None:
    member_id, tables = _one_member_ledger(partition)
    t = pd.Timestamp("2026-01-15")  # member months 2025-02..2025-12, 3 of them paid
    fast = _fast_profile(tables, member_id, t)
    ref = reference_profile(tables, member_id, t)
    assert ref["wajib_months_owed"] == 8.0
    assert compare_profiles(fast, ref) == []


def test_far_future_events_leak_into_wajib_features(partition: Tables) -> None:
    member_id, tables = _one_member_ledger(partition)
    t = pd.Timestamp("2026-01-15")
    coop = str(tables["members"]["cooperative_id"].iloc[0])
    sale = {
        "sale_id": f"{coop}-J1",
        "member_id": member_id,
        "cooperative_id": coop,
        "date": pd.Timestamp("2026-02-01"),
        "product": "snacks",
        "amount": 1_000,
    }
    mutated = {**tables, "produce_sales": _append(tables["produce_sales"], [sale])}
    assert (
        compare_profiles(_fast_profile(mutated, member_id, t), _fast_profile(tables, member_id, t))
        == []
    )
