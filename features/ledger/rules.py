"""What each quarantine rule says to the person who reads the import report (id / en)."""

from __future__ import annotations

from features.ledger.contracts import Rule
from features.ledger.rates import EFFECTIVE_RATE_TOLERANCE

_TOLERANCE_PP = f"{EFFECTIVE_RATE_TOLERANCE * 100:g}"
MAX_VALUE_CHARS = 60

MESSAGES: dict[Rule, tuple[str, str]] = {
    Rule.MISSING_COLUMN: (
        "Kolom wajib '{column}' tidak ada di file",
        "Required column '{column}' is missing from the file",
    ),
    Rule.MISSING_FIELD: ("Kolom '{column}' kosong", "'{column}' is empty"),
    Rule.UNPARSEABLE: (
        "Nilai '{value}' di kolom '{column}' tidak dapat dibaca ({detail})",
        "Value '{value}' in '{column}' cannot be read ({detail})",
    ),
    Rule.NOT_WHOLE_RUPIAH: (
        "Jumlah '{value}' di kolom '{column}' bukan Rupiah bulat",
        "Amount '{value}' in '{column}' is not a whole Rupiah",
    ),
    Rule.NOT_POSITIVE: (
        "Jumlah di kolom '{column}' harus lebih dari 0 (tertulis '{value}')",
        "'{column}' must be greater than 0 (got '{value}')",
    ),
    Rule.NEGATIVE: (
        "Jumlah di kolom '{column}' tidak boleh negatif (tertulis '{value}')",
        "'{column}' must not be negative (got '{value}')",
    ),
    Rule.OUT_OF_RANGE: (
        "Nilai '{value}' di kolom '{column}' di luar batas {detail}",
        "'{column}' value '{value}' is outside {detail}",
    ),
    Rule.NOT_IN_SET: (
        "Nilai '{value}' di kolom '{column}' tidak dikenal; pilihan: {detail}",
        "Unknown value '{value}' in '{column}'; allowed: {detail}",
    ),
    Rule.INVALID_NIK: (
        "NIK harus 16 angka (tertulis {detail} angka)",
        "NIK must be 16 digits (got {detail} digits)",
    ),
    Rule.INVALID_PERIOD: (
        "Periode '{value}' harus berupa bulan (mis. 2025-03)",
        "Period '{value}' must be a month (e.g. 2025-03)",
    ),
    Rule.DUPLICATE_ID: (
        "'{value}' sudah dipakai di baris {detail}",
        "'{value}' is already used on row {detail}",
    ),
    Rule.FUTURE_DATE: (
        "Tanggal '{value}' di kolom '{column}' ada di masa depan",
        "Date '{value}' in '{column}' is in the future",
    ),
    Rule.UNKNOWN_COOPERATIVE: (
        "Koperasi '{value}' tidak ada di tabel koperasi",
        "Cooperative '{value}' is not in the cooperatives table",
    ),
    Rule.UNKNOWN_MEMBER: (
        "Anggota '{value}' tidak ada di tabel anggota koperasi ini (atau dikarantina)",
        "Member '{value}' is not among this cooperative's accepted members",
    ),
    Rule.UNKNOWN_LOAN: (
        "Pinjaman '{value}' tidak ada di tabel pinjaman (atau dikarantina)",
        "Loan '{value}' is not among the accepted loans",
    ),
    Rule.MEMBER_MISMATCH: (
        "Anggota '{value}' bukan pemilik pinjaman ini ({detail})",
        "Member '{value}' does not own this loan ({detail})",
    ),
    Rule.BEFORE_JOIN: (
        "Tanggal '{value}' sebelum anggota bergabung ({detail})",
        "Date '{value}' is before the member joined ({detail})",
    ),
    Rule.DISBURSED_BEFORE_APPLICATION: (
        "Tanggal cair '{value}' sebelum tanggal pengajuan ({detail})",
        "Disbursement date '{value}' is before the application date ({detail})",
    ),
    Rule.STATUS_MISMATCH: (
        "Status '{value}' tidak cocok dengan tanggal cair ({detail})",
        "Status '{value}' does not match the disbursement date ({detail})",
    ),
    Rule.BEFORE_DISBURSEMENT: (
        "Tanggal '{value}' sebelum pinjaman dicairkan ({detail})",
        "Date '{value}' is before the loan was disbursed ({detail})",
    ),
    Rule.LOAN_NOT_DISBURSED: (
        "Pinjaman '{value}' tidak pernah dicairkan (ditolak)",
        "Loan '{value}' was never disbursed (rejected)",
    ),
    Rule.AMOUNT_MISMATCH: (
        "Jumlah angsuran '{value}' tidak sama dengan pokok + bunga ({detail})",
        "Instalment '{value}' is not principal + interest ({detail})",
    ),
    Rule.WITHDRAWAL_NOT_ALLOWED: (
        "Simpanan {value} tidak dapat ditarik; hanya sukarela",
        "{value} savings cannot be withdrawn; only sukarela can",
    ),
    Rule.NO_SCHEDULE: (
        "Pinjaman '{value}' sudah dicairkan tetapi tidak punya jadwal angsuran yang diterima "
        "(tanpa jadwal, keterlambatannya tidak dapat dinilai)",
        "Loan '{value}' was disbursed but has no accepted instalment schedule "
        "(without one its lateness cannot be judged)",
    ),
    Rule.RATE_MISMATCH: (
        "Bunga efektif '{value}' tidak sesuai dengan bunga flat dan tenor pinjaman: "
        f"seharusnya {{detail}} (selisih paling banyak {_TOLERANCE_PP.replace('.', ',')} "
        "poin persen)",
        "Effective rate '{value}' contradicts the loan's flat rate and tenor: expected "
        f"{{detail}} (at most {_TOLERANCE_PP} percentage points apart)",
    ),
}


def message(rule: Rule, column: str, value: str, detail: str = "") -> tuple[str, str]:
    """The reason for one quarantined row in Indonesian and English."""
    id_text, en_text = MESSAGES[rule]
    if len(value) > MAX_VALUE_CHARS:  # a pasted account number or a whole paragraph
        value = value[: MAX_VALUE_CHARS - 3] + "..."
    fields = {"column": column, "value": value, "detail": detail}
    return id_text.format(**fields), en_text.format(**fields)
