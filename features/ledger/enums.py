"""Closed sets of the ledger: the one place their allowed values and labels are declared.

Values are English identifiers (what code and Parquet hold); each member carries the
Indonesian and English label an officer reads. Import aliases for the words found in real
cooperative spreadsheets live in `headers.py`.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members know their Indonesian and English labels."""

    @property
    def label_id(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]


class CoopProfile(LabelledEnum):
    COASTAL = "coastal"
    FOOD_PRODUCTION = "food_production"
    URBAN_TRADE = "urban_trade"
    PERI_URBAN = "peri_urban"


class Gender(LabelledEnum):
    FEMALE = "female"
    MALE = "male"


class Sector(LabelledEnum):
    FISHER = "fisher"
    SEAFOOD_PROCESSING = "seafood_processing"
    SNACK_PRODUCTION = "snack_production"
    TOFU_TEMPEH = "tofu_tempeh"
    FOOD_STALL = "food_stall"
    RETAIL_TRADE = "retail_trade"
    DIGITAL_SERVICES = "digital_services"
    FARMING = "farming"


class SavingsKind(LabelledEnum):
    POKOK = "pokok"
    WAJIB = "wajib"
    SUKARELA = "sukarela"


class Direction(LabelledEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class LoanStatus(LabelledEnum):
    DISBURSED = "disbursed"
    REJECTED = "rejected"


class LoanProduct(LabelledEnum):
    WORKING_CAPITAL = "working_capital"
    SEASONAL = "seasonal"
    GROUP = "group"
    EMERGENCY = "emergency"


class LoanPurpose(LabelledEnum):
    RAW_MATERIALS = "raw_materials"
    EQUIPMENT = "equipment"
    FISHING_GEAR = "fishing_gear"
    STOCK = "stock"
    BUSINESS_EXPANSION = "business_expansion"
    EDUCATION = "education"
    HEALTH = "health"
    HOUSEHOLD = "household"


class PaymentMethod(LabelledEnum):
    CASH = "cash"
    CREDIT = "credit"


class ProduceCategory(LabelledEnum):
    FRESH_FISH = "fresh_fish"
    PROCESSED_SEAFOOD = "processed_seafood"
    SNACKS = "snacks"
    TOFU_TEMPEH = "tofu_tempeh"
    FARM_PRODUCE = "farm_produce"
    PREPARED_FOOD = "prepared_food"
    GOODS = "goods"
    SERVICES = "services"


_LABELS: dict[LabelledEnum, tuple[str, str]] = {
    CoopProfile.COASTAL: (
        "Pesisir: perikanan dan olahan hasil laut",
        "Coastal: fisheries and seafood",
    ),
    CoopProfile.FOOD_PRODUCTION: ("Produksi makanan dan camilan", "Snack and food production"),
    CoopProfile.URBAN_TRADE: ("Perdagangan dan jasa perkotaan", "Dense-urban trade and services"),
    CoopProfile.PERI_URBAN: ("Pinggiran kota", "Peri-urban"),
    Gender.FEMALE: ("Perempuan", "Female"),
    Gender.MALE: ("Laki-laki", "Male"),
    Sector.FISHER: ("Nelayan", "Fisher"),
    Sector.SEAFOOD_PROCESSING: ("Pengolahan hasil laut", "Seafood processing"),
    Sector.SNACK_PRODUCTION: ("Produksi kue dan camilan", "Snack production"),
    Sector.TOFU_TEMPEH: ("Perajin tahu dan tempe", "Tofu and tempeh making"),
    Sector.FOOD_STALL: ("Warung makan", "Food stall"),
    Sector.RETAIL_TRADE: ("Warung kelontong dan dagang", "Retail trade"),
    Sector.DIGITAL_SERVICES: ("Jasa digital", "Digital services"),
    Sector.FARMING: ("Pertanian dan kebun", "Farming"),
    SavingsKind.POKOK: ("Simpanan pokok", "Principal savings (pokok)"),
    SavingsKind.WAJIB: ("Simpanan wajib", "Mandatory savings (wajib)"),
    SavingsKind.SUKARELA: ("Simpanan sukarela", "Voluntary savings (sukarela)"),
    Direction.DEPOSIT: ("Setoran", "Deposit"),
    Direction.WITHDRAWAL: ("Penarikan", "Withdrawal"),
    LoanStatus.DISBURSED: ("Dicairkan", "Disbursed"),
    LoanStatus.REJECTED: ("Ditolak", "Rejected"),
    LoanProduct.WORKING_CAPITAL: ("Pinjaman modal usaha", "Working-capital loan"),
    LoanProduct.SEASONAL: ("Pinjaman musiman", "Seasonal loan"),
    LoanProduct.GROUP: ("Pinjaman kelompok tanggung renteng", "Joint-liability group loan"),
    LoanProduct.EMERGENCY: ("Pinjaman darurat", "Emergency loan"),
    LoanPurpose.RAW_MATERIALS: ("Bahan baku", "Raw materials"),
    LoanPurpose.EQUIPMENT: ("Peralatan usaha", "Business equipment"),
    LoanPurpose.FISHING_GEAR: ("Perahu dan alat tangkap", "Boat and fishing gear"),
    LoanPurpose.STOCK: ("Stok barang dagangan", "Trading stock"),
    LoanPurpose.BUSINESS_EXPANSION: ("Pengembangan usaha", "Business expansion"),
    LoanPurpose.EDUCATION: ("Biaya pendidikan", "Education"),
    LoanPurpose.HEALTH: ("Biaya kesehatan", "Health"),
    LoanPurpose.HOUSEHOLD: ("Kebutuhan rumah tangga", "Household needs"),
    PaymentMethod.CASH: ("Tunai", "Cash"),
    PaymentMethod.CREDIT: ("Kredit (bon)", "On credit"),
    ProduceCategory.FRESH_FISH: ("Ikan segar", "Fresh fish"),
    ProduceCategory.PROCESSED_SEAFOOD: ("Olahan hasil laut", "Processed seafood"),
    ProduceCategory.SNACKS: ("Kue dan camilan", "Snacks"),
    ProduceCategory.TOFU_TEMPEH: ("Tahu dan tempe", "Tofu and tempeh"),
    ProduceCategory.FARM_PRODUCE: ("Hasil tani", "Farm produce"),
    ProduceCategory.PREPARED_FOOD: ("Makanan jadi", "Prepared food"),
    ProduceCategory.GOODS: ("Barang dagangan", "Goods"),
    ProduceCategory.SERVICES: ("Jasa", "Services"),
}
