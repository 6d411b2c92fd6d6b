"""The latent economy of a synthetic cooperative: who does what, earns what, and when.

Figures are plausible for Balikpapan micro-entrepreneurs (monthly turnover a few juta
Rupiah) and are assumptions of the generator, not statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from features.ledger.enums import CoopProfile, LoanPurpose, ProduceCategory, Sector

FloatArray = npt.NDArray[np.float64]

# Idul Fitri month by year: snack and retail demand peaks the month before and of it.
IDUL_FITRI_MONTH: dict[int, int] = {
    2018: 6, 2019: 6, 2020: 5, 2021: 5, 2022: 5, 2023: 4, 2024: 4, 2025: 3,
    2026: 3, 2027: 3, 2028: 2, 2029: 2, 2030: 2, 2031: 1, 2032: 1, 2033: 1,
}  # fmt: skip


@dataclass(frozen=True)
class SectorEconomics:
    """Monthly turnover (median, Rupiah), its volatility and how it moves over the year."""

    median_income: float
    volatility: float
    female_share: float
    coop_sales_share: float
    produce: ProduceCategory
    purposes: tuple[LoanPurpose, ...]
    lean_months: tuple[int, ...] = ()
    lean_factor: float = 1.0
    festive_factor: float = 1.0
    year_end_factor: float = 1.0
    harvest_months: tuple[int, ...] = ()


SECTORS: dict[Sector, SectorEconomics] = {
    Sector.FISHER: SectorEconomics(
        3_600_000, 0.35, 0.10, 0.60, ProduceCategory.FRESH_FISH,
        (LoanPurpose.FISHING_GEAR, LoanPurpose.EQUIPMENT, LoanPurpose.HOUSEHOLD),
        lean_months=(12, 1, 2), lean_factor=0.45,
    ),
    Sector.SEAFOOD_PROCESSING: SectorEconomics(
        3_200_000, 0.25, 0.70, 0.55, ProduceCategory.PROCESSED_SEAFOOD,
        (LoanPurpose.RAW_MATERIALS, LoanPurpose.EQUIPMENT, LoanPurpose.BUSINESS_EXPANSION),
        lean_months=(12, 1, 2), lean_factor=0.70, festive_factor=1.30,
    ),
    Sector.SNACK_PRODUCTION: SectorEconomics(
        2_600_000, 0.25, 0.80, 0.50, ProduceCategory.SNACKS,
        (LoanPurpose.RAW_MATERIALS, LoanPurpose.EQUIPMENT, LoanPurpose.BUSINESS_EXPANSION),
        festive_factor=1.55, year_end_factor=1.30,
    ),
    Sector.TOFU_TEMPEH: SectorEconomics(
        3_000_000, 0.15, 0.40, 0.45, ProduceCategory.TOFU_TEMPEH,
        (LoanPurpose.RAW_MATERIALS, LoanPurpose.EQUIPMENT),
    ),
    Sector.FOOD_STALL: SectorEconomics(
        3_400_000, 0.20, 0.60, 0.30, ProduceCategory.PREPARED_FOOD,
        (LoanPurpose.STOCK, LoanPurpose.EQUIPMENT, LoanPurpose.HOUSEHOLD),
        festive_factor=0.85,
    ),
    Sector.RETAIL_TRADE: SectorEconomics(
        4_000_000, 0.15, 0.55, 0.25, ProduceCategory.GOODS,
        (LoanPurpose.STOCK, LoanPurpose.BUSINESS_EXPANSION, LoanPurpose.EDUCATION),
        festive_factor=1.25, year_end_factor=1.10,
    ),
    Sector.DIGITAL_SERVICES: SectorEconomics(
        4_400_000, 0.30, 0.40, 0.20, ProduceCategory.SERVICES,
        (LoanPurpose.EQUIPMENT, LoanPurpose.BUSINESS_EXPANSION, LoanPurpose.EDUCATION),
    ),
    Sector.FARMING: SectorEconomics(
        2_500_000, 0.35, 0.35, 0.50, ProduceCategory.FARM_PRODUCE,
        (LoanPurpose.RAW_MATERIALS, LoanPurpose.EQUIPMENT, LoanPurpose.HEALTH),
        lean_months=(10, 11), lean_factor=0.70, harvest_months=(3, 4, 8),
    ),
}  # fmt: skip

SECTOR_ORDER: tuple[Sector, ...] = tuple(SECTORS)

PROFILE_SECTOR_MIX: dict[CoopProfile, dict[Sector, float]] = {
    CoopProfile.COASTAL: {
        Sector.FISHER: 0.45, Sector.SEAFOOD_PROCESSING: 0.30, Sector.FOOD_STALL: 0.10,
        Sector.RETAIL_TRADE: 0.10, Sector.SNACK_PRODUCTION: 0.05,
    },
    CoopProfile.FOOD_PRODUCTION: {
        Sector.SNACK_PRODUCTION: 0.35, Sector.TOFU_TEMPEH: 0.20, Sector.FOOD_STALL: 0.20,
        Sector.RETAIL_TRADE: 0.15, Sector.SEAFOOD_PROCESSING: 0.05, Sector.DIGITAL_SERVICES: 0.05,
    },
    CoopProfile.URBAN_TRADE: {
        Sector.RETAIL_TRADE: 0.35, Sector.FOOD_STALL: 0.20, Sector.DIGITAL_SERVICES: 0.25,
        Sector.SNACK_PRODUCTION: 0.15, Sector.TOFU_TEMPEH: 0.05,
    },
    CoopProfile.PERI_URBAN: {
        Sector.FARMING: 0.40, Sector.RETAIL_TRADE: 0.20, Sector.TOFU_TEMPEH: 0.10,
        Sector.FOOD_STALL: 0.10, Sector.SNACK_PRODUCTION: 0.10, Sector.FISHER: 0.10,
    },
}  # fmt: skip

# Baseline risk of each profile beyond what sectors explain (local economy, distance to
# markets), on the log-odds scale of the monthly stop hazard.
PROFILE_RISK_OFFSET: dict[CoopProfile, float] = {
    CoopProfile.COASTAL: 0.25,
    CoopProfile.FOOD_PRODUCTION: 0.0,
    CoopProfile.URBAN_TRADE: -0.35,
    CoopProfile.PERI_URBAN: 0.15,
}


def idul_fitri_month(year: int) -> int:
    """Month of Idul Fitri; outside the table it moves ~11 days earlier each year."""
    if year in IDUL_FITRI_MONTH:
        return IDUL_FITRI_MONTH[year]
    anchor = 2025 if year < 2018 else 2033
    shift = round((year - anchor) * 11 / 30.4)
    return (IDUL_FITRI_MONTH[anchor] - 1 - shift) % 12 + 1


def seasonality(
    sector: Sector, years: npt.NDArray[np.int64], months: npt.NDArray[np.int64]
) -> FloatArray:
    """Multiplicative income factor of a sector for each (year, month) pair; mean about 1."""
    econ = SECTORS[sector]
    factor = np.ones(len(months), dtype=np.float64)
    if econ.lean_months:
        factor[np.isin(months, econ.lean_months)] *= econ.lean_factor
    if econ.harvest_months:
        factor[np.isin(months, econ.harvest_months)] *= 1.30
    if econ.festive_factor != 1.0:
        fitri = np.array([idul_fitri_month(int(y)) for y in years])
        before = (fitri - 2) % 12 + 1
        festive = (months == fitri) | (months == before)
        factor[festive] *= econ.festive_factor
    if econ.year_end_factor != 1.0:
        factor[months == 12] *= econ.year_end_factor
    return factor
