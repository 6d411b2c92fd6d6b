"""Names found in real cooperative exports, mapped to the contract.

Spreadsheets from cooperatives name things in Indonesian, in any case, with stray spaces,
units in brackets ("Jumlah (Rp)") and numbering ("No."). Everything is compared after
`normalise`, so each alias is written once in its plain form.
"""

from __future__ import annotations

import re
import unicodedata

from features.ledger.contracts import TABLES
from features.ledger.enums import (
    CoopProfile,
    Direction,
    Gender,
    LabelledEnum,
    LoanProduct,
    LoanPurpose,
    LoanStatus,
    PaymentMethod,
    ProduceCategory,
    SavingsKind,
    Sector,
)


def normalise(name: object) -> str:
    """Lower case, no BOM, no bracketed units, separators as single spaces."""
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "").lower()
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", text)
    text = re.sub(r"[_\-./:#]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


TABLE_ALIASES: dict[str, tuple[str, ...]] = {
    "cooperatives": ("koperasi", "data koperasi", "profil koperasi", "cooperative"),
    "members": ("anggota", "data anggota", "daftar anggota", "member"),
    "savings": ("simpanan", "transaksi simpanan", "saving", "tabungan"),
    "loans": ("pinjaman", "data pinjaman", "kredit", "loan", "pengajuan pinjaman"),
    "installments": ("angsuran", "jadwal angsuran", "jadwal", "installment", "schedule"),
    "repayments": ("pembayaran", "pembayaran angsuran", "setoran angsuran", "repayment"),
    "store_purchases": ("pembelian", "belanja", "gerai sembako", "transaksi gerai", "purchases"),
    "produce_sales": ("penjualan hasil", "hasil usaha", "pemasaran", "penjualan produk", "sales"),
}

# Columns that exports name differently; the contract name itself always matches too.
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "cooperative_id": ("id koperasi", "kode koperasi", "no koperasi"),
    "member_id": ("id anggota", "no anggota", "nomor anggota", "kode anggota", "no induk anggota"),
    "loan_id": ("id pinjaman", "no pinjaman", "nomor pinjaman", "kode pinjaman", "no kredit"),
    "date": ("tanggal", "tgl", "tanggal transaksi", "tgl transaksi", "tanggal bayar", "tgl bayar"),
    "amount": ("jumlah", "nominal", "nilai", "jumlah bayar", "total"),
    "group_id": ("kelompok", "id kelompok", "kelompok tanggung renteng", "kode kelompok"),
}

COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "cooperatives": {
        "name": ("nama koperasi", "nama"),
        "kelurahan": ("desa", "kelurahan desa", "desa kelurahan"),
        "kecamatan": ("kec",),
        "city": ("kota", "kabupaten", "kota kabupaten", "kab kota"),
        "profile": ("profil", "karakter", "potensi"),
        "established_date": ("tanggal berdiri", "tgl berdiri", "tanggal pendirian"),
    },
    "members": {
        "nik": ("nik", "no ktp", "nomor ktp", "nik ktp"),
        "phone": ("no hp", "nomor hp", "telepon", "no telepon", "hp", "phone", "no wa"),
        "name": ("nama", "nama anggota", "nama lengkap"),
        "gender": ("jenis kelamin", "jk", "l p", "kelamin"),
        "join_date": (
            "tanggal masuk",
            "tgl masuk",
            "tanggal bergabung",
            "tgl gabung",
            "tanggal daftar",
        ),
        "sector": ("usaha", "jenis usaha", "bidang usaha", "sektor", "pekerjaan"),
    },
    "savings": {
        "transaction_id": ("id transaksi", "no transaksi", "no bukti", "nomor bukti"),
        "kind": ("jenis simpanan", "jenis", "simpanan"),
        "direction": ("arah", "jenis transaksi", "transaksi", "setor tarik", "debet kredit"),
        "period": ("periode", "bulan", "untuk bulan"),
    },
    "loans": {
        "application_date": ("tanggal pengajuan", "tgl pengajuan", "tanggal permohonan"),
        "disbursement_date": ("tanggal cair", "tgl cair", "tanggal pencairan", "tgl pencairan"),
        "status": ("status pinjaman", "keputusan"),
        "principal": ("pokok pinjaman", "plafon", "jumlah pinjaman", "nilai pinjaman", "pokok"),
        "tenor_months": (
            "tenor",
            "jangka waktu",
            "lama pinjaman",
            "jangka waktu bulan",
            "tenor bulan",
        ),
        "flat_monthly_rate": ("bunga", "bunga per bulan", "bunga flat", "suku bunga", "jasa"),
        "effective_annual_rate": ("bunga efektif", "bunga efektif tahunan", "suku bunga efektif"),
        "product": ("produk", "jenis pinjaman"),
        "purpose": ("tujuan", "tujuan pinjaman", "keperluan", "penggunaan"),
        "declared_monthly_income": (
            "penghasilan per bulan",
            "penghasilan perbulan",
            "penghasilan bulanan",
            "penghasilan bulan",
            "penghasilan",
            "penghasilan usaha",
            "penghasilan usaha per bulan",
            "pendapatan per bulan",
            "pendapatan perbulan",
            "pendapatan bulanan",
            "pendapatan bulan",
            "pendapatan",
            "pendapatan usaha",
            "pendapatan usaha per bulan",
            "penghasilan yang dinyatakan",
            "monthly income",
            "income",
            "declared income",
            "declared monthly income",
        ),
        "declared_household_expenses": (
            "pengeluaran rumah tangga",
            "pengeluaran rumah tangga per bulan",
            "biaya rumah tangga",
            "biaya rumah tangga per bulan",
            "pengeluaran per bulan",
            "pengeluaran perbulan",
            "pengeluaran bulanan",
            "pengeluaran bulan",
            "pengeluaran",
            "biaya hidup",
            "household expenses",
            "monthly expenses",
            "expenses",
            "declared expenses",
            "declared household expenses",
        ),
        "income_verified": (
            "terverifikasi",
            "diverifikasi",
            "diverifikasi petugas",
            "sudah diverifikasi",
            "verifikasi",
            "verifikasi petugas",
            "verifikasi penghasilan",
            "penghasilan terverifikasi",
            "penghasilan diverifikasi",
            "verified",
            "income verified",
            "verified by officer",
        ),
    },
    "installments": {
        "installment_no": ("angsuran ke", "cicilan ke", "ke", "no angsuran"),
        "due_date": ("jatuh tempo", "tanggal jatuh tempo", "tgl jatuh tempo"),
        "principal_due": ("pokok", "angsuran pokok"),
        "interest_due": ("bunga", "jasa", "angsuran bunga"),
        "amount_due": ("jumlah angsuran", "total angsuran", "angsuran", "tagihan"),
    },
    "repayments": {
        "repayment_id": ("id pembayaran", "no pembayaran", "no bukti", "no kuitansi"),
    },
    "store_purchases": {
        "purchase_id": ("id pembelian", "no nota", "nomor nota", "no struk"),
        "payment": ("cara bayar", "pembayaran", "metode bayar", "tunai kredit"),
    },
    "produce_sales": {
        "sale_id": ("id penjualan", "no penjualan", "no nota"),
        "product": ("produk", "jenis produk", "komoditas", "barang"),
    },
}

# Columns an export may carry in clear that the ledger keeps only as keyed hashes.
HASHED_INPUTS: dict[str, dict[str, str]] = {"members": {"nik": "nik_hash", "phone": "phone_hash"}}


def column_lookup(table: str) -> dict[str, str]:
    """normalised header -> contract column (or a clear-text input such as `nik`)."""
    lookup: dict[str, str] = {}
    names = [c.name for c in TABLES[table].columns] + list(HASHED_INPUTS.get(table, {}))
    for column in names:
        lookup[normalise(column)] = column
        for alias in (*COMMON_ALIASES.get(column, ()), *COLUMN_ALIASES[table].get(column, ())):
            lookup.setdefault(normalise(alias), column)
    return lookup


def table_for_name(name: str) -> str | None:
    """The table a file or sheet name refers to ('02_Data Anggota 2025.csv' -> members).

    The longest alias found as whole words wins, so 'pembayaran angsuran' is repayments
    although it contains 'angsuran'.
    """
    key = normalise(re.sub(r"^\d+\s*[_\-. ]\s*", "", name))
    best: tuple[int, str] | None = None
    for table, aliases in TABLE_ALIASES.items():
        for alias in (table, *aliases):
            a = normalise(alias)
            if re.search(rf"(^| ){re.escape(a)}( |$)", key) and (best is None or len(a) > best[0]):
                best = (len(a), table)
    return best[1] if best else None


_VALUE_ALIASES: dict[type[LabelledEnum], dict[str, LabelledEnum]] = {
    Gender: {
        "l": Gender.MALE, "lk": Gender.MALE, "laki laki": Gender.MALE, "laki": Gender.MALE,
        "pria": Gender.MALE, "m": Gender.MALE, "p": Gender.FEMALE, "pr": Gender.FEMALE,
        "perempuan": Gender.FEMALE, "wanita": Gender.FEMALE, "f": Gender.FEMALE,
    },
    SavingsKind: {"sp": SavingsKind.POKOK, "sw": SavingsKind.WAJIB, "ss": SavingsKind.SUKARELA},
    Direction: {
        "setor": Direction.DEPOSIT, "setoran": Direction.DEPOSIT, "masuk": Direction.DEPOSIT,
        "kredit": Direction.DEPOSIT, "tarik": Direction.WITHDRAWAL,
        "tarikan": Direction.WITHDRAWAL, "penarikan": Direction.WITHDRAWAL,
        "keluar": Direction.WITHDRAWAL, "debet": Direction.WITHDRAWAL,
    },
    LoanStatus: {
        "cair": LoanStatus.DISBURSED, "dicairkan": LoanStatus.DISBURSED,
        "aktif": LoanStatus.DISBURSED, "lunas": LoanStatus.DISBURSED,
        "tolak": LoanStatus.REJECTED, "ditolak": LoanStatus.REJECTED,
    },
    LoanProduct: {
        "modal usaha": LoanProduct.WORKING_CAPITAL, "pinjaman usaha": LoanProduct.WORKING_CAPITAL,
        "reguler": LoanProduct.WORKING_CAPITAL, "musiman": LoanProduct.SEASONAL,
        "kelompok": LoanProduct.GROUP, "tanggung renteng": LoanProduct.GROUP,
        "darurat": LoanProduct.EMERGENCY,
    },
    LoanPurpose: {
        "modal kerja": LoanPurpose.RAW_MATERIALS, "bahan": LoanPurpose.RAW_MATERIALS,
        "alat usaha": LoanPurpose.EQUIPMENT, "peralatan": LoanPurpose.EQUIPMENT,
        "alat tangkap": LoanPurpose.FISHING_GEAR, "perahu": LoanPurpose.FISHING_GEAR,
        "stok": LoanPurpose.STOCK, "stok dagangan": LoanPurpose.STOCK,
        "perluasan usaha": LoanPurpose.BUSINESS_EXPANSION, "pendidikan": LoanPurpose.EDUCATION,
        "biaya sekolah": LoanPurpose.EDUCATION, "kesehatan": LoanPurpose.HEALTH,
        "berobat": LoanPurpose.HEALTH, "konsumsi": LoanPurpose.HOUSEHOLD,
        "rumah tangga": LoanPurpose.HOUSEHOLD,
    },
    PaymentMethod: {
        "tunai": PaymentMethod.CASH, "kontan": PaymentMethod.CASH, "kredit": PaymentMethod.CREDIT,
        "bon": PaymentMethod.CREDIT, "utang": PaymentMethod.CREDIT, "hutang": PaymentMethod.CREDIT,
    },
    Sector: {
        "nelayan": Sector.FISHER, "pengolahan ikan": Sector.SEAFOOD_PROCESSING,
        "olahan hasil laut": Sector.SEAFOOD_PROCESSING, "kue": Sector.SNACK_PRODUCTION,
        "camilan": Sector.SNACK_PRODUCTION, "tahu tempe": Sector.TOFU_TEMPEH,
        "tahu": Sector.TOFU_TEMPEH, "tempe": Sector.TOFU_TEMPEH, "warung makan": Sector.FOOD_STALL,
        "kelontong": Sector.RETAIL_TRADE, "warung kelontong": Sector.RETAIL_TRADE,
        "dagang": Sector.RETAIL_TRADE,
        "pedagang": Sector.RETAIL_TRADE, "jasa digital": Sector.DIGITAL_SERVICES,
        "petani": Sector.FARMING, "tani": Sector.FARMING, "kebun": Sector.FARMING,
    },
    ProduceCategory: {
        "ikan": ProduceCategory.FRESH_FISH, "olahan ikan": ProduceCategory.PROCESSED_SEAFOOD,
        "kue": ProduceCategory.SNACKS, "camilan": ProduceCategory.SNACKS,
        "tahu": ProduceCategory.TOFU_TEMPEH, "tempe": ProduceCategory.TOFU_TEMPEH,
        "sayur": ProduceCategory.FARM_PRODUCE, "sayuran": ProduceCategory.FARM_PRODUCE,
        "makanan": ProduceCategory.PREPARED_FOOD, "barang": ProduceCategory.GOODS,
        "jasa": ProduceCategory.SERVICES,
    },
    CoopProfile: {
        "pesisir": CoopProfile.COASTAL, "nelayan": CoopProfile.COASTAL,
        "produksi makanan": CoopProfile.FOOD_PRODUCTION, "perkotaan": CoopProfile.URBAN_TRADE,
        "perdagangan": CoopProfile.URBAN_TRADE, "pinggiran kota": CoopProfile.PERI_URBAN,
        "peri urban": CoopProfile.PERI_URBAN,
    },
}  # fmt: skip


def value_lookup(enum: type[LabelledEnum]) -> dict[str, str]:
    """normalised cell text -> enum value: the value, both labels, and the aliases above."""
    lookup: dict[str, str] = {}
    for member in enum:
        for text in (member.value, member.label_id, member.label_en):
            lookup[normalise(text)] = member.value
    for text, member in _VALUE_ALIASES.get(enum, {}).items():
        lookup[normalise(text)] = member.value
    return lookup
