"""Import of real-looking (messy) cooperative exports, quarantine, and the export round trip."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

from features.generator.run import GeneratorConfig, generate_ledger
from features.ledger.contracts import TABLE_ORDER
from features.ledger.exporter import export_ledger
from features.ledger.importer import LedgerImportError, import_ledger
from features.ledger.rates import effective_annual_rate, rate_contradicts
from features.ledger.sources import SourceError
from features.ledger.store import Ledger
from features.wording import MONTHS_ID
from serving.cli import app
from tests.conftest import PII_KEY, TODAY

NIK = "6471014507880003"


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)


def _assert_same_ledger(a: Path, b: Path) -> None:
    la, lb = Ledger(a), Ledger(b)
    assert la.cooperative_ids() == lb.cooperative_ids()
    for t in TABLE_ORDER:
        pdt.assert_frame_equal(la.read(t), lb.read(t), obj=t)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    cooperatives=st.integers(1, 2),
    members=st.integers(5, 25),
    months=st.integers(3, 10),
    form=st.sampled_from(["csv", "xlsx"]),
)
def test_export_then_import_gives_the_identical_ledger(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    cooperatives: int,
    members: int,
    months: int,
    form: str,
) -> None:
    base = tmp_path_factory.mktemp("rt")
    config = GeneratorConfig(cooperatives, members, months, "2024-02", seed)
    generate_ledger(base / "ledger", config, pii_key=PII_KEY, today=TODAY)
    target = base / ("export.xlsx" if form == "xlsx" else "export")
    export_ledger(base / "ledger", target)
    report = import_ledger(target, base / "back", key=PII_KEY, today=TODAY)
    assert all(t.quarantined == 0 for t in report.tables.values()), {
        t.table: dict(t.rules) for t in report.tables.values()
    }
    _assert_same_ledger(base / "ledger", base / "back")
    # the declared income, expenses and verification travel too (empty cells included)
    loans = Ledger(base / "back").read("loans")
    assert {"declared_monthly_income", "declared_household_expenses", "income_verified"} <= set(
        loans.columns
    )
    if len(loans):
        assert str(loans["income_verified"].dtype) == "boolean"


@pytest.fixture()
def messy_export(tmp_path: Path) -> Path:
    """A cooperative's export as it might really arrive: Indonesian headers, title rows,
    BOM, semicolons, Rupiah text, mixed date formats, blank trailing rows, and bad rows."""
    src = tmp_path / "export"
    _write(
        src / "01_koperasi.csv",
        "\ufeffDATA KOPERASI\n\nKode Koperasi,Nama Koperasi,Kelurahan,Kecamatan,Kota,Profil,Tanggal Berdiri\n"
        "KMP-TRT,Koperasi Kelurahan Merah Putih Teritip,Teritip,Balikpapan Timur,Kota Balikpapan,"
        "Pesisir,21/07/2025\n,,,,,,\n",
    )
    _write(
        src / "Data Anggota.csv",
        "No Anggota;  Nama Anggota ;NIK;Jenis Kelamin;Tgl Masuk;Jenis Usaha;Kelompok;No HP\n"
        "A-001;Siti Aminah;6471 0145 0788 0003;P;1 Agustus 2025;Nelayan;K1;0812-3456-7890\n"
        "A-002;Budi Santoso;6471011203850007;L;2025-08-02;Warung Kelontong;;\n"
        "A-003;Rina;12345;P;02/08/2025;Kue;K1;\n"  # NIK too short
        "A-001;Dup Member;6471011203850008;L;03/08/2025;Tani;;\n"  # duplicate id
        ";;;;;;;\n;;;;;;;\n",
    )
    _write(
        src / "simpanan.csv",
        "Judul: Transaksi Simpanan Agustus 2025\n"
        "No Bukti,No Anggota,Tanggal,Jenis Simpanan,Transaksi,Jumlah (Rp),Periode\n"
        'S1,A-001,01/08/2025,Simpanan Pokok,Setor,"Rp 100.000",\n'
        'S2,A-001,5 Agt 2025,Simpanan Wajib,Setor,"25.000,00",Agustus 2025\n'
        'S3,A-002,2025-08-06,wajib,setoran,"25,000",\n'  # period derived from the date
        'S4,A-002,07/08/2025,Sukarela,Setor,"Rp -50.000",\n'  # negative amount
        'S5,A-009,07/08/2025,Sukarela,Setor,"Rp 50.000",\n'  # unknown member
        'S6,A-001,07/08/2099,Sukarela,Setor,"Rp 50.000",\n'  # future date
        'S7,A-001,08/08/2025,Wajib,Tarik,"Rp 25.000",\n'  # wajib cannot be withdrawn
        'S8,A-001,tanggal?,Sukarela,Setor,"Rp 50.000",\n'  # unparseable date
        "S9,A-001,09/08/2025,Sukarela,Setor,,\n",  # missing amount
        encoding="utf-8-sig",
    )
    _write(
        src / "pinjaman.csv",
        "No Pinjaman,No Anggota,Tanggal Pengajuan,Tanggal Cair,Plafon,Tenor,Bunga,Produk,Tujuan,Kelompok\n"
        'P1,A-001,10/08/2025,12/08/2025,"Rp 3.000.000",3 bulan,"1,5%",Modal Usaha,Alat Tangkap,K1\n'
        'P2,A-002,10/08/2025,,"Rp 2.000.000",6,2%,Modal Usaha,Stok,\n'  # rejected: no date
        'P3,A-002,15/08/2025,12/08/2025,"Rp 2.000.000",6,2%,Modal Usaha,Stok,\n',  # cair < apply
    )
    _write(
        src / "pembayaran angsuran.csv",
        "No Kuitansi,No Pinjaman,Tanggal Bayar,Jumlah\n"
        'B1,P1,12/09/2025,"1.045.000"\n'
        'B2,P1,01/08/2025,"1.045.000"\n'  # before disbursement
        'B3,P9,12/09/2025,"1.045.000"\n'  # unknown loan
        'B4,P2,12/09/2025,"1.045.000"\n',  # loan never disbursed
    )
    wb = Workbook()
    ws = wb.active
    ws.title = "Jadwal Angsuran"
    ws.append(["JADWAL ANGSURAN PINJAMAN"])
    ws.merge_cells("A1:F1")
    ws.append(
        [
            "No Pinjaman",
            "Angsuran Ke",
            "Jatuh Tempo",
            "Angsuran Pokok",
            "Angsuran Bunga",
            "Jumlah Angsuran",
        ]
    )
    ws.append(["P1", 1, date(2025, 9, 12), 1_000_000, 45_000, 1_045_000])
    ws.append([None, 2, "12 Okt 2025", "Rp 1.000.000", "45.000", "1.045.000"])
    ws.append([None, 3, 45973, 1_000_000, 45_000, 1_045_000])  # Excel serial for 12 Nov 2025
    ws.merge_cells("A3:A5")  # the loan id is merged down its three instalments
    ws.append([None, None, None, None, None, None])
    sheet = wb.create_sheet("Catatan")
    sheet.append(["Ini bukan tabel", "hanya catatan"])
    wb.save(src / "angsuran.xlsx")
    return src


def test_messy_export_is_read_and_every_bad_row_quarantined_with_its_reason(
    tmp_path: Path, messy_export: Path
) -> None:
    out = tmp_path / "ledger"
    report = import_ledger(messy_export, out, key=PII_KEY, today=TODAY)
    assert report.reconciles
    counts = {t: (r.read, r.accepted, r.quarantined) for t, r in report.tables.items()}
    assert counts == {
        "cooperatives": (1, 1, 0),
        "members": (4, 2, 2),
        "savings": (9, 3, 6),
        "loans": (3, 2, 1),
        "installments": (3, 3, 0),
        "repayments": (4, 1, 3),
        "store_purchases": (0, 0, 0),
        "produce_sales": (0, 0, 0),
    }
    assert report.tables["members"].blank == 2
    assert report.tables["cooperatives"].blank == 1
    assert report.unrecognised == ["angsuran.xlsx:Catatan"]
    ledger = Ledger(out)
    q = {t: ledger.quarantine(t) for t in ("members", "savings", "loans", "repayments")}
    assert q["members"] is not None and q["savings"] is not None
    assert q["loans"] is not None and q["repayments"] is not None
    got = {
        t: sorted(zip(frame["_source_row"], frame["_rule"], frame["_column"], strict=True))
        for t, frame in q.items()
        if frame is not None
    }
    assert got == {
        "members": [(4, "invalid_nik", "nik"), (5, "duplicate_id", "member_id")],
        "savings": [
            (6, "not_positive", "amount"),
            (7, "unknown_member", "member_id"),
            (8, "future_date", "date"),
            (9, "withdrawal_not_allowed", "direction"),
            (10, "unparseable", "date"),
            (11, "missing_field", "amount"),
        ],
        "loans": [(4, "disbursed_before_application", "disbursement_date")],
        "repayments": [
            (3, "before_disbursement", "date"),
            (4, "unknown_loan", "loan_id"),
            (5, "loan_not_disbursed", "loan_id"),
        ],
    }
    savings_q = q["savings"].set_index("_source_row")
    assert "masa depan" in savings_q.loc[8, "_reason_id"]
    assert "in the future" in savings_q.loc[8, "_reason_en"]
    assert savings_q.loc[6, "_source_file"] == "simpanan.csv"
    assert (
        q["members"]
        .set_index("_source_row")
        .loc[5, "_reason_id"]
        .endswith("sudah dipakai di baris 2")
    )

    savings = ledger.read("savings").set_index("transaction_id")
    assert savings.loc["S1", "amount"] == 100_000
    assert savings.loc["S2", ["kind", "period"]].tolist() == ["wajib", "2025-08"]
    assert savings.loc["S3", ["amount", "period"]].tolist() == [25_000, "2025-08"]
    assert savings.loc["S2", "date"] == pd.Timestamp("2025-08-05")
    members = ledger.read("members").set_index("member_id")
    expected = hmac.new(PII_KEY, NIK.encode(), hashlib.sha256).hexdigest()
    assert members.loc["A-001", "nik_hash"] == expected
    assert members.loc["A-001", ["gender", "sector", "cooperative_id"]].tolist() == [
        "female",
        "fisher",
        "KMP-TRT",
    ]
    assert members.loc["A-002", "join_date"] == pd.Timestamp("2025-08-02")
    loans = ledger.read("loans").set_index("loan_id")
    assert loans.loc["P1", ["principal", "tenor_months", "flat_monthly_rate", "status"]].tolist() == [
        3_000_000, 3, 0.015, "disbursed",
    ]  # fmt: skip
    assert loans.loc["P2", "status"] == "rejected"
    assert 0.3 < loans.loc["P1", "effective_annual_rate"] < 0.4
    inst = ledger.read("installments")
    assert inst["loan_id"].tolist() == ["P1", "P1", "P1"]
    assert inst["due_date"].tolist() == [pd.Timestamp(f"2025-{m}-12") for m in (9, 10, 11)]
    assert (inst["member_id"] == "A-001").all()
    # no NIK or phone in clear anywhere in what was written
    for path in out.rglob("*.parquet"):
        text = pd.read_parquet(path).astype(str).to_string()
        for clear in (
            NIK,
            "6471 0145",
            "6471011203850007",
            "12345",
            "0812-3456-7890",
            "81234567890",
        ):
            assert clear not in text, (path, clear)


def test_a_folder_that_is_not_a_ledger_gets_one_clear_error(tmp_path: Path) -> None:
    _write(tmp_path / "src" / "notes.csv", "foo,bar\n1,2\n")
    with pytest.raises(
        SourceError, match=r"Expected CSV files or XLSX sheets.*members \(anggota\)"
    ):
        import_ledger(tmp_path / "src", tmp_path / "out", key=PII_KEY, today=TODAY)
    assert not (tmp_path / "out").exists()
    runner = CliRunner()
    result = runner.invoke(
        app, ["import", "--source", str(tmp_path / "src"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "No ledger table found" in result.output


def test_clear_nik_without_a_key_is_refused(tmp_path: Path, messy_export: Path) -> None:
    with pytest.raises(LedgerImportError, match="AMANAH_PII_KEY"):
        import_ledger(messy_export, tmp_path / "out", key=None, today=TODAY)


def test_import_does_not_overwrite_a_ledger_unless_asked(
    tmp_path: Path, messy_export: Path
) -> None:
    out = tmp_path / "ledger"
    import_ledger(messy_export, out, key=PII_KEY, today=TODAY)
    with pytest.raises(LedgerImportError, match="not empty"):
        import_ledger(messy_export, out, key=PII_KEY, today=TODAY)
    import_ledger(messy_export, out, key=PII_KEY, replace=True, today=TODAY)


_STYLES = {
    "dots": lambda n: f"{n:,}".replace(",", "."),
    "rp": lambda n: "Rp " + f"{n:,}".replace(",", "."),
    "rp_cents": lambda n: "Rp" + f"{n:,}".replace(",", ".") + ",00",
    "commas": lambda n: f"{n:,}",
    "commas_cents": lambda n: f"{n:,}.00",
    "plain": str,
}
_DATES = {
    "dmy": lambda d: d.strftime("%d/%m/%Y"),
    "iso": lambda d: d.isoformat(),
    "id_short": lambda d: f"{d.day} {MONTHS_ID[d.month - 1][:3]} {d.year}",
    "id_long": lambda d: f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}",
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.integers(1, 10**10),
    money_style=st.sampled_from(sorted(_STYLES)),
    day=st.dates(date(2025, 8, 1), date(2026, 6, 30)),
    date_style=st.sampled_from(sorted(_DATES)),
    pad=st.sampled_from(["", " ", "  \t"]),
)
def test_any_rupiah_and_date_format_imports_to_the_same_values(
    tmp_path_factory: pytest.TempPathFactory,
    amount: int,
    money_style: str,
    day: date,
    date_style: str,
    pad: str,
) -> None:
    src = tmp_path_factory.mktemp("fmt") / "src"
    _write(
        src / "koperasi.csv",
        "cooperative_id,name,kelurahan,city,profile,established_date\nK1,Kop,Manggar,Balikpapan,pesisir,2025-07-21\n",
    )
    _write(
        src / "anggota.csv",
        f"member_id,nik_hash,name,gender,join_date,sector\nA1,{'a' * 64},Siti,P,2025-07-30,Nelayan\n",
    )
    money = _STYLES[money_style](amount)
    when = _DATES[date_style](day)
    _write(
        src / "pembelian.csv",
        f'purchase_id,member_id,tanggal,jumlah,cara bayar\nG1,A1,{pad}{when}{pad},"{pad}{money}{pad}",Tunai\n',
    )
    out = src.parent / "ledger"
    report = import_ledger(src, out, key=PII_KEY, today=TODAY)
    assert report.tables["store_purchases"].accepted == 1, Ledger(out).quarantine("store_purchases")
    row = Ledger(out).read("store_purchases").iloc[0]
    assert row["amount"] == amount
    assert row["date"] == pd.Timestamp(day)
    assert row["cooperative_id"] == "K1"  # derived: the export holds a single cooperative


# ---------------------------------------------------------------- rules that protect the model

_KOPERASI = (
    "cooperative_id,name,kelurahan,city,profile,established_date\n"
    "K1,Kop,Manggar,Balikpapan,pesisir,2025-07-21\n"
)
_ANGGOTA = (
    "member_id,nik_hash,name,gender,join_date,sector\n"
    f"A1,{'a' * 64},Siti,P,2025-07-30,Nelayan\nA2,{'b' * 64},Budi,L,2025-07-30,Tani\n"
)
_LOAN_HEADER = (
    "loan_id,member_id,application_date,disbursement_date,principal,tenor_months,"
    "flat_monthly_rate,effective_annual_rate,product,purpose\n"
)
_SCHEDULE_HEADER = "loan_id,installment_no,due_date,principal_due,interest_due,amount_due\n"


def _ledger_export(src: Path, loans: str, schedule: str, repayments: str) -> Path:
    _write(src / "koperasi.csv", _KOPERASI)
    _write(src / "anggota.csv", _ANGGOTA)
    _write(src / "pinjaman.csv", _LOAN_HEADER + loans)
    _write(src / "jadwal angsuran.csv", _SCHEDULE_HEADER + schedule)
    _write(src / "pembayaran angsuran.csv", "repayment_id,loan_id,date,amount\n" + repayments)
    return src


def _quarantined(out: Path, table: str) -> dict[int, tuple[str, str, str, str]]:
    """source row -> (rule, column, reason id, reason en)"""
    q = Ledger(out).quarantine(table)
    assert q is not None, table
    cols = ["_rule", "_column", "_reason_id", "_reason_en"]
    return {int(r): tuple(v) for r, *v in q[["_source_row", *cols]].itertuples(index=False)}


def test_a_disbursed_loan_without_a_schedule_is_quarantined_and_so_are_its_repayments(
    tmp_path: Path,
) -> None:
    src = _ledger_export(
        tmp_path / "src",
        loans=(
            "P1,A1,01/08/2025,05/08/2025,2000000,2,1%,,modal usaha,stok\n"  # full schedule
            "P2,A1,01/08/2025,05/08/2025,2000000,2,1%,,modal usaha,stok\n"  # no schedule rows
            "P3,A2,01/08/2025,05/08/2025,2000000,2,1%,,modal usaha,stok\n"  # all rows bad
            "P4,A2,01/08/2025,,2000000,2,1%,,modal usaha,stok\n"  # rejected: no schedule needed
        ),
        schedule=(
            "P1,1,05/09/2025,1000000,20000,1020000\nP1,2,05/10/2025,1000000,20000,1020000\n"
            "P3,1,05/07/2025,1000000,20000,1020000\n"  # due before disbursement
            "P3,2,05/10/2025,1000000,20000,9999\n"  # not principal + interest
        ),
        repayments="B1,P1,05/09/2025,1020000\nB2,P2,05/09/2025,1020000\nB3,P3,06/09/2025,1020000\n",
    )
    out = tmp_path / "ledger"
    report = import_ledger(src, out, key=PII_KEY, today=TODAY)
    assert report.reconciles
    counts = {t: (r.read, r.accepted, r.quarantined) for t, r in report.tables.items()}
    assert counts["loans"] == (4, 2, 2)
    assert counts["installments"] == (4, 2, 2)
    assert counts["repayments"] == (3, 1, 2)
    assert counts["members"] == (2, 2, 0)
    assert report.tables["loans"].rules == {"no_schedule": 2}
    loans_q = _quarantined(out, "loans")
    assert sorted(loans_q) == [3, 4]  # P2 and P3
    rule, column, reason_id, reason_en = loans_q[3]
    assert (rule, column) == ("no_schedule", "loan_id")
    assert "'P2'" in reason_id and "jadwal angsuran" in reason_id
    assert "'P2'" in reason_en and "instalment schedule" in reason_en
    # the repayments of a quarantined loan follow it, as for any unknown loan
    assert {r: v[:2] for r, v in _quarantined(out, "repayments").items()} == {
        3: ("unknown_loan", "loan_id"),
        4: ("unknown_loan", "loan_id"),
    }
    ledger = Ledger(out)
    assert sorted(ledger.read("loans")["loan_id"]) == ["P1", "P4"]
    assert ledger.read("installments")["loan_id"].tolist() == ["P1", "P1"]
    assert ledger.read("repayments")["repayment_id"].tolist() == ["B1"]


def test_an_export_without_a_schedule_table_quarantines_every_disbursed_loan(
    tmp_path: Path,
) -> None:
    src = _ledger_export(
        tmp_path / "src",
        loans="P1,A1,01/08/2025,05/08/2025,2000000,2,1%,,modal usaha,stok\n"
        "P2,A2,01/08/2025,,2000000,2,1%,,modal usaha,stok\n",
        schedule="",
        repayments="B1,P1,05/09/2025,1020000\n",
    )
    (src / "jadwal angsuran.csv").unlink()
    report = import_ledger(src, tmp_path / "ledger", key=PII_KEY, today=TODAY)
    assert report.reconciles
    assert (report.tables["loans"].accepted, report.tables["loans"].rules) == (
        1,
        {"no_schedule": 1},
    )
    assert report.tables["repayments"].rules == {"unknown_loan": 1}


def _as_quoted(stated: str) -> str:
    """The stated rate as a reason quotes it: a percent with a decimal point."""
    return stated.replace(",", ".")


_ONE_AND_A_HALF_FOR_12 = 0.367583  # effective_annual_rate(0.015, 12)


@pytest.mark.parametrize(
    ("stated", "accepted"),
    [
        ("", True),  # empty: derived from the flat rate and tenor, no contradiction
        ("36,76%", True),
        ("36,8%", True),  # rounded to 0.1 percentage point
        ("36,7%", True),  # cut to 0.1 percentage point
        ("0.3676", True),  # a fraction
        ("36,65%", False),  # just over 0.1 percentage point off
        ("37%", False),  # rounded to a whole percent: 0.24 points off
        ("18%", False),  # the flat rate times 12
        ("1,5%", False),  # the flat monthly rate itself
    ],
)
def test_an_effective_rate_that_contradicts_flat_rate_and_tenor_is_quarantined(
    tmp_path: Path, stated: str, accepted: bool
) -> None:
    schedule = "".join(
        f"P1,{k},05/{(7 + k) % 12 + 1:02d}/{2025 + (7 + k) // 12},100000,15000,115000\n"
        for k in range(1, 13)
    )
    src = _ledger_export(
        tmp_path / "src",
        loans=f'P1,A1,01/08/2025,05/08/2025,1200000,12,"1,5%","{stated}",modal usaha,stok\n'
        'P2,A2,01/08/2025,,1200000,12,"1,5%",,modal usaha,stok\n',
        schedule=schedule,
        repayments="B1,P1,06/09/2025,115000\n",
    )
    out = tmp_path / "ledger"
    report = import_ledger(src, out, key=PII_KEY, today=TODAY)
    assert report.reconciles
    loans = Ledger(out).read("loans").set_index("loan_id")
    assert loans.loc["P2", "effective_annual_rate"] == pytest.approx(_ONE_AND_A_HALF_FOR_12)
    if accepted:
        assert report.tables["loans"].quarantined == 0
        assert report.tables["installments"].accepted == 12
        assert report.tables["repayments"].accepted == 1
        got = loans.loc["P1", "effective_annual_rate"]
        assert abs(got - _ONE_AND_A_HALF_FOR_12) <= 0.001 + 1e-9
        return
    rule, column, reason_id, reason_en = _quarantined(out, "loans")[2]
    assert (rule, column) == ("rate_mismatch", "effective_annual_rate")
    assert f"Effective rate '{_as_quoted(stated)}'" in reason_en
    assert "expected 36.7583%" in reason_en and "percentage point" in reason_en
    assert "seharusnya 36.7583%" in reason_id and "bunga flat dan tenor" in reason_id
    # its schedule and repayments follow the loan into quarantine; the rest still imports
    assert report.tables["installments"].rules == {"unknown_loan": 12}
    assert report.tables["repayments"].rules == {"unknown_loan": 1}
    assert list(loans.index) == ["P2"]
    assert report.tables["members"].accepted == 2


@settings(max_examples=60, deadline=None)
@given(flat_permille=st.integers(5, 100), tenor=st.integers(1, 60))
def test_a_treasurers_rounding_is_no_contradiction_and_a_flat_annual_rate_is(
    flat_permille: int, tenor: int
) -> None:
    flat = np.array([flat_permille / 1000])
    expected = effective_annual_rate(flat, np.array([tenor]))
    rounded, cut = np.round(expected, 3), np.floor(expected * 1000) / 1000  # to 0.1 point
    assert not rate_contradicts(rounded, expected).any()
    assert not rate_contradicts(cut, expected).any()
    assert rate_contradicts(12 * flat, expected).all()  # the flat annual rate, 0.5%+ a month
    assert rate_contradicts(expected + 0.0011, expected).all()


def _purchases_export(src: Path) -> Path:
    _write(src / "koperasi.csv", _KOPERASI)
    _write(src / "anggota.csv", _ANGGOTA)
    return src


# cell -> the rule it is quarantined by and the value its reason quotes: the cell as written
# when no int64 holds it, else the amount it was read as (as for every rule on amounts)
_TOO_LARGE = {
    "12345678901234567890": ("out_of_range", "12345678901234567890"),  # an account number
    "-98765432109876543210123": ("out_of_range", "-98765432109876543210123"),
    "9223372036854775808": ("out_of_range", "9223372036854775808"),  # int64 max + 1
    "1000000000001": ("out_of_range", "1000000000001"),  # one Rupiah over MAX_RUPIAH
    "Rp 9.999.999.999.999.999.999.999": ("out_of_range", "Rp 9.999.999.999.999.999.999.999"),
    "999999999 miliar": ("out_of_range", "999999999000000000"),
    "1e400": ("unparseable", "1e400"),  # not how any Rupiah amount is written
    "inf": ("unparseable", "inf"),
}


def test_amounts_too_large_for_a_ledger_are_quarantined_as_out_of_range(tmp_path: Path) -> None:
    src = _purchases_export(tmp_path / "src")
    rows = "".join(f'G{i},A1,05/08/2025,"{v}",Tunai\n' for i, v in enumerate(_TOO_LARGE))
    _write(
        src / "pembelian.csv",
        "purchase_id,member_id,tanggal,jumlah,cara bayar\n" + rows + "GMAX,A1,05/08/2025,"
        "1000000000000,Tunai\n",
    )
    _write(
        src / "pinjaman.csv",
        _LOAN_HEADER + "P1,A1,01/08/2025,,2000000,99999999999999999999,1%,,modal usaha,stok\n",
    )
    out = tmp_path / "ledger"
    report = import_ledger(src, out, key=PII_KEY, today=TODAY)
    assert report.reconciles
    q = _quarantined(out, "store_purchases")
    for row, (cell, (rule, shown)) in enumerate(_TOO_LARGE.items(), start=2):
        assert q[row][:2] == (rule, "amount"), cell
        assert f"'{shown}'" in q[row][2] and f"'{shown}'" in q[row][3], cell
        if rule == "out_of_range":
            assert q[row][3] == f"'amount' value '{shown}' is outside [1, 1000000000000]"
            assert (
                q[row][2] == f"Nilai '{shown}' di kolom 'amount' di luar batas [1, 1000000000000]"
            )
    assert Ledger(out).read("store_purchases")["amount"].tolist() == [10**12]  # the limit itself
    loan_rule = _quarantined(out, "loans")[2]
    assert loan_rule[:2] == ("out_of_range", "tenor_months")
    assert "outside [1, 60]" in loan_rule[3]


def test_huge_numeric_xlsx_cells_are_quarantined_not_a_crash(tmp_path: Path) -> None:
    src = _purchases_export(tmp_path / "src")
    wb = Workbook()
    ws = wb.active
    ws.title = "pembelian"
    ws.append(["purchase_id", "member_id", "date", "amount", "payment"])
    cells: list[object] = [10**25, -(10**25), 2**63, 1e300, -1e300, float("inf"), 1e-300]
    for i, amount in enumerate(cells):
        ws.append([f"G{i}", "A1", date(2025, 8, 5), amount, "cash"])
    ws.append(["GD", "A1", 10**25, 5000, "cash"])  # a huge number as a date
    wb.save(src / "pembelian.xlsx")
    out = tmp_path / "ledger"
    report = import_ledger(src, out, key=PII_KEY, today=TODAY)
    assert report.reconciles
    assert report.tables["store_purchases"].accepted == 0
    q = _quarantined(out, "store_purchases")
    assert [q[r][:2] for r in range(2, 7)] == [("out_of_range", "amount")] * 5
    assert q[7][:2] == ("missing_field", "amount")  # openpyxl reads an infinite cell as empty
    assert q[8][:2] == ("not_positive", "amount")  # 1e-300 is Rp 0 give or take float noise
    assert q[9][:2] == ("unparseable", "date")


def test_a_quote_left_open_in_a_csv_is_one_clear_error(tmp_path: Path) -> None:
    src = _purchases_export(tmp_path / "src")
    rest = "".join(f"G{i},A1,05/08/2025,5000,Tunai\n" for i in range(10_000))
    _write(src / "pembelian.csv", 'purchase_id,member_id,tanggal,jumlah,cara bayar\nG,A1,"5' + rest)
    with pytest.raises(SourceError, match=r"pembelian.csv cannot be read as CSV.*quote"):
        import_ledger(src, tmp_path / "ledger", key=PII_KEY, today=TODAY)


def test_a_utf16_csv_from_excel_is_read(tmp_path: Path) -> None:
    src = _purchases_export(tmp_path / "src")
    text = (
        "purchase_id\tmember_id\ttanggal\tjumlah\tcara bayar\nG1\tA1\t05/08/2025\tRp 5.000\tTunai\n"
    )
    (src / "pembelian.csv").write_bytes(text.encode("utf-16"))
    report = import_ledger(src, tmp_path / "ledger", key=PII_KEY, today=TODAY)
    assert report.tables["store_purchases"].accepted == 1
