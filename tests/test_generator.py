"""The synthetic generator: contracts, determinism, and that its statistics look like credit."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from features.generator.run import ORACLE_DIR, GeneratorConfig, generate_ledger, read_oracle
from features.generator.simulate import (
    APPLY_AFTER_DEFAULT,
    APPLY_BASE,
    APPLY_TOPUP,
    APPLY_TOPUP_PAST_DUE,
    DEFAULT_WAIT_MONTHS,
    DISCIPLINE_LOGIT,
    MAX_OPEN_LOANS,
    PAST_DEFAULT_LOGIT,
    PAST_DUE_LOGIT,
    SCREEN_PAST_DEFAULT,
    SCREEN_PAST_DEFAULT_LENIENT,
    TOPUP_AFTER_MONTHS,
    TRUE_DRIVERS,
    apply_propensity,
    screen_logit,
)
from features.labels import past_due_within
from features.ledger.contracts import TABLE_ORDER, TABLES, validate
from features.ledger.rates import effective_annual_rate
from features.ledger.store import Ledger
from features.ledger.summary import summarise
from tests.conftest import PII_KEY, TODAY
from tests.helpers import auc

ROOT = Path(__file__).resolve().parents[1]


def _all_tables(path: Path) -> dict[str, pd.DataFrame]:
    ledger = Ledger(path)
    return {t: ledger.read(t) for t in TABLE_ORDER}


def test_every_table_meets_its_contract(small_ledger: Path) -> None:
    tables = _all_tables(small_ledger)
    for name, frame in tables.items():
        assert len(frame) > 0, name
        validate(name, frame)
        for col in TABLES[name].columns:
            s = frame[col.name]
            if col.kind in ("money", "amount0", "int"):
                assert pd.api.types.is_integer_dtype(s), (name, col.name)
            elif col.kind == "date":
                assert pd.api.types.is_datetime64_dtype(s), (name, col.name)
            elif col.kind == "rate":
                assert pd.api.types.is_float_dtype(s), (name, col.name)
            elif col.kind == "bool":
                assert pd.api.types.is_bool_dtype(s), (name, col.name)
            else:
                assert pd.api.types.is_string_dtype(s), (name, col.name)
    members = tables["members"]
    assert members["nik_hash"].str.fullmatch(r"[0-9a-f]{64}").all()
    # only the keyed hash is stored: no 16-digit NIK anywhere in the members table
    assert not members.astype(str).apply(lambda c: c.str.contains(r"\b\d{16}\b")).any().any()


def test_same_seed_same_ledger_other_seed_other_ledger(
    tmp_path: Path, small_config: GeneratorConfig
) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_ledger(a, small_config, pii_key=PII_KEY, today=TODAY)
    generate_ledger(b, small_config, pii_key=PII_KEY, today=TODAY)
    other = GeneratorConfig(**{**small_config.__dict__, "seed": small_config.seed + 1})
    generate_ledger(c, other, pii_key=PII_KEY, today=TODAY)
    ta, tb, tc = _all_tables(a), _all_tables(b), _all_tables(c)
    for t in TABLE_ORDER:
        pdt.assert_frame_equal(ta[t], tb[t])
    assert not ta["repayments"].equals(tc["repayments"])
    pdt.assert_frame_equal(read_oracle(a), read_oracle(b))


def test_a_cooperative_does_not_depend_on_how_many_are_generated(
    tmp_path: Path, small_config: GeneratorConfig
) -> None:
    one = GeneratorConfig(**{**small_config.__dict__, "cooperatives": 1})
    generate_ledger(tmp_path / "one", one, pii_key=PII_KEY, today=TODAY)
    first = Ledger(tmp_path / "one").read("loans")
    generate_ledger(tmp_path / "three", small_config, pii_key=PII_KEY, today=TODAY)
    pdt.assert_frame_equal(first, Ledger(tmp_path / "three").read("loans", "KMP-0001"))


def test_real_kelurahan_first_then_synthetic_names(tmp_path: Path) -> None:
    config = GeneratorConfig(cooperatives=36, members_per_coop=5, months=3, start="2025-01")
    generate_ledger(tmp_path / "l", config, today=TODAY)
    coops = Ledger(tmp_path / "l").read("cooperatives")
    assert coops["kelurahan"].iloc[0] == "Manggar"
    assert coops["kelurahan"].iloc[33] == "Damai"
    assert (coops["city"].iloc[:34] == "Kota Balikpapan").all()
    assert (coops["city"].iloc[34:] == "Kota Sintetis").all()
    assert set(coops["profile"]) == {"coastal", "food_production", "urban_trade", "peri_urban"}


def test_no_event_after_the_horizon_or_before_joining(small_ledger: Path) -> None:
    tables = _all_tables(small_ledger)
    end = pd.Timestamp("2025-06-30")  # 2024-01 + 18 months
    joined = tables["members"].set_index("member_id")["join_date"]
    for t in ("savings", "repayments", "store_purchases", "produce_sales"):
        frame = tables[t]
        assert frame["date"].max() <= end, t
        assert (frame["date"] >= frame["member_id"].map(joined)).all(), t
    loans = tables["loans"]
    assert (loans["application_date"] > loans["member_id"].map(joined)).all()
    disbursed = loans.dropna(subset=["disbursement_date"])
    assert (disbursed["disbursement_date"] > disbursed["application_date"]).all()
    assert (loans["status"] == "rejected").sum() > 0


def test_schedule_adds_up_to_principal_plus_flat_interest(small_ledger: Path) -> None:
    tables = _all_tables(small_ledger)
    loans = tables["loans"].set_index("loan_id")
    inst = tables["installments"]
    per_loan = inst.groupby("loan_id").agg(
        n=("installment_no", "size"),
        principal=("principal_due", "sum"),
        interest=("interest_due", "sum"),
    )
    joined = per_loan.merge(loans.add_suffix("_loan"), left_index=True, right_index=True)
    assert (joined["n"] == joined["tenor_months_loan"]).all()
    assert (joined["principal"] == joined["principal_loan"]).all()
    tenor = joined["tenor_months_loan"]
    monthly_interest = (joined["principal_loan"] * joined["flat_monthly_rate_loan"]).round()
    assert (joined["interest"] == monthly_interest * tenor).all()
    # the effective rate discounts the flat schedule back to exactly the principal
    monthly = (1 + joined["effective_annual_rate_loan"]) ** (1 / 12) - 1
    payment = 1 / tenor + joined["flat_monthly_rate_loan"]
    pv = [
        sum(p / (1 + r) ** k for k in range(1, n + 1))
        for p, r, n in zip(payment, monthly, tenor, strict=True)
    ]
    assert np.allclose(pv, 1.0, atol=1e-4)


def test_effective_rate_of_common_flat_quotes() -> None:
    # textbook values: 1% flat a month over a year is 1.79% a month IRR, 23.7% a year
    eff = effective_annual_rate(np.array([0.01, 0.015, 0.02]), np.array([12, 12, 12]))
    assert eff == pytest.approx([0.2370, 0.3676, 0.5067], abs=1e-3)
    assert effective_annual_rate(np.array([0.0]), np.array([6]))[0] == pytest.approx(0.0, abs=1e-9)


def test_ledger_labels_agree_with_the_simulated_truth(medium_ledger: Path) -> None:
    ledger = Ledger(medium_ledger)
    label = past_due_within(
        ledger.read("loans"), ledger.read("installments"), ledger.read("repayments")
    )
    oracle = read_oracle(medium_ledger).set_index("loan_id")
    closed = oracle[oracle["window_closed"]]
    assert len(closed) > 2000
    assert (label.reindex(closed.index) == closed["simulated_default_12m"]).all()


def test_default_rates_by_profile_and_oracle_auc_look_like_credit(medium_ledger: Path) -> None:
    summary = summarise(Ledger(medium_ledger))
    rates = summary.by_profile["default_rate"]
    assert set(rates.index) == {"coastal", "food_production", "urban_trade", "peri_urban"}
    assert rates.between(0.025, 0.17).all(), rates
    assert rates["coastal"] > rates["urban_trade"]
    oracle = read_oracle(medium_ledger)
    closed = oracle[oracle["window_closed"]]
    oracle_auc = auc(closed["true_pd_12m"], closed["simulated_default_12m"])
    assert 0.74 <= oracle_auc <= 0.86, oracle_auc
    # calibrated by construction: mean PD close to the observed rate
    assert abs(closed["true_pd_12m"].mean() - closed["simulated_default_12m"].mean()) < 0.015
    assert set(closed["driver_1"]) <= set(TRUE_DRIVERS.values())


def test_seasonality_is_visible_in_produce_sales(medium_ledger: Path) -> None:
    ledger = Ledger(medium_ledger)
    members = ledger.read("members", columns=["member_id", "sector"])
    sales = ledger.read("produce_sales").merge(members, on="member_id")
    sales["month"] = sales["date"].dt.month
    monthly = sales.groupby(["sector", "month"])["amount"].sum()
    fisher = monthly["fisher"]
    lean = fisher[[12, 1, 2]].mean()
    other = fisher.drop([12, 1, 2]).mean()
    assert lean < 0.7 * other
    tofu = monthly["tofu_tempeh"]  # tofu and tempeh sell all year round
    assert 0.85 < tofu[[12, 1, 2]].mean() / tofu.drop([12, 1, 2]).mean() < 1.15


def test_group_contagion_late_payments_rise_after_a_group_default(medium_ledger: Path) -> None:
    """Within the same groups (so group quality is held fixed), other members pay late more
    often in the six months after a member stops paying than in the six months before."""
    ledger = Ledger(medium_ledger)
    members = ledger.read("members", columns=["member_id", "group_id"]).dropna()
    inst = ledger.read("installments")
    pay = ledger.read("repayments")
    oracle = read_oracle(medium_ledger)
    stops = oracle[oracle["stop_installment"] > 0][["loan_id", "member_id", "stop_installment"]]
    stop_dates = stops.merge(
        inst, left_on=["loan_id", "stop_installment"], right_on=["loan_id", "installment_no"]
    )[["member_id_x", "due_date"]].rename(
        columns={"member_id_x": "member_id", "due_date": "stop_date"}
    )
    first = stop_dates.merge(members, on="member_id").groupby("group_id")["stop_date"].min()
    stoppers = set(stop_dates["member_id"])
    paid = pay.groupby(["loan_id", "member_id"])["date"].apply(list)
    inst = inst.merge(members, on="member_id")
    inst = inst[inst["group_id"].isin(first.index) & ~inst["member_id"].isin(stoppers)]
    inst["first_stop"] = inst["group_id"].map(first)
    inst["delta"] = (inst["due_date"] - inst["first_stop"]).dt.days
    inst = inst[inst["delta"].between(-182, 182)]
    # late > 30 days: the instalment is not covered by the 30th day (payments settle in order)
    inst = inst.sort_values(["loan_id", "installment_no"])
    inst["cum_due"] = inst.groupby("loan_id")["amount_due"].cumsum()
    del paid
    pay_sorted = pay.sort_values(["loan_id", "date"])
    pay_sorted["cum_paid"] = pay_sorted.groupby("loan_id")["amount"].cumsum()
    inst["check"] = (inst["due_date"] + pd.Timedelta(days=30)).astype("datetime64[ms]")
    line = pd.concat(
        [
            pay_sorted[["loan_id", "date", "amount"]]
            .rename(columns={"date": "when"})
            .assign(row=-1),
            inst[["loan_id", "check"]]
            .rename(columns={"check": "when"})
            .reset_index(names="row")
            .assign(amount=0),
        ]
    ).sort_values(["loan_id", "when", "row"])
    line["cum_paid"] = line.groupby("loan_id")["amount"].cumsum()
    at_check = line[line["row"] >= 0].set_index("row")["cum_paid"]
    inst["late30"] = at_check.reindex(inst.index).to_numpy() < inst["cum_due"].to_numpy()
    before = inst.loc[inst["delta"] < 0, "late30"].mean()
    after = inst.loc[inst["delta"] >= 0, "late30"].mean()
    assert (inst["delta"] < 0).sum() > 300 and (inst["delta"] >= 0).sum() > 300
    assert after > before * 1.15, (before, after)


def _applications(ledger_dir: Path, training: pd.DataFrame) -> pd.DataFrame:
    """Training rows with the loan's status and who was behind or defaulted when applying."""
    status = Ledger(ledger_dir).read("loans", columns=["loan_id", "status"])
    rows = training.merge(status, on="loan_id", validate="one_to_one")
    rows["rejected"] = rows["status"] == "rejected"
    rows["past_default"] = rows["prior_loans_defaulted"] > 0
    rows["past_due"] = rows["current_dpd"] > 0
    rows["behind"] = rows["past_default"] | rows["past_due"]
    return rows


def test_members_behind_or_who_defaulted_apply_and_most_are_turned_down(
    medium_ledger: Path, training_table: pd.DataFrame
) -> None:
    """They ask too, as real members do; the cooperative's screen rejects most, not all, and
    those it lends to are real loans with outcomes."""
    rows = _applications(medium_ledger, training_table)
    behind, others = rows[rows["behind"]], rows[~rows["behind"]]
    assert rows["past_default"].sum() >= 30 and rows["past_due"].sum() >= 60
    assert 0.01 <= rows["behind"].mean() <= 0.06
    assert behind["rejected"].mean() >= 0.75
    assert others["rejected"].mean() <= 0.2
    lent = behind[~behind["rejected"]]
    assert len(lent) >= 5 and lent["past_default"].any() and lent["past_due"].any()
    assert lent["labelled"].sum() >= 3
    # members with a loan running ask for a second one too, most of them on time
    top_up = rows[rows["existing_debt_service"] > 0]
    assert len(top_up) >= 150 and top_up["past_due"].mean() < 0.5


def test_the_oracle_carries_a_past_default_and_arrears_into_the_hazard(
    medium_ledger: Path, training_table: pd.DataFrame
) -> None:
    """Beyond the member's discipline, the oracle's discipline driver adds exactly the
    past-default and past-due terms the ledger shows at application."""
    rows = _applications(medium_ledger, training_table)
    oracle = read_oracle(medium_ledger).set_index("loan_id")
    discipline = read_oracle(medium_ledger, "members").set_index("member_id")["discipline"]
    lent = rows[~rows["rejected"]].set_index("loan_id")
    contribution = oracle.loc[lent.index, "contrib_" + TRUE_DRIVERS["discipline"]]
    extra = contribution + DISCIPLINE_LOGIT * lent["member_id"].map(discipline)
    expected = PAST_DEFAULT_LOGIT * lent["past_default"] + PAST_DUE_LOGIT * lent["past_due"]
    # the ledger settles payments oldest first, so "past due" may differ on a day or two
    agree = np.isclose(extra, expected, atol=1e-9)
    assert agree.mean() > 0.998 and agree[lent["past_default"].to_numpy()].all()
    closed = oracle.loc[lent.index][lent["labelled"].to_numpy()]
    by_standing = closed["true_pd_12m"].groupby(lent.loc[closed.index, "behind"]).mean()
    assert by_standing[True] > 2 * by_standing[False]


def test_a_member_holds_at_most_two_loans_at_once(medium_ledger: Path) -> None:
    ledger = Ledger(medium_ledger)
    loans = ledger.read("loans").dropna(subset=["disbursement_date"])
    last_due = ledger.read("installments").groupby("loan_id")["due_date"].max()
    starts = loans[["member_id", "disbursement_date"]].rename(columns={"disbursement_date": "d"})
    ends = loans.assign(d=loans["loan_id"].map(last_due))[["member_id", "d"]]
    # +1 at each disbursement, -1 after each last due date: the running sum is loans held
    events = pd.concat([starts.assign(n=1), ends.assign(d=ends["d"] + pd.Timedelta(days=1), n=-1)])
    events = events.sort_values(["member_id", "d", "n"])
    held = events.groupby("member_id")["n"].cumsum()
    assert held.max() == MAX_OPEN_LOANS
    assert (held == 2).sum() >= 100


def test_who_asks_for_a_loan_follows_what_she_owes() -> None:
    never, none = np.array([-1]), np.array([0])
    no, yes = np.array([False]), np.array([True])

    def ask(n_open: int, since: int, past_due: bool, since_stop: int, owes: bool) -> float:
        return float(
            apply_propensity(
                np.array([n_open]),
                np.array([since]),
                np.array([past_due]),
                np.array([since_stop]),
                np.array([owes]),
                no,
            )[0]
        )

    assert ask(0, 12, False, -1, False) == APPLY_BASE
    assert ask(1, TOPUP_AFTER_MONTHS, False, -1, False) == APPLY_TOPUP
    assert ask(1, TOPUP_AFTER_MONTHS, True, -1, False) == APPLY_TOPUP_PAST_DUE > APPLY_TOPUP
    assert ask(1, TOPUP_AFTER_MONTHS - 1, True, -1, False) == 0.0
    assert ask(MAX_OPEN_LOANS, 12, False, -1, False) == 0.0
    assert ask(0, 12, False, DEFAULT_WAIT_MONTHS - 1, False) == 0.0
    assert ask(0, 12, False, DEFAULT_WAIT_MONTHS, False) == APPLY_AFTER_DEFAULT
    assert 0 < ask(0, 12, True, DEFAULT_WAIT_MONTHS, True) < APPLY_AFTER_DEFAULT < APPLY_BASE
    assert apply_propensity(none, never + 13, no, never, no, yes)[0] > APPLY_BASE

    def reject(past_due: bool, past_default: bool, weight: float = SCREEN_PAST_DEFAULT) -> float:
        logit = screen_logit(none, no, np.array([past_due]), np.array([past_default]), weight)
        return float(1 / (1 + np.exp(-logit[0])))

    clean = reject(False, False)
    assert clean < 0.1
    assert reject(True, False) > 0.5 and reject(False, True) > 0.5
    assert reject(True, True) > 0.95
    # a lenient cooperative lends more often to a member who has repaid a defaulted loan
    assert clean < reject(False, True, SCREEN_PAST_DEFAULT_LENIENT) < reject(False, True)


def test_members_behind_apply_the_same_way_for_the_same_seed(tmp_path: Path) -> None:
    from features.pipeline import training_table

    config = GeneratorConfig(
        cooperatives=2, members_per_coop=500, months=36, start="2022-06", seed=5
    )
    a, b = tmp_path / "a", tmp_path / "b"
    generate_ledger(a, config, pii_key=PII_KEY, today=TODAY)
    generate_ledger(b, config, pii_key=PII_KEY, today=TODAY)
    ta, tb = _all_tables(a), _all_tables(b)
    for t in TABLE_ORDER:
        pdt.assert_frame_equal(ta[t], tb[t])
    pdt.assert_frame_equal(read_oracle(a), read_oracle(b))
    ledger = Ledger(a)
    behind = 0
    for part in ledger.partitions():
        tables = {t: part.table(t) for t in TABLE_ORDER}
        rows = training_table(tables, pd.Timestamp(ledger.as_of))
        behind += int(((rows["prior_loans_defaulted"] > 0) | (rows["current_dpd"] > 0)).sum())
    assert behind >= 10


def test_generator_refuses_bad_arguments_with_the_option_named() -> None:
    with pytest.raises(ValueError, match="--members-per-coop"):
        GeneratorConfig(members_per_coop=1).validate(TODAY)
    with pytest.raises(ValueError, match="--start must be YYYY-MM"):
        GeneratorConfig(start="2024/01").validate(TODAY)
    with pytest.raises(ValueError, match="in the future"):
        GeneratorConfig(start="2026-06", months=12).validate(TODAY)


def _imports_and_strings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.Name):
            found.add(node.id)
    return found


# The training command judges a trained model against the oracle through this one function,
# after training; nothing else outside the generator may read the oracle. (Showing figures
# that function computed, as the validation report does, is not reading it.)
ORACLE_EVALUATION = "features.generator.oracle_comparison.compare_with_oracle"
_ORACLE_READERS = ("read_oracle", "ORACLE_DIR", "true_pd", "has_oracle", "reason_fidelity")


def _reads_oracle(name: str) -> bool:
    return (
        (name.startswith("features.generator.") and "oracle" in name.lower())
        or name.endswith(_ORACLE_READERS)
        or "oracle/" in name
    )


def test_oracle_is_never_read_outside_the_generator() -> None:
    offenders = []
    for package in ("features", "models", "serving"):
        for path in (ROOT / package).rglob("*.py"):
            if path.is_relative_to(ROOT / "features" / "generator"):
                continue
            reads = {n for n in _imports_and_strings(path) if _reads_oracle(n)}
            allowed = {ORACLE_EVALUATION} if path == ROOT / "serving" / "cli.py" else set()
            if reads - allowed or (allowed and reads != allowed):
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(reads)}")
    assert offenders == []


def test_the_oracle_rule_catches_a_reader(tmp_path: Path) -> None:
    source = tmp_path / "reader.py"
    source.write_text("from features.generator.run import read_oracle\nx = 'oracle/loans-1'\n")
    assert {n for n in _imports_and_strings(source) if _reads_oracle(n)} == {
        "features.generator.run.read_oracle",
        "oracle/loans-1",
    }


def test_oracle_comparison_of_a_model_auc(small_ledger: Path, tmp_path: Path) -> None:
    import shutil

    from features.generator.oracle_comparison import compare_with_oracle

    oracle = read_oracle(small_ledger)
    closed = oracle[oracle["window_closed"]].reset_index(drop=True)
    y = closed["simulated_default_12m"].to_numpy()
    versus = compare_with_oracle(small_ledger, closed["loan_id"], y, model_auc=0.7)
    assert versus is not None
    expected = auc(closed["true_pd_12m"], y)
    assert versus["oracle_test_auc"] == pytest.approx(expected)
    assert versus["auc_share_of_oracle"] == pytest.approx(0.7 / expected)
    # a loan the oracle does not know, or a ledger without an oracle: nothing to compare
    unknown = pd.concat([closed["loan_id"], pd.Series(["KMP-9999-L0000001"])], ignore_index=True)
    assert compare_with_oracle(small_ledger, unknown, np.append(y, 1), 0.7) is None
    copy = tmp_path / "copy"
    shutil.copytree(small_ledger, copy)
    shutil.rmtree(copy / ORACLE_DIR)
    assert compare_with_oracle(copy, closed["loan_id"], y, 0.7) is None


def test_summary_is_the_same_without_the_oracle(tmp_path: Path, small_ledger: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(small_ledger, copy)
    shutil.rmtree(copy / ORACLE_DIR)
    with_oracle = summarise(Ledger(small_ledger))
    without = summarise(Ledger(copy))
    pdt.assert_frame_equal(with_oracle.by_profile, without.by_profile)
    assert with_oracle.rows == without.rows


def test_reader_loads_one_several_or_all_cooperatives_lazily(small_ledger: Path) -> None:
    ledger = Ledger(small_ledger)
    ids = ledger.cooperative_ids()
    assert ids == ["KMP-0001", "KMP-0002", "KMP-0003"]
    everything = ledger.read("members")
    two = ledger.read("members", ids[:2])
    assert set(two["cooperative_id"]) == set(ids[:2])
    assert len(two) + len(ledger.read("members", ids[2])) == len(everything)
    part = ledger.partition("KMP-0002")
    assert part._cache == {}  # nothing read until asked
    loans = part.table("loans")
    assert set(loans["cooperative_id"]) == {"KMP-0002"} and list(part._cache) == [
        ("loans", None, False)
    ]
    assert [p.cooperative_id for p in ledger.partitions()] == ids
    with pytest.raises(KeyError, match="unknown table"):
        ledger.read("shares")
    with pytest.raises(KeyError, match="no cooperative"):
        ledger.partition("KMP-9999")
