"""Import of real-looking (messy) cooperative exports, quarantine, and the export round trip."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path

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
