"""The quarantine workbook: the treasurer's own headers and cells, row numbers, reasons in
Indonesian, counts that reconcile with the import report, and no NIK or phone in clear."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from features.ledger.importer import ImportReport, import_ledger
from features.ledger.quarantine_book import (
    HIDDEN,
    SUMMARY_SHEET,
    quarantine_xlsx_bytes,
    write_quarantine_xlsx,
)
from features.ledger.store import LedgerNotFoundError
from serving.cli import app
from tests.conftest import PII_KEY, TODAY

KOPERASI = (
    "Kode Koperasi,Nama Koperasi,Kelurahan,Kecamatan,Kota,Profil,Tanggal Berdiri\n"
    "KMP-TRT,Koperasi Teritip,Teritip,Balikpapan Timur,Kota Balikpapan,Pesisir,21/07/2025\n"
)
ANGGOTA = (
    "No Anggota;Nama Anggota;NIK;Jenis Kelamin;Tgl Masuk;Jenis Usaha;No HP\n"
    "A1;Siti;6471014507880003;P;01/08/2025;Nelayan;0812-3456-7890\n"
    "A2;Budi;6471011203850007;L;01/08/2025;Tani;\n"
    "A3;=1+2;6471 0145 07;P;01/08/2025;Kue;0813-1111-2222\n"  # NIK of 10 digits
    "A4;Wati;;P;01/08/2025;Kue;\n"  # NIK left empty
)
# no disbursement date: every loan is rejected (status derived), so none needs a schedule
PINJAMAN = (
    "No Pinjaman,No Anggota,Tanggal Pengajuan,Tanggal Cair,Plafon,Tenor,Bunga,Produk,Tujuan\n"
    'P1,A1,10/08/2025,,"1.250.000",6,2%,Modal Usaha,Stok\n'
    'P2,A1,10/08/2025,,"Rp -1.250.000",6,2%,Modal Usaha,Stok\n'  # row 3: not positive
    'P3,A2,10/08/2025,,"1.250.000",dua,2%,Modal Usaha,Stok\n'  # row 4: tenor unreadable
    'P4,A3,10/08/2025,,"1.250.000",6,2%,Modal Usaha,Stok\n'  # row 5: member quarantined
)
CLEAR = ("6471014507880003", "6471011203850007", "6471 0145 07", "6471014507",
         "0812-3456-7890", "81234567890", "0813-1111-2222", "81311112222")  # fmt: skip


def _import(tmp_path: Path) -> tuple[Path, ImportReport]:
    src = tmp_path / "export"
    src.mkdir()
    (src / "01_koperasi.csv").write_text(KOPERASI, encoding="utf-8")
    (src / "Data Anggota.csv").write_text(ANGGOTA, encoding="utf-8")
    (src / "pinjaman.csv").write_text(PINJAMAN, encoding="utf-8")
    out = tmp_path / "ledger"
    return out, import_ledger(src, out, key=PII_KEY, today=TODAY)


def _rows(ws: Worksheet) -> dict[int, dict[str, object]]:
    """row number (Baris) -> {header: cell value} of one table sheet."""
    header = [c.value for c in ws[1]]
    rows = {}
    for line in ws.iter_rows(min_row=2, values_only=True):
        cells = dict(zip(header, line, strict=True))
        rows[int(str(cells["Baris"]))] = cells
    return rows


def test_the_workbook_shows_her_headers_cells_rows_and_reasons(tmp_path: Path) -> None:
    ledger, _ = _import(tmp_path)
    counts = write_quarantine_xlsx(ledger, tmp_path / "q.xlsx")
    assert counts == {"members": 2, "loans": 3}
    book = load_workbook(tmp_path / "q.xlsx")
    assert book.sheetnames == [SUMMARY_SHEET, "anggota", "pinjaman"]

    loans = book["pinjaman"]
    assert [c.value for c in loans[1]] == [
        "File",
        "Baris",
        "No Pinjaman",
        "No Anggota",
        "Tanggal Pengajuan",
        "Tanggal Cair",
        "Plafon",
        "Tenor",
        "Bunga",
        "Produk",
        "Tujuan",
        "Kolom bermasalah",
        "Alasan",
        "Reason (English)",
    ]  # fmt: skip  (no `principal`, no derived `status` or `cooperative_id`)
    assert loans["A1"].font.bold and loans.freeze_panes == "A2"
    rows = _rows(loans)
    assert sorted(rows) == [3, 4, 5]
    assert rows[3]["File"] == "pinjaman.csv"
    assert rows[3]["Plafon"] == "Rp -1.250.000"
    assert rows[3]["Kolom bermasalah"] == "Plafon"
    assert rows[3]["Alasan"] == "Jumlah di kolom 'Plafon' harus lebih dari 0 (tertulis '-1250000')"
    assert rows[3]["Reason (English)"] == "'Plafon' must be greater than 0 (got '-1250000')"
    assert rows[4]["Plafon"] == "1.250.000"  # text as typed, not the number 1.25
    assert rows[4]["Tenor"] == "dua"
    assert rows[4]["Kolom bermasalah"] == "Tenor"
    assert str(rows[4]["Alasan"]).startswith("Nilai 'dua' di kolom 'Tenor' tidak dapat dibaca")
    assert rows[5]["Kolom bermasalah"] == "No Anggota"
    assert rows[5]["Alasan"] == (
        "Anggota 'A3' tidak ada di tabel anggota koperasi ini (atau dikarantina)"
    )
    plafon = [c.value for c in loans[1]].index("Plafon") + 1
    assert all(loans.cell(r, plafon).data_type == "s" for r in range(2, loans.max_row + 1))

    members = _rows(book["anggota"])
    assert sorted(members) == [4, 5]
    assert members[4]["NIK"] == HIDDEN and members[4]["No HP"] == HIDDEN
    assert members[4]["Nama Anggota"] == "=1+2"
    names = book["anggota"]
    name_col = [c.value for c in names[1]].index("Nama Anggota") + 1
    assert names.cell(2, name_col).data_type == "s"  # text, never a formula ("f")
    assert members[4]["Kolom bermasalah"] == "NIK"
    assert members[4]["Alasan"] == "NIK harus 16 angka (tertulis 10 angka)"
    assert members[5]["NIK"] is None and members[5]["No HP"] is None  # left empty: shown empty
    assert members[5]["Alasan"] == "Kolom 'NIK' kosong"
    assert "nik_hash" not in members[4] and "phone_hash" not in members[4]


def test_counts_reconcile_with_the_import_report(tmp_path: Path) -> None:
    ledger, report = _import(tmp_path)
    counts = write_quarantine_xlsx(ledger, tmp_path / "q.xlsx")
    assert counts == {t: r.quarantined for t, r in report.tables.items() if r.quarantined}
    book = load_workbook(tmp_path / "q.xlsx")
    names = {"members": "anggota", "loans": "pinjaman"}
    summary: dict[tuple[str, str], int] = {}
    for table, rule, n in book[SUMMARY_SHEET].iter_rows(min_row=2, values_only=True):
        if isinstance(n, int):
            summary[(str(table), str(rule))] = n
    for table, name in names.items():
        assert book[name].max_row - 1 == report.tables[table].quarantined
        assert summary[(name, "(semua aturan)")] == report.tables[table].quarantined
        per_rule = {r: n for (t, r), n in summary.items() if t == name and r != "(semua aturan)"}
        assert per_rule == dict(report.tables[table].rules)
    assert report.tables["loans"].rules == {
        "not_positive": 1, "unparseable": 1, "unknown_member": 1,
    }  # fmt: skip


def test_no_nik_or_phone_in_clear_anywhere(tmp_path: Path) -> None:
    ledger, _ = _import(tmp_path)
    write_quarantine_xlsx(ledger, tmp_path / "q.xlsx")
    book = load_workbook(tmp_path / "q.xlsx")
    cells = " | ".join(
        str(v) for ws in book.worksheets for line in ws.iter_rows(values_only=True) for v in line
    )
    sidecars = " | ".join(p.read_text(encoding="utf-8") for p in ledger.rglob("*.json"))
    for clear in CLEAR:
        assert clear not in cells, clear
        assert clear not in sidecars, clear
    assert HIDDEN in cells


def test_the_bytes_are_the_same_workbook(tmp_path: Path) -> None:
    ledger, _ = _import(tmp_path)
    write_quarantine_xlsx(ledger, tmp_path / "q.xlsx")
    on_disk = load_workbook(tmp_path / "q.xlsx")
    in_memory = load_workbook(io.BytesIO(quarantine_xlsx_bytes(ledger)))
    assert in_memory.sheetnames == on_disk.sheetnames
    for name in on_disk.sheetnames:
        assert list(in_memory[name].values) == list(on_disk[name].values), name


def test_nothing_quarantined_gives_a_summary_that_says_so(tmp_path: Path) -> None:
    src = tmp_path / "export"
    src.mkdir()
    (src / "koperasi.csv").write_text(KOPERASI, encoding="utf-8")
    ledger = tmp_path / "ledger"
    report = import_ledger(src, ledger, key=PII_KEY, today=TODAY)
    assert all(t.quarantined == 0 for t in report.tables.values())
    assert write_quarantine_xlsx(ledger, tmp_path / "q.xlsx") == {}
    book = load_workbook(tmp_path / "q.xlsx")
    assert book.sheetnames == [SUMMARY_SHEET]
    text = " ".join(
        str(v) for line in book[SUMMARY_SHEET].iter_rows(values_only=True) for v in line
    )
    assert "Tidak ada baris yang dikarantina" in text


def test_a_folder_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerNotFoundError):
        write_quarantine_xlsx(tmp_path, tmp_path / "q.xlsx")


def test_the_cli_writes_the_workbook_and_refuses_bad_arguments(tmp_path: Path) -> None:
    ledger, _ = _import(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["quarantine", "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    assert "pinjaman (loans): 3 rows" in result.output
    assert "anggota (members): 2 rows" in result.output
    assert load_workbook(ledger / "quarantine.xlsx").sheetnames[1:] == ["anggota", "pinjaman"]

    custom = tmp_path / "out" / "Karantina.XLSX"
    result = runner.invoke(app, ["quarantine", "--ledger", str(ledger), "--out", str(custom)])
    assert result.exit_code == 0, result.output
    assert custom.is_file()

    for args, says in (
        (["--ledger", str(ledger), "--out", str(tmp_path / "q.txt")], ".xlsx"),
        (["--ledger", str(tmp_path / "export")], "not an Amanah ledger"),
        (["--ledger", str(tmp_path / "missing")], "not an Amanah ledger"),
    ):
        result = runner.invoke(app, ["quarantine", *args])
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert says in result.output and "Traceback" not in result.output
    assert not (tmp_path / "q.txt").exists()
