"""The loan form's declared monthly income and household expenses, and whether an officer
verified them: ledger contract, import (Indonesian and English headers, Rupiah text, ya/tidak),
quarantine, export round trip, the generator's declarations (over-stated, verified = truth,
some missing) without changing any other generated figure, the training table and the
serving request."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow.parquet as pq
import pytest

from features.application import (
    DECLARED_COLUMNS,
    LoanRequest,
    LoanRequestError,
    application_frame,
    application_record,
)
from features.catalog import feature_names
from features.generator.declarations import (
    DECLARATION_STREAM,
    NO_DECLARATION_SHARE,
    ROUND_TO,
    VERIFIED_SHARE,
)
from features.generator.places import place
from features.generator.run import GeneratorConfig, city_conditions, generate_ledger, read_oracle
from features.generator.simulate import simulate_cooperative
from features.ledger.contracts import (
    MAX_RUPIAH,
    TABLE_ORDER,
    TABLES,
    arrow_schema,
    conform,
    empty_frame,
    validate,
)
from features.ledger.exporter import export_ledger
from features.ledger.importer import import_ledger
from features.ledger.parsing import ParseError, parse_bool
from features.ledger.store import Ledger
from features.pipeline import training_table
from features.profile_builder import CATEGORICAL_TABLES, FIT_COLUMNS
from tests.conftest import PII_KEY, TODAY

# The generated ledger whose pre-existing columns were hashed BEFORE the declarations were
# added (commit 45aae1c): every one of them must stay bit-identical for the same seed.
HASHED_CONFIG = GeneratorConfig(
    cooperatives=2, members_per_coop=120, months=24, start="2023-06", seed=2024
)
OLD_LOAN_COLUMNS = [c for c in TABLES["loans"].column_names if c not in DECLARED_COLUMNS]
LEDGER_SHA256 = "855cb8f9548099a770689e1ef4712b78c0c64a00a756e7acdb810f44e474e977"
ORACLE_SHA256 = {
    "loans": "8a7a5d8d80de4a5115d96a7373a96e2a91a907ffce7a254512fea69f1ce3541a",
    "members": "e0ec1c1e7f52e85cb2895bb8d71eb6d8c245dfece78f58eccc5e4b571c8610b5",
}


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("declared") / "ledger"
    generate_ledger(out, HASHED_CONFIG, pii_key=PII_KEY, today=TODAY)
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- the contract


def test_the_loans_contract_has_three_optional_declaration_columns_after_purpose() -> None:
    loans = TABLES["loans"]
    names = loans.column_names
    at = names.index("purpose")
    assert tuple(names[at + 1 : at + 4]) == DECLARED_COLUMNS
    kinds = {c: (loans.column(c).kind, loans.column(c).required) for c in DECLARED_COLUMNS}
    assert kinds == {
        "declared_monthly_income": ("money", False),
        "declared_household_expenses": ("amount0", False),
        "income_verified": ("bool", False),
    }
    schema = arrow_schema("loans")
    assert [str(schema.field(c).type) for c in DECLARED_COLUMNS] == ["int64", "int64", "bool"]
    assert all(schema.field(c).nullable for c in DECLARED_COLUMNS)
    empty = empty_frame("loans")
    assert [str(empty[c].dtype) for c in DECLARED_COLUMNS] == ["Int64", "Int64", "boolean"]
    # required integer columns keep their plain dtype
    assert str(empty["principal"].dtype) == "int64"


def _one_loan(**declared: object) -> pd.DataFrame:
    row = {
        "loan_id": "P1", "member_id": "A1", "cooperative_id": "K1", "group_id": None,
        "application_date": pd.Timestamp("2025-08-10"), "disbursement_date": pd.NaT,
        "status": "rejected", "principal": 1_000_000, "tenor_months": 6,
        "flat_monthly_rate": 0.015, "effective_annual_rate": 0.1956,
        "product": "working_capital", "purpose": "stock", **declared,
    }  # fmt: skip
    return conform("loans", pd.DataFrame([row]))


def test_the_contract_checks_declared_figures_and_fills_an_absent_column() -> None:
    absent = _one_loan()  # a frame from before the columns existed
    assert absent[list(DECLARED_COLUMNS)].isna().all().all()
    validate("loans", absent)
    validate("loans", _one_loan(declared_household_expenses=0, income_verified=True))
    validate("loans", _one_loan(declared_monthly_income=MAX_RUPIAH))
    import pandera.errors

    for bad, rule in (
        ({"declared_monthly_income": 0}, r"declared_monthly_income.*greater_than\(0\)"),
        ({"declared_monthly_income": MAX_RUPIAH + 1}, r"declared_monthly_income.*less_than"),
        ({"declared_household_expenses": -1}, r"expenses.*greater_than_or_equal_to\(0\)"),
    ):
        with pytest.raises(pandera.errors.SchemaErrors, match=rule):
            validate("loans", _one_loan(**bad))
    with pytest.raises(KeyError):  # a required column is never filled in
        conform("loans", _one_loan().drop(columns="principal"))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("ya", True), ("Ya", True), ("IYA", True), ("y", True), ("yes", True), ("true", True),
        ("TRUE", True), ("1", True), ("sudah", True), ("Terverifikasi", True), (True, True),
        (1, True), (1.0, True), (np.bool_(True), True),
        ("tidak", False), ("Tidak", False), ("tdk", False), ("n", False), ("no", False),
        ("false", False), ("0", False), ("belum", False), ("Belum diverifikasi", False),
        (False, False), (0, False), (0.0, False),
    ],
)  # fmt: skip
def test_yes_no_words_in_indonesian_and_english(cell: object, expected: bool) -> None:
    assert parse_bool(cell) is expected


@pytest.mark.parametrize("cell", ["mungkin", "t", "f", "-", "2", 2, 0.5, "", None])
def test_anything_else_is_not_a_yes_no_answer(cell: object) -> None:
    with pytest.raises(ParseError, match="yes/no"):
        parse_bool(cell)


# ---------------------------------------------------------------- import


def _small_export(src: Path, loans_csv: str) -> Path:
    """One cooperative, two members and the given loans file (rejected loans: no schedule)."""
    _write(
        src / "koperasi.csv",
        "Kode Koperasi,Nama Koperasi,Kelurahan,Kota,Profil,Tanggal Berdiri\n"
        "KMP-TRT,Koperasi Teritip,Teritip,Kota Balikpapan,Pesisir,21/07/2025\n",
    )
    _write(
        src / "anggota.csv",
        "No Anggota,nik_hash,Nama Anggota,Jenis Kelamin,Tgl Masuk,Jenis Usaha\n"
        f"A-001,{'a' * 64},Siti,P,1 Agustus 2025,Nelayan\n"
        f"A-002,{'b' * 64},Budi,L,2025-08-02,Warung Kelontong\n",
    )
    _write(src / "pinjaman.csv", loans_csv)
    return src


_LOAN_HEAD = (
    "No Pinjaman,No Anggota,Tanggal Pengajuan,Tanggal Cair,Plafon,Tenor,Bunga,Produk,Tujuan"
)


def test_indonesian_headers_rupiah_text_and_ya_tidak_import_and_bad_cells_are_quarantined(
    tmp_path: Path,
) -> None:
    rows = [
        'P1,A-001,10/08/2025,,"Rp 3.500.000",6,"1,5%",Modal Usaha,Stok,"Rp 3.500.000","Rp 2.000.000",ya',
        'P2,A-002,11/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,"1,5 juta",0,Tidak',
        'P3,A-001,12/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,,,',
        'P4,A-002,13/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,"Rp 2.750.000",,',
        'P5,A-001,14/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,,"Rp 800.000",Y',
        'P6,A-002,15/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,"Rp 3.000.000","Rp 1.000.000",mungkin',
        'P7,A-001,16/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,"Rp 0",,',
        'P8,A-002,17/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,"Rp 2.000.000","-100.000",',
        'P9,A-001,18/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,"Rp 2.000.000,50",,',
        'P10,A-002,19/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,"2000000","Rp 1.000.000",TRUE',
    ]  # fmt: skip
    head = f"{_LOAN_HEAD},Penghasilan per Bulan (Rp),Pengeluaran Rumah Tangga,Diverifikasi Petugas"
    src = _small_export(tmp_path / "src", "\n".join([head, *rows]) + "\n")
    report = import_ledger(src, tmp_path / "ledger", key=PII_KEY, today=TODAY)
    assert report.reconciles
    loans_report = report.tables["loans"]
    assert (loans_report.read, loans_report.accepted, loans_report.quarantined) == (10, 6, 4)
    assert loans_report.ignored_columns == []
    ledger = Ledger(tmp_path / "ledger")
    loans = ledger.read("loans").set_index("loan_id")
    got = {
        i: tuple(None if pd.isna(v) else v for v in loans.loc[i, list(DECLARED_COLUMNS)])
        for i in loans.index
    }
    assert got == {
        "P1": (3_500_000, 2_000_000, True),
        "P2": (1_500_000, 0, False),
        "P3": (None, None, None),
        "P4": (2_750_000, None, None),  # income without expenses
        "P5": (None, 800_000, True),  # verified with no declared income: kept as written
        "P10": (2_000_000, 1_000_000, True),
    }
    assert [str(loans[c].dtype) for c in DECLARED_COLUMNS] == ["Int64", "Int64", "boolean"]
    q = ledger.quarantine("loans")
    assert q is not None
    rules = {
        row["loan_id"]: (row["_rule"], row["_column"]) for row in q.to_dict("records")
    }  # the raw cells are kept under the contract's names
    assert rules == {
        "P6": ("unparseable", "income_verified"),
        "P7": ("not_positive", "declared_monthly_income"),
        "P8": ("negative", "declared_household_expenses"),
        "P9": ("not_whole_rupiah", "declared_monthly_income"),
    }
    p6 = q.set_index("loan_id").loc["P6"]
    assert "'income_verified'" in p6["_reason_en"] and "yes/no" in p6["_reason_en"]
    assert "di kolom 'income_verified'" in p6["_reason_id"] and "'mungkin'" in p6["_reason_id"]
    assert p6["_source_row"] == 7 and p6["_source_file"] == "pinjaman.csv"


def test_english_headers_and_an_old_export_without_the_columns(tmp_path: Path) -> None:
    english = (
        "loan_id,member_id,application_date,disbursement_date,principal,tenor_months,"
        "flat_monthly_rate,product,purpose,Monthly income,Household expenses,Verified\n"
        'L1,A-001,2025-08-10,,2000000,6,0.02,working_capital,stock,"IDR 4,000,000",1500000,yes\n'
        "L2,A-002,2025-08-11,,2000000,6,0.02,working_capital,stock,3000000,,false\n"
    )
    src = _small_export(tmp_path / "en", english)
    import_ledger(src, tmp_path / "en-ledger", key=PII_KEY, today=TODAY)
    loans = Ledger(tmp_path / "en-ledger").read("loans").set_index("loan_id")
    assert loans.loc["L1", list(DECLARED_COLUMNS)].tolist() == [4_000_000, 1_500_000, True]
    assert loans.loc["L2", "declared_monthly_income"] == 3_000_000
    assert not pd.isna(loans.loc["L2", "income_verified"])
    assert not loans.loc["L2", "income_verified"]
    assert pd.isna(loans.loc["L2", "declared_household_expenses"])

    more = ["Penghasilan Usaha", "Biaya Rumah Tangga", "Terverifikasi"]
    alt = f"{_LOAN_HEAD},{','.join(more)}\nP1,A-001,10/08/2025,,1000000,3,1%,Modal Usaha,Stok,1 jt,500 rb,Tidak\n"
    import_ledger(
        _small_export(tmp_path / "alt", alt), tmp_path / "alt-ledger", PII_KEY, today=TODAY
    )
    alt_loans = Ledger(tmp_path / "alt-ledger").read("loans")
    assert alt_loans[list(DECLARED_COLUMNS)].iloc[0].tolist() == [1_000_000, 500_000, False]

    old = f"{_LOAN_HEAD}\nP1,A-001,10/08/2025,,1000000,3,1%,Modal Usaha,Stok\n"
    report = import_ledger(_small_export(tmp_path / "old", old), tmp_path / "old-ledger", PII_KEY, today=TODAY)  # fmt: skip
    assert report.reconciles
    assert (report.tables["loans"].read, report.tables["loans"].accepted) == (1, 1)
    old_loans = Ledger(tmp_path / "old-ledger").read("loans")
    assert old_loans[list(DECLARED_COLUMNS)].isna().all().all()


# ---------------------------------------------------------------- export round trip


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_export_then_import_keeps_the_declarations(tmp_path: Path, form: str) -> None:
    config = GeneratorConfig(
        cooperatives=2, members_per_coop=40, months=14, start="2024-02", seed=3
    )
    generate_ledger(tmp_path / "ledger", config, pii_key=PII_KEY, today=TODAY)
    loans = Ledger(tmp_path / "ledger").read("loans")
    # the generated ledger holds every kind of cell the round trip must keep
    verified = loans["income_verified"]
    assert verified.eq(True).any() and verified.eq(False).any() and verified.isna().any()
    assert loans["declared_household_expenses"].isna().any()
    target = tmp_path / ("export.xlsx" if form == "xlsx" else "export")
    export_ledger(tmp_path / "ledger", target)
    report = import_ledger(target, tmp_path / "back", key=PII_KEY, today=TODAY)
    assert all(t.quarantined == 0 for t in report.tables.values())
    back = Ledger(tmp_path / "back")
    for t in TABLE_ORDER:
        pdt.assert_frame_equal(Ledger(tmp_path / "ledger").read(t), back.read(t), obj=t)


def test_a_ledger_written_before_the_columns_reads_them_empty(
    ledger_dir: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    shutil.copytree(ledger_dir, old)
    for path in (old / "loans").glob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(list(DECLARED_COLUMNS)), path)
    ledger = Ledger(old)
    loans = ledger.read("loans")
    assert [str(loans[c].dtype) for c in DECLARED_COLUMNS] == ["Int64", "Int64", "boolean"]
    assert loans[list(DECLARED_COLUMNS)].isna().all().all()
    pdt.assert_frame_equal(
        loans[OLD_LOAN_COLUMNS], Ledger(ledger_dir).read("loans")[OLD_LOAN_COLUMNS]
    )
    part = ledger.partition(ledger.cooperative_ids()[0])
    tables = {
        t: part.table(t, FIT_COLUMNS.get(t), categorical=t in CATEGORICAL_TABLES)
        for t in TABLE_ORDER
    }
    rows = training_table(tables, ledger.as_of)
    assert rows[list(DECLARED_COLUMNS)].isna().all().all()


# ---------------------------------------------------------------- the generator


def _sha(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def test_every_pre_existing_generated_figure_is_bit_identical(ledger_dir: Path) -> None:
    ledger = Ledger(ledger_dir)
    digest = hashlib.sha256()
    for t in TABLE_ORDER:
        frame = ledger.read(t)
        if t == "loans":
            frame = frame[OLD_LOAN_COLUMNS]
        digest.update(t.encode())
        digest.update(frame.to_csv(index=False).encode())
    assert digest.hexdigest() == LEDGER_SHA256
    for what, expected in ORACLE_SHA256.items():
        assert _sha(read_oracle(ledger_dir, what)) == expected, what


def _simulate(with_declarations: bool) -> tuple[Any, np.random.Generator]:
    config = HASHED_CONFIG
    horizon = config.validate(TODAY)
    city, _ = city_conditions(config.seed, horizon)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0]))
    declaration_rng = np.random.default_rng(
        np.random.SeedSequence([config.seed, 0, DECLARATION_STREAM])
    )
    sim = simulate_cooperative(
        place(0), horizon, config.members_per_coop, city, rng, PII_KEY,
        declaration_rng if with_declarations else None,
    )  # fmt: skip
    return sim, rng


def test_the_declaration_step_never_draws_from_the_simulators_generator() -> None:
    with_step, rng_with = _simulate(True)
    without, rng_without = _simulate(False)
    # the main generator ends in the same state: the step drew nothing from it
    assert rng_with.bit_generator.state == rng_without.bit_generator.state
    for t in TABLE_ORDER:
        a, b = with_step.tables[t], without.tables[t]
        if t == "loans":
            declared = list(DECLARED_COLUMNS)
            assert b[declared].isna().all().all() and a[declared].notna().any().all()
            a, b = a.drop(columns=declared), b.drop(columns=declared)
        pdt.assert_frame_equal(a, b, obj=t)
    pdt.assert_frame_equal(with_step.oracle_loans, without.oracle_loans)
    pdt.assert_frame_equal(with_step.oracle_members, without.oracle_members)


def test_applicants_over_state_verified_figures_are_the_truth_and_some_declare_nothing(
    ledger_dir: Path,
) -> None:
    loans = Ledger(ledger_dir).read("loans")
    truth = read_oracle(ledger_dir, "applications")
    assert len(truth) == len(loans) and set(truth["loan_id"]) == set(loans["loan_id"])
    assert (truth["status"] == "rejected").any()  # rejected applications have their truth too
    rows = loans.merge(truth.drop(columns=["member_id", "cooperative_id", "status"]), on="loan_id")
    income = rows["declared_monthly_income"].astype("Float64").to_numpy("float64", na_value=np.nan)
    expenses = (
        rows["declared_household_expenses"].astype("Float64").to_numpy("float64", na_value=np.nan)
    )
    verified = rows["income_verified"]
    none = ~rows["declared"].to_numpy(bool)

    # no declaration: all three empty, as in an old export
    assert 0.03 < none.mean() < 0.2, none.mean()
    assert np.isnan(income[none]).all() and np.isnan(expenses[none]).all()
    assert verified[none].isna().all() and verified[~none].notna().all()
    assert pytest.approx(NO_DECLARATION_SHARE, abs=0.07) == none.mean()
    # every declared figure is whole Rp 100.000
    assert (income[~none] % ROUND_TO == 0).all()
    assert (expenses[~np.isnan(expenses)] % ROUND_TO == 0).all()

    # verified: corrected to the truth, rounded to Rp 100.000
    ok = verified.eq(True).fillna(False).to_numpy(bool)
    assert 0.25 < ok.sum() / (~none).sum() < 0.55
    assert pytest.approx(VERIFIED_SHARE, abs=0.12) == ok.sum() / (~none).sum()
    true_income = rows["true_monthly_income"].to_numpy()
    true_expenses = rows["true_household_expenses"].to_numpy()
    rounded = np.maximum(np.round(true_income / ROUND_TO) * ROUND_TO, ROUND_TO)
    np.testing.assert_array_equal(income[ok], rounded[ok])
    given = ok & ~np.isnan(expenses)
    np.testing.assert_array_equal(
        expenses[given], np.round(true_expenses[given] / ROUND_TO) * ROUND_TO
    )

    # unverified: over-stated on average, a sizeable minority by 20% or more; expenses
    # under-stated on average
    unverified = verified.eq(False).fillna(False).to_numpy(bool)
    ratio = income[unverified] / true_income[unverified]
    assert ratio.mean() > 1.05, ratio.mean()
    assert 0.15 < (ratio > 1.18).mean() < 0.5
    assert np.median(ratio) == pytest.approx(1.0, abs=0.06)  # most declare close to the truth
    spent = unverified & ~np.isnan(expenses)
    assert (expenses[spent] / true_expenses[spent]).mean() < 0.95
    assert rows.loc[unverified, "overstates_income"].any()
    # the truth is the latent business income, of which the ledger sees the part sold
    assert (true_income > 0).all() and (true_expenses > 0).all()


# ---------------------------------------------------------------- training table


def test_the_training_table_carries_the_declarations_as_float_non_features(
    ledger_dir: Path,
) -> None:
    ledger = Ledger(ledger_dir)
    part = ledger.partition(ledger.cooperative_ids()[1])
    tables = {
        t: part.table(t, FIT_COLUMNS.get(t), categorical=t in CATEGORICAL_TABLES)
        for t in TABLE_ORDER
    }
    rows = training_table(tables, ledger.as_of)
    assert not set(DECLARED_COLUMNS) & set(feature_names())
    assert [str(rows[c].dtype) for c in DECLARED_COLUMNS] == ["float64"] * 3
    loans = tables["loans"].set_index("loan_id").loc[rows["loan_id"]]
    for name in DECLARED_COLUMNS:
        expected = loans[name].astype("Float64").to_numpy("float64", na_value=np.nan)
        np.testing.assert_array_equal(rows[name].to_numpy(), expected, err_msg=name)
    assert set(rows["income_verified"].dropna()) == {0.0, 1.0}
    assert rows["income_verified"].isna().any()
    # a later policy reads them with pd.to_numeric: nothing to convert
    pdt.assert_series_equal(
        pd.to_numeric(rows["declared_monthly_income"]), rows["declared_monthly_income"]
    )


# ---------------------------------------------------------------- serving request

GOOD: dict[str, Any] = {
    "amount": 2_000_000,
    "tenor_months": 12,
    "purpose": "equipment",
    "flat_monthly_rate": 0.015,
    "application_date": date(2025, 7, 14),
}
PROFILE = {
    "member_id": "M1",
    "as_of": "2025-07-01",
    "estimated_monthly_income": 1e6,
    "sembako_spend_12m": 2e5,
    "existing_debt_service": 0.0,
}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("declared_monthly_income", 0, "declared_monthly_income: must be from 1 to 1000000000000 Rupiah"),
        ("declared_monthly_income", -5, "declared_monthly_income: must be from 1 to"),
        ("declared_monthly_income", MAX_RUPIAH + 1, "declared_monthly_income: must be from 1 to"),
        ("declared_monthly_income", 3_500_000.5, "declared_monthly_income: must be a whole number of Rupiah"),
        ("declared_monthly_income", "3,5 juta", "declared_monthly_income: must be a whole number"),
        ("declared_monthly_income", True, "declared_monthly_income: must be a whole number"),
        ("declared_household_expenses", -1, "declared_household_expenses: must be from 0 to 1000000000000 Rupiah"),
        ("declared_household_expenses", 0.5, "declared_household_expenses: must be a whole number"),
        ("income_verified", "mungkin", "income_verified: must be yes or no"),
        ("income_verified", 2, "income_verified: must be yes or no"),
    ],
)  # fmt: skip
def test_declared_fields_of_a_request_are_checked_naming_the_field(
    field: str, value: object, words: str
) -> None:
    with pytest.raises(LoanRequestError) as caught:
        LoanRequest(**{**GOOD, field: value})
    assert words in str(caught.value)


def test_a_request_carries_the_declarations_into_the_model_input() -> None:
    plain = LoanRequest(**GOOD)
    assert (plain.declared_monthly_income, plain.declared_household_expenses) == (None, None)
    assert plain.income_verified is None
    record = application_record(PROFILE, plain)
    assert all(record[c] is None for c in DECLARED_COLUMNS)

    request = LoanRequest(
        **GOOD,
        declared_monthly_income=np.int64(3_500_000),  # type: ignore[arg-type]
        declared_household_expenses=0,
        income_verified="ya",  # type: ignore[arg-type]
    )
    assert type(request.declared_monthly_income) is int and request.income_verified is True
    record = application_record(PROFILE, request)
    assert [record[c] for c in DECLARED_COLUMNS] == [3_500_000.0, 0.0, 1.0]
    assert LoanRequest(**GOOD, income_verified=False).income_verified is False
    assert LoanRequest(**GOOD, declared_monthly_income=float("nan")).declared_monthly_income is None


def test_a_batch_may_carry_declarations_and_a_bad_one_names_its_row() -> None:
    profiles = pd.DataFrame([PROFILE, {**PROFILE, "member_id": "M2"}])
    profiles["as_of"] = pd.to_datetime(profiles["as_of"])
    requests = pd.DataFrame(
        {
            "member_id": ["M1", "M2", "M1"],
            "amount": [1_000_000, 2_000_000, 3_000_000],
            "tenor_months": [6, 12, 6],
            "purpose": ["stok"] * 3,
            "flat_monthly_rate": [0.02] * 3,
            "application_date": ["2025-07-02"] * 3,
            "declared_monthly_income": [3_500_000, np.nan, 2_000_000.0],
            "declared_household_expenses": [None, 0, 750_000],
            "income_verified": ["ya", None, False],
        }
    )
    got = application_frame(profiles, requests)
    np.testing.assert_array_equal(got["declared_monthly_income"], [3.5e6, np.nan, 2e6])
    np.testing.assert_array_equal(got["declared_household_expenses"], [np.nan, 0.0, 7.5e5])
    np.testing.assert_array_equal(got["income_verified"], [1.0, np.nan, 0.0])
    assert [str(got[c].dtype) for c in DECLARED_COLUMNS] == ["float64"] * 3
    without = application_frame(profiles, requests.drop(columns=list(DECLARED_COLUMNS)))
    assert without[list(DECLARED_COLUMNS)].isna().all().all()
    with pytest.raises(LoanRequestError, match=r"row 2: income_verified: must be yes or no"):
        application_frame(profiles, requests.assign(income_verified=["ya", None, "mungkin"]))
    with pytest.raises(
        LoanRequestError, match=r"row 1: declared_monthly_income: must be from 1 to"
    ):
        application_frame(profiles, requests.assign(declared_monthly_income=[1e6, 0, None]))


@dataclass
class _Store:
    root: Path
    as_of: date

    def fetch(self, member_id: str) -> dict[str, Any] | None:
        return dict(PROFILE, cooperative_id="K1") if member_id == "M1" else None


class _Model:
    def predict_records(
        self, records: list[dict[str, Any]], lang: str | None = None
    ) -> list[dict[str, Any]]:
        self.records = records
        return [{"pd": 0.1, "rule_codes": [], "reasons": []}]

    def identity(self) -> dict[str, Any]:
        return {"name": "stub"}


def test_the_scored_answer_shows_the_declarations_in_its_request() -> None:
    from serving.scoring import score_application

    model = _Model()
    request = LoanRequest(**GOOD, declared_monthly_income=3_000_000, income_verified=False)
    answer = score_application(model, _Store(Path("."), date(2025, 7, 1)), "M1", request)  # type: ignore[arg-type]
    shown = answer["request"]
    assert shown["declared_monthly_income"] == 3_000_000
    assert shown["declared_household_expenses"] is None
    assert shown["income_verified"] is False
    assert model.records[0]["declared_monthly_income"] == 3_000_000.0
    assert model.records[0]["income_verified"] == 0.0
