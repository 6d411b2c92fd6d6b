"""The officer's read-only book views (features.book).

* A hand-built book: one loan of 3 instalments with partial repayments gives the days past
  due, class, outstanding, arrears and principal worked out by hand; a payment dated on the
  as-of day does not count; member search, the member page and the collection list on it.
* The generated ledger: days past due agree with the profile builder's `current_dpd`;
  loan positions and the collection list agree with a slow loan-by-loan loop; savings
  balances with deposits minus withdrawals; portfolio bands with the totals.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.book import (
    CooperativeBook,
    collection_list,
    load_book,
    loan_positions,
    member_number,
    member_view,
    portfolio_book,
    search_members,
)
from features.ledger.contracts import TABLE_ORDER
from features.ledger.store import Ledger
from features.profile_builder import ProfileRequests, RepaymentProfileBuilder

COOP = "KMP-T01"
AS_OF = date(2025, 3, 1)


def _dates(values: list[str | None]) -> pd.Series:
    return pd.Series([pd.NaT if v is None else pd.Timestamp(v) for v in values]).astype(
        "datetime64[ms]"
    )


def _tiny_book() -> CooperativeBook:
    """Four members; A00001 and A00003 borrow, A00001-A00003 form group G1.

    L1 (A00001): 3 instalments of 350.000 (300.000 principal + 50.000 interest) due
    10 Jan, 10 Feb, 10 Mar 2025; paid 350.000 on 8 Jan and 200.000 on 20 Feb, and 1.000.000
    on 1 Mar, the as-of day itself, which must not count.
    L2 (A00003): 2 instalments of 500.000 due 5 Oct and 5 Nov 2024, nothing paid.
    L3 (A00001): one instalment of 110.000, paid on time: closed.
    L4 (A00004): rejected, never disbursed.
    L5 (A00004): one instalment of 220.000 due 5 Mar 2025 (inside a 7-day horizon)."""
    members = pd.DataFrame(
        {
            "member_id": [f"{COOP}-A0000{i}" for i in range(1, 6)],
            "cooperative_id": COOP,
            "name": ["José Ramírez", "Siti  Aminah", "Siti Nurhaliza", "Budi Santoso", "Ani"],
            "join_date": _dates(["2023-01-15"] * 5),
            "sector": "retail_trade",
            "group_id": pd.Series(["G1", "G1", "G1", None, None], dtype="str"),
        }
    )
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "member_id": [f"{COOP}-A00001", f"{COOP}-A00003", f"{COOP}-A00001"]
            + [f"{COOP}-A00004"] * 2,
            "group_id": pd.Series(["G1", "G1", None, None, None], dtype="str"),
            "disbursement_date": _dates(
                ["2024-12-10", "2024-09-05", "2024-05-01", None, "2025-02-05"]
            ),
            "status": ["disbursed", "disbursed", "disbursed", "rejected", "disbursed"],
            "principal": [900_000, 1_000_000, 100_000, 5_000_000, 200_000],
            "tenor_months": [3, 2, 1, 6, 1],
            "purpose": ["stock", "health", "stock", "stock", "equipment"],
        }
    )
    inst = pd.DataFrame(
        {
            "loan_id": ["L1", "L1", "L1", "L2", "L2", "L3", "L5"],
            "member_id": [f"{COOP}-A0000{i}" for i in (1, 1, 1, 3, 3, 1, 4)],
            "installment_no": [1, 2, 3, 1, 2, 1, 1],
            "due_date": _dates(
                [
                    *("2025-01-10", "2025-02-10", "2025-03-10"),
                    *("2024-10-05", "2024-11-05"),
                    *("2024-06-01", "2025-03-05"),
                ]
            ),
            "principal_due": [300_000] * 3 + [450_000] * 2 + [100_000, 200_000],
            "interest_due": [50_000] * 3 + [50_000] * 2 + [10_000, 20_000],
        }
    )
    inst["amount_due"] = inst["principal_due"] + inst["interest_due"]
    pays = pd.DataFrame(
        {
            "loan_id": ["L1", "L1", "L1", "L3"],
            "member_id": [f"{COOP}-A00001"] * 4,
            "date": _dates(["2025-01-08", "2025-02-20", "2025-03-01", "2024-05-30"]),
            "amount": [350_000, 200_000, 1_000_000, 110_000],
        }
    )
    savings = pd.DataFrame(
        {
            "member_id": [f"{COOP}-A00001"] * 6,
            "date": _dates(
                [
                    *("2023-01-15", "2024-12-03", "2025-01-04"),
                    *("2025-01-20", "2025-02-27", "2025-03-01"),
                ]
            ),
            "kind": ["pokok", "wajib", "wajib", "sukarela", "sukarela", "sukarela"],
            "direction": ["deposit"] * 4 + ["withdrawal", "deposit"],
            "amount": [100_000, 25_000, 25_000, 80_000, 30_000, 999_000],
            "period": pd.Series([None, "2024-12", "2025-01", None, None, None], dtype="str"),
        }
    )
    return CooperativeBook(COOP, AS_OF, members, savings, loans, inst, pays)


@pytest.fixture(scope="module")
def tiny() -> CooperativeBook:
    return _tiny_book()


def test_hand_built_loan_positions(tiny: CooperativeBook) -> None:
    pos = loan_positions(tiny).set_index("loan_id")
    assert sorted(pos.index) == ["L1", "L2", "L3", "L5"]  # the rejected loan is not there
    l1 = pos.loc["L1"]
    # 550.000 paid before 1 Mar covers instalment 1 only; instalment 2 (10 Feb) is open
    assert l1["paid_total"] == 550_000
    assert l1["days_past_due"] == (AS_OF - date(2025, 2, 10)).days == 19
    assert l1["kolektibilitas"] == 2
    assert l1["amount_due_total"] == 1_050_000
    assert l1["outstanding"] == 500_000
    assert l1["arrears_amount"] == 150_000  # 700.000 due before 1 Mar - 550.000
    assert l1["outstanding_principal"] == 450_000  # 300.000 + (200.000 - 50.000 interest)
    assert l1["next_due_date"] == pd.Timestamp("2025-02-10")
    assert l1["next_amount_due"] == 150_000
    assert not l1["closed"]
    assert l1["group_id"] == "G1"

    l2 = pos.loc["L2"]
    assert l2["days_past_due"] == (AS_OF - date(2024, 10, 5)).days == 147
    assert l2["kolektibilitas"] == 4
    assert l2["arrears_amount"] == l2["outstanding"] == 1_000_000
    assert l2["outstanding_principal"] == 900_000

    l3 = pos.loc["L3"]
    assert bool(l3["closed"]) and l3["outstanding"] == 0 and l3["days_past_due"] == 0
    assert pd.isna(l3["next_due_date"]) and pd.isna(l3["next_amount_due"])
    assert l3["group_id"] == "G1"  # the member's group, though the loan has no guarantee

    l5 = pos.loc["L5"]  # not yet due: current, owes its instalment, no arrears
    assert (l5["days_past_due"], l5["kolektibilitas"], l5["arrears_amount"]) == (0, 1, 0)
    assert l5["outstanding"] == 220_000 and pd.isna(l5["group_id"])

    assert pd.api.types.is_integer_dtype(pos["days_past_due"])
    assert pd.api.types.is_bool_dtype(pos["closed"])


def test_the_as_of_day_is_excluded(tiny: CooperativeBook) -> None:
    """Moving the as-of day one day later lets the 1.000.000 paid on 1 Mar count."""
    later = CooperativeBook(
        COOP, AS_OF + timedelta(days=1), tiny.members, tiny.savings, tiny.loans,
        tiny.installments, tiny.repayments,
    )  # fmt: skip
    l1 = loan_positions(later).set_index("loan_id").loc["L1"]
    assert bool(l1["closed"]) and l1["outstanding"] == 0 and l1["days_past_due"] == 0


def test_member_number() -> None:
    assert member_number("KMP-0026-A00006", "KMP-0026") == "A00006"
    with pytest.raises(ValueError):
        member_number("KMP-0027-A00006", "KMP-0026")


def test_search(tiny: CooperativeBook) -> None:
    def names(q: str, limit: int = 20) -> list[str]:
        return [h.name for h in search_members(tiny, q, limit)]

    assert names("siti") == ["Siti  Aminah", "Siti Nurhaliza"]
    assert names("SITI AM") == ["Siti  Aminah"]  # case and spaces
    assert names("jose ram") == ["José Ramírez"]  # accents
    assert names("santoso") == ["Budi Santoso"]
    assert names("") == names("   ") == []
    assert names("zzz") == []
    assert names("siti", limit=1) == ["Siti  Aminah"]
    by_number = search_members(tiny, "a00004")
    assert [h.member_id for h in by_number] == [f"{COOP}-A00004"]
    assert by_number[0].number == "A00004" and by_number[0].group_id is None
    assert [h.number for h in search_members(tiny, f"{COOP}-A00002")] == ["A00002"]
    # a prefix matches every number; "ani" also matches Ani by name, and an exact number
    # goes first whatever its name
    assert len(search_members(tiny, "A0000")) == 5
    assert [h.name for h in search_members(tiny, "A00005")] == ["Ani"]
    hits = search_members(tiny, "ani")
    assert [h.name for h in hits] == ["Ani"]
    assert search_members(tiny, "a00003")[0].join_date == date(2023, 1, 15)


def test_member_view_of_the_hand_built_book(tiny: CooperativeBook) -> None:
    view = member_view(tiny, f"{COOP}-A00001")
    assert view is not None
    assert view.hit.name == "José Ramírez" and view.group_id == "G1"
    assert [x.loan_id for x in view.loans] == ["L1", "L3"]  # newest first
    assert view.loans[0].days_past_due == 19 and view.loans[0].next_amount_due == 150_000
    assert view.loans[1].closed and view.loans[1].next_due_date is None
    lines = [(x.loan_id, x.installment_no, x.covered_on, x.days_late) for x in view.instalments]
    assert lines == [
        ("L3", 1, date(2024, 5, 30), 0),
        ("L1", 1, date(2025, 1, 8), 0),
        ("L1", 2, None, 19),
        ("L1", 3, None, None),  # the next one due on the open loan
    ]
    # group: the mate in arrears first, then the one without loans
    assert [(m.number, m.days_past_due, m.kolektibilitas) for m in view.group] == [
        ("A00003", 147, 4),
        ("A00002", 0, 1),
    ]
    assert view.group[0].arrears_amount == 1_000_000
    assert view.group_in_arrears == 1
    # savings: the 24 months Mar 2023 .. Feb 2025; the deposit on 1 Mar does not count
    months = view.savings_months
    assert len(months) == 24 and months[0].month == "2023-03" and months[-1].month == "2025-02"
    assert (months[-3].wajib, months[-2].wajib, months[-2].sukarela) == (25_000, 25_000, 80_000)
    assert months[-1].sukarela == -30_000
    assert months[0].balance == 100_000  # the pokok of Jan 2023 carried in
    assert months[-1].balance == 100_000 + 25_000 + 25_000 + 80_000 - 30_000
    # wajib: Mar 2024 .. Feb 2025 are the 12 months; Dec 2024 and Jan 2025 paid
    assert view.wajib_months_missed_12m == 10
    # the same page from precomputed positions
    assert member_view(tiny, f"{COOP}-A00001", loan_positions(tiny)) == view


def test_member_view_unknown_or_other_cooperative(tiny: CooperativeBook) -> None:
    assert member_view(tiny, "KMP-T02-A00001") is None
    assert member_view(tiny, f"{COOP}-A09999") is None
    assert member_view(tiny, "A00001") is None  # a number alone is not a member id


def test_collection_list_of_the_hand_built_book(tiny: CooperativeBook) -> None:
    items = collection_list(tiny)
    assert [(i.loan_id, i.days_late, i.due_date) for i in items] == [
        ("L2", 147, date(2024, 10, 5)),
        ("L1", 19, date(2025, 2, 10)),
        ("L5", 0, date(2025, 3, 5)),
    ]
    l2, l1, l5 = items
    assert l2.amount_due == 1_000_000 and l2.kolektibilitas == 4
    assert l1.amount_due == 150_000  # the 10 Mar instalment is beyond 7 days
    assert l5.amount_due == 220_000 and l5.group_contacts == [] and l5.group_id is None
    # contacts: group mates not in arrears (A00002 only), never the borrower herself
    assert l2.group_contacts == ["Siti  Aminah"] and l1.group_contacts == ["Siti  Aminah"]
    assert l1.number == "A00001" and l1.name == "José Ramírez"
    # a 10-day horizon reaches 10 Mar: L1 then owes instalment 3 too
    wide = {i.loan_id: i for i in collection_list(tiny, horizon_days=10)}
    assert wide["L1"].amount_due == 500_000
    # a zero horizon keeps only the late loans
    assert [i.loan_id for i in collection_list(tiny, horizon_days=0)] == ["L2", "L1"]


def test_portfolio_of_the_hand_built_book(tiny: CooperativeBook) -> None:
    book = portfolio_book(loan_positions(tiny))
    assert book.active_loans == 3
    assert book.outstanding == 500_000 + 1_000_000 + 220_000
    assert book.arrears == 150_000 + 1_000_000
    assert [(b.kolektibilitas, b.loans) for b in book.bands] == [
        (1, 1), (2, 1), (3, 0), (4, 1), (5, 0),
    ]  # fmt: skip
    assert book.npl_outstanding == 1_000_000
    assert book.npl_ratio == pytest.approx(1_000_000 / 1_720_000)
    empty = portfolio_book(loan_positions(tiny).iloc[0:0])
    assert empty.outstanding == 0 and empty.npl_ratio == 0.0 and len(empty.bands) == 5


# ---------------------------------------------------------------------------- generated


def _day_list(s: pd.Series) -> list[date | None]:
    return [None if pd.isna(x) else pd.Timestamp(x).date() for x in s.tolist()]


def _slow_positions(book: CooperativeBook, horizon_days: int) -> dict[str, tuple[int, bool]]:
    """Loan by loan, instalment by instalment: (days past due, on the collection list)."""
    end = book.as_of + timedelta(days=horizon_days)
    paid: dict[str, int] = {}
    pays = book.repayments
    for loan_id, day, amount in zip(
        pays["loan_id"].tolist(), _day_list(pays["date"]), pays["amount"].tolist(), strict=True
    ):
        if day is not None and day < book.as_of:
            paid[str(loan_id)] = paid.get(str(loan_id), 0) + int(amount)
    schedules: dict[str, list[tuple[int, date, int]]] = {}
    inst = book.installments
    for loan_id, no, due, amount in zip(
        inst["loan_id"].tolist(),
        inst["installment_no"].tolist(),
        _day_list(inst["due_date"]),
        inst["amount_due"].tolist(),
        strict=True,
    ):
        assert due is not None
        schedules.setdefault(str(loan_id), []).append((int(no), due, int(amount)))
    out = {}
    loans = book.loans
    for loan_id, disbursed in zip(
        loans["loan_id"].tolist(), _day_list(loans["disbursement_date"]), strict=True
    ):
        if disbursed is None or disbursed >= book.as_of:
            continue
        dpd, listed, cum = 0, False, 0
        for _, due, amount in sorted(schedules.get(str(loan_id), [])):
            cum += amount
            if cum > paid.get(str(loan_id), 0):  # the oldest instalment not reached
                dpd = max((book.as_of - due).days, 0)
                listed = due < end
                break
        out[str(loan_id)] = (dpd, listed)
    return out


@pytest.fixture(scope="module")
def small_book(small_ledger: Path) -> CooperativeBook:
    return load_book(small_ledger, Ledger(small_ledger).cooperative_ids()[0])


def test_load_book(small_ledger: Path, small_book: CooperativeBook) -> None:
    ledger = Ledger(small_ledger)
    assert small_book.as_of == ledger.as_of.date()
    assert "nik_hash" not in small_book.members.columns
    assert len(small_book.loans) == len(ledger.partition(small_book.cooperative_id).table("loans"))
    with pytest.raises(KeyError):
        load_book(small_ledger, "KMP-9999")


def test_positions_and_collection_agree_with_a_slow_loop(small_book: CooperativeBook) -> None:
    pos = loan_positions(small_book)
    slow = _slow_positions(small_book, horizon_days=7)
    assert set(pos["loan_id"]) == set(slow)
    fast = dict(zip(pos["loan_id"], pos["days_past_due"].tolist(), strict=True))
    assert fast == {k: v[0] for k, v in slow.items()}
    assert pos["days_past_due"].gt(0).any() and pos["closed"].any()  # the check has teeth
    listed = {i.loan_id: i for i in collection_list(small_book, pos)}
    assert set(listed) == {k for k, v in slow.items() if v[1]}
    assert all(listed[k].days_late == slow[k][0] for k in listed)
    days_late = [i.days_late for i in collection_list(small_book, pos)]
    assert days_late == sorted(days_late, reverse=True)
    assert any(i.days_late == 0 for i in listed.values()) and any(
        i.days_late > 0 for i in listed.values()
    )
    # the amounts tie out: outstanding = total due - paid, arrears never above outstanding
    assert (pos["outstanding"] == (pos["amount_due_total"] - pos["paid_total"]).clip(0)).all()
    assert (pos["arrears_amount"] <= pos["outstanding"]).all()
    assert (pos["outstanding_principal"] <= pos["outstanding"]).all()
    assert ((pos["days_past_due"] > 0) == (pos["arrears_amount"] > 0)).all()


def test_days_past_due_agree_with_the_profile_builder(medium_ledger: Path) -> None:
    ledger = Ledger(medium_ledger)
    for coop in ledger.cooperative_ids()[:3]:
        part = ledger.partition(coop)
        tables = {name: part.table(name) for name in TABLE_ORDER}
        profiles = (
            RepaymentProfileBuilder()
            .fit(tables)
            .transform(ProfileRequests.current(tables["members"], ledger.as_of))
            .set_index("member_id")
        )
        book = load_book(medium_ledger, coop)
        pos = loan_positions(book)
        worst = pos.groupby("member_id")["days_past_due"].max()
        worst = worst.reindex(profiles.index, fill_value=0)
        assert (worst > 0).sum() > 5
        np.testing.assert_array_equal(worst.to_numpy(), profiles["current_dpd"].to_numpy())

        # wajib months: missed + paid = the builder's eligible months of the last 12
        sample = profiles.loc[profiles["share_wajib_months_paid_12m"] > 0].index[:40]
        for member_id in sample:
            view = member_view(book, str(member_id), pos)
            assert view is not None
            paid = int(profiles.loc[member_id, "wajib_months_paid_12m"])
            share = float(profiles.loc[member_id, "share_wajib_months_paid_12m"])
            eligible = round(paid / share)
            assert view.wajib_months_missed_12m == eligible - paid


def test_savings_balance_is_deposits_minus_withdrawals(medium_ledger: Path) -> None:
    book = load_book(medium_ledger, Ledger(medium_ledger).cooperative_ids()[1])
    sv = book.savings
    sukarela_out = sv.loc[sv["direction"] == "withdrawal", "member_id"].unique()
    negative_months = 0
    members = list(sukarela_out[:15]) + list(book.members["member_id"].iloc[:5])
    for member_id in members:
        view = member_view(book, str(member_id))
        assert view is not None
        mine = sv.loc[sv["member_id"] == member_id]
        sign = np.where(mine["direction"] == "withdrawal", -1, 1)
        months = mine["date"].dt.strftime("%Y-%m").to_numpy()
        signed = sign * mine["amount"].to_numpy()
        assert len(view.savings_months) == 24
        for m in view.savings_months:
            assert m.balance == int(signed[months <= m.month].sum())
            assert m.pokok + m.wajib + m.sukarela == int(signed[months == m.month].sum())
            negative_months += m.sukarela < 0
    assert negative_months > 0  # withdrawals were in the window


def test_portfolio_bands_sum_to_the_totals(medium_ledger: Path) -> None:
    book = load_book(medium_ledger, Ledger(medium_ledger).cooperative_ids()[2])
    pos = loan_positions(book)
    figures = portfolio_book(pos)
    open_loans = pos.loc[~pos["closed"]]
    assert [b.kolektibilitas for b in figures.bands] == [1, 2, 3, 4, 5]
    assert sum(b.loans for b in figures.bands) == figures.active_loans == len(open_loans)
    assert sum(b.outstanding for b in figures.bands) == figures.outstanding
    assert figures.outstanding == int(open_loans["outstanding"].sum())
    assert sum(b.arrears for b in figures.bands) == figures.arrears
    npl = int(open_loans.loc[open_loans["kolektibilitas"] >= 3, "outstanding"].sum())
    assert figures.npl_outstanding == npl > 0
    assert figures.npl_ratio == pytest.approx(npl / figures.outstanding)


def test_member_view_of_a_group_member(medium_ledger: Path) -> None:
    book = load_book(medium_ledger, Ledger(medium_ledger).cooperative_ids()[0])
    pos = loan_positions(book)
    grouped = book.members.loc[book.members["group_id"].notna()]
    member_id = str(grouped["member_id"].iloc[0])
    view = member_view(book, member_id, pos)
    assert view is not None and view.group_id == grouped["group_id"].iloc[0]
    mates = set(grouped.loc[grouped["group_id"] == view.group_id, "member_id"]) - {member_id}
    assert {m.member_id for m in view.group} == mates
    dpd = [m.days_past_due for m in view.group]
    assert dpd == sorted(dpd, reverse=True)
    assert view.group_in_arrears == sum(d > 0 for d in dpd)
    assert member_view(book, member_id) == view  # computed without positions: the same
    other = Ledger(medium_ledger).cooperative_ids()[1]
    assert member_view(book, f"{other}-A00001") is None
