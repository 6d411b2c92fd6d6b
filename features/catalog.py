"""The feature catalog: one declaration per model feature, with the officer's wording.

Every feature the scoring model sees is declared here exactly once, in model order. A
declaration says what the value means, its unit and look-back window, which of the 5C it
belongs to (Character, Capacity, Capital, Collateral, Condition), the expected direction of
its effect on risk (used as a monotone constraint), and the reason texts an officer reads
when the feature raises or lowers the member's risk.

Conventions (see DOMAIN.md, "How reasons are phrased"):

* T is the as-of date (the application date). "Before T" means events dated strictly before
  T; monthly windows are the full calendar months before T's month.
* Reason texts name the member's own value and period and never say "score too low". Each
  template contains ``{value}`` exactly once; :func:`reason_text` fills it with
  :func:`format_value`, so Rupiah reads "Rp 1.250.000" and Indonesian decimals use a comma.
* ``monotone`` is relative to RISK: +1 means a higher value gives higher risk, -1 a lower
  risk, 0 no constraint (always 0 for categorical features).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal

from features.ledger.parsing import MONTHS_ID, format_rupiah

__all__ = [
    "CATALOG",
    "PROTECTED_ATTRIBUTES",
    "Feature",
    "FiveC",
    "Lang",
    "ValueUnit",
    "categorical_names",
    "feature",
    "feature_names",
    "format_value",
    "monotone_constraints",
    "reason_text",
]

Lang = Literal["id", "en"]
ValueUnit = Literal[
    "count",
    "months",
    "days",
    "share",
    "rate",
    "rupiah",
    "ratio",
    "flag",
    "category",
    "month_of_year",
]

# Never model features (DOMAIN.md, "Fairness"): the model must not see these attributes or
# a direct proxy of them. They are kept only so that fairness tests can compare outcomes
# across groups; no catalog feature may be named after one.
PROTECTED_ATTRIBUTES: tuple[str, ...] = ("gender", "religion", "ethnicity", "kelurahan")


class FiveC(StrEnum):
    """The 5C of credit that officers use to group reasons."""

    CHARACTER = "character"
    CAPACITY = "capacity"
    CAPITAL = "capital"
    COLLATERAL = "collateral"
    CONDITION = "condition"

    @property
    def label_id(self) -> str:
        return _FIVE_C_LABELS_ID[self]

    @property
    def label_en(self) -> str:
        return _FIVE_C_LABELS_EN[self]


_FIVE_C_LABELS_ID: dict[FiveC, str] = {
    FiveC.CHARACTER: "Watak",
    FiveC.CAPACITY: "Kemampuan",
    FiveC.CAPITAL: "Modal",
    FiveC.COLLATERAL: "Jaminan",
    FiveC.CONDITION: "Kondisi",
}
_FIVE_C_LABELS_EN: dict[FiveC, str] = {
    FiveC.CHARACTER: "Character",
    FiveC.CAPACITY: "Capacity",
    FiveC.CAPITAL: "Capital",
    FiveC.COLLATERAL: "Collateral",
    FiveC.CONDITION: "Condition",
}

VALUE_PLACEHOLDER = "{value}"


@dataclass(frozen=True)
class Feature:
    """One model feature and how to explain it to an officer."""

    name: str
    dtype: Literal["float", "category"]
    unit: ValueUnit
    window_months: int | None  # look-back window, None if not windowed
    group: FiveC
    monotone: Literal[-1, 0, 1]  # direction relative to RISK: +1 = higher value, higher risk
    description_id: str
    description_en: str
    raises_risk_id: str  # reason text when this feature raises risk; contains "{value}"
    raises_risk_en: str
    lowers_risk_id: str  # favourable reason text; contains "{value}"
    lowers_risk_en: str
    thin_file: bool = False


# ----------------------------------------------------------------------------- catalog

CATALOG: tuple[Feature, ...] = (
    # ------------------------------------------------------------------- CHARACTER (watak)
    Feature(
        name="share_instalments_on_time_6m",
        dtype="float",
        unit="share",
        window_months=6,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id=(
            "Porsi angsuran yang jatuh tempo dalam 6 bulan terakhir yang dibayar penuh "
            "paling lambat pada tanggal jatuh tempo."
        ),
        description_en=(
            "Share of the member's instalments due in the last 6 months that were paid in "
            "full on or before the due date."
        ),
        raises_risk_id="Hanya {value} angsuran dalam 6 bulan terakhir dibayar penuh tepat waktu.",
        raises_risk_en=(
            "Only {value} of instalments due in the last 6 months were paid in full on time."
        ),
        lowers_risk_id="{value} angsuran dalam 6 bulan terakhir dibayar penuh tepat waktu.",
        lowers_risk_en="{value} of instalments due in the last 6 months were paid in full on time.",
    ),
    Feature(
        name="share_instalments_on_time_12m",
        dtype="float",
        unit="share",
        window_months=12,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id=(
            "Porsi angsuran yang jatuh tempo dalam 12 bulan terakhir yang dibayar penuh "
            "paling lambat pada tanggal jatuh tempo."
        ),
        description_en=(
            "Share of the member's instalments due in the last 12 months that were paid in "
            "full on or before the due date."
        ),
        raises_risk_id="Hanya {value} angsuran dalam 12 bulan terakhir dibayar penuh tepat waktu.",
        raises_risk_en=(
            "Only {value} of instalments due in the last 12 months were paid in full on time."
        ),
        lowers_risk_id="{value} angsuran dalam 12 bulan terakhir dibayar penuh tepat waktu.",
        lowers_risk_en=(
            "{value} of instalments due in the last 12 months were paid in full on time."
        ),
    ),
    Feature(
        name="late_instalments_6m",
        dtype="float",
        unit="count",
        window_months=6,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Jumlah angsuran yang jatuh tempo dalam 6 bulan terakhir yang dibayar setelah "
            "tanggal jatuh tempo atau masih belum dibayar."
        ),
        description_en=(
            "Instalments due in the last 6 months that were paid after the due date or are "
            "still unpaid."
        ),
        raises_risk_id=(
            "{value} angsuran dalam 6 bulan terakhir dibayar terlambat atau belum dibayar."
        ),
        raises_risk_en="Instalments due in the last 6 months paid late or still unpaid: {value}.",
        lowers_risk_id="Angsuran yang terlambat dalam 6 bulan terakhir: {value}.",
        lowers_risk_en="Instalments paid late in the last 6 months: {value}.",
    ),
    Feature(
        name="late_instalments_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Jumlah angsuran yang jatuh tempo dalam 12 bulan terakhir yang dibayar setelah "
            "tanggal jatuh tempo atau masih belum dibayar."
        ),
        description_en=(
            "Instalments due in the last 12 months that were paid after the due date or are "
            "still unpaid."
        ),
        raises_risk_id=(
            "{value} angsuran dalam 12 bulan terakhir dibayar terlambat atau belum dibayar."
        ),
        raises_risk_en="Instalments due in the last 12 months paid late or still unpaid: {value}.",
        lowers_risk_id="Angsuran yang terlambat dalam 12 bulan terakhir: {value}.",
        lowers_risk_en="Instalments paid late in the last 12 months: {value}.",
    ),
    Feature(
        name="max_dpd_365d",
        dtype="float",
        unit="days",
        window_months=12,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Keterlambatan terbesar (hari lewat jatuh tempo) pada pinjaman mana pun dalam "
            "365 hari sebelum tanggal pengajuan."
        ),
        description_en=(
            "Highest days past due on any of the member's loans in the 365 days before the "
            "application date."
        ),
        raises_risk_id="Pernah terlambat membayar angsuran hingga {value} dalam 12 bulan terakhir.",
        raises_risk_en="An instalment was up to {value} past due in the last 12 months.",
        lowers_risk_id="Keterlambatan angsuran terlama dalam 12 bulan terakhir: {value}.",
        lowers_risk_en="Longest delay on an instalment in the last 12 months: {value}.",
    ),
    Feature(
        name="current_dpd",
        dtype="float",
        unit="days",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id="Jumlah hari angsuran lewat jatuh tempo pada tanggal pengajuan.",
        description_en="Days past due on the member's loans at the application date.",
        raises_risk_id="Pada tanggal pengajuan ada angsuran yang menunggak {value}.",
        raises_risk_en="At the application date an instalment is {value} past due.",
        lowers_risk_id="Tunggakan angsuran pada tanggal pengajuan: {value}.",
        lowers_risk_en="Arrears on instalments at the application date: {value}.",
    ),
    Feature(
        name="months_since_last_late",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id=(
            "Jumlah bulan sejak terakhir kali ada angsuran yang lewat jatuh tempo (kosong "
            "jika belum pernah)."
        ),
        description_en=(
            "Months since an instalment last went past due (missing if it never happened)."
        ),
        raises_risk_id="Terakhir kali terlambat membayar angsuran {value} yang lalu.",
        raises_risk_en="An instalment last went past due {value} ago.",
        lowers_risk_id="Tidak ada angsuran yang terlambat selama {value} terakhir.",
        lowers_risk_en="No instalment has gone past due in the last {value}.",
    ),
    Feature(
        name="prior_loans_completed",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id="Jumlah pinjaman sebelumnya yang sudah lunas sebelum tanggal pengajuan.",
        description_en="Earlier loans fully repaid before the application date.",
        raises_risk_id="Pinjaman sebelumnya yang sudah lunas baru {value}.",
        raises_risk_en="Earlier loans fully repaid so far: only {value}.",
        lowers_risk_id="Sudah melunasi {value} pinjaman sebelumnya.",
        lowers_risk_en="Earlier loans fully repaid: {value}.",
    ),
    Feature(
        name="prior_loans_defaulted",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Jumlah pinjaman sebelumnya yang pernah menunggak lebih dari 90 hari sebelum "
            "tanggal pengajuan."
        ),
        description_en=(
            "Earlier loans that were more than 90 days past due before the application date."
        ),
        raises_risk_id="{value} pinjaman sebelumnya pernah menunggak lebih dari 90 hari.",
        raises_risk_en="Earlier loans that went more than 90 days past due: {value}.",
        lowers_risk_id="Pinjaman sebelumnya yang pernah menunggak lebih dari 90 hari: {value}.",
        lowers_risk_en="Earlier loans ever more than 90 days past due: {value}.",
    ),
    Feature(
        name="wajib_months_paid_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id=(
            "Jumlah bulan dari 12 bulan terakhir (sejak bergabung) yang simpanan wajibnya "
            "sudah disetor pada tanggal pengajuan."
        ),
        description_en=(
            "Months of the last 12 (since joining) whose compulsory savings (simpanan wajib) "
            "were paid by the application date."
        ),
        raises_risk_id="Simpanan wajib hanya disetor {value} dari 12 bulan terakhir.",
        raises_risk_en=(
            "Compulsory savings (simpanan wajib) were paid for only {value} of the last 12 months."
        ),
        lowers_risk_id="Simpanan wajib disetor {value} dari 12 bulan terakhir.",
        lowers_risk_en=(
            "Compulsory savings (simpanan wajib) were paid for {value} of the last 12 months."
        ),
    ),
    Feature(
        name="share_wajib_months_paid_12m",
        dtype="float",
        unit="share",
        window_months=12,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id=(
            "Porsi bulan dari 12 bulan terakhir (sejak bergabung) yang simpanan wajibnya "
            "sudah disetor pada tanggal pengajuan."
        ),
        description_en=(
            "Share of the last 12 months (since joining) whose compulsory savings were paid "
            "by the application date."
        ),
        raises_risk_id="Simpanan wajib 12 bulan terakhir baru disetor {value}.",
        raises_risk_en=(
            "Only {value} of the compulsory savings due in the last 12 months were paid."
        ),
        lowers_risk_id="Simpanan wajib 12 bulan terakhir sudah disetor {value}.",
        lowers_risk_en="{value} of the compulsory savings due in the last 12 months were paid.",
    ),
    Feature(
        name="longest_wajib_streak_24m",
        dtype="float",
        unit="months",
        window_months=24,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id=(
            "Rangkaian bulan berturut-turut terpanjang dengan simpanan wajib disetor, dalam "
            "24 bulan terakhir."
        ),
        description_en=(
            "Longest run of consecutive months with compulsory savings paid, in the last 24 months."
        ),
        raises_risk_id=(
            "Dalam 24 bulan terakhir simpanan wajib paling lama disetor berturut-turut "
            "hanya {value}."
        ),
        raises_risk_en=(
            "In the last 24 months compulsory savings were paid at most {value} in a row."
        ),
        lowers_risk_id=(
            "Simpanan wajib disetor berturut-turut selama {value} dalam 24 bulan terakhir."
        ),
        lowers_risk_en="Compulsory savings were paid {value} in a row within the last 24 months.",
    ),
    Feature(
        name="wajib_mean_pay_day_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Rata-rata tanggal dalam bulan saat simpanan wajib disetor, 12 bulan terakhir "
            "(anggota yang disiplin menyetor di awal bulan)."
        ),
        description_en=(
            "Average day of the month on which compulsory savings were paid, last 12 months "
            "(disciplined members pay early in the month)."
        ),
        raises_risk_id="Simpanan wajib biasanya baru disetor sekitar tanggal {value} setiap bulan.",
        raises_risk_en="Compulsory savings are usually paid only around day {value} of the month.",
        lowers_risk_id="Simpanan wajib biasanya disetor awal, sekitar tanggal {value}.",
        lowers_risk_en="Compulsory savings are usually paid early, around day {value}.",
    ),
    Feature(
        name="wajib_mean_pay_day_24m",
        dtype="float",
        unit="count",
        window_months=24,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Rata-rata tanggal dalam bulan saat simpanan wajib disetor, 24 bulan terakhir "
            "(kebiasaan jangka panjang, lebih stabil daripada 12 bulan)."
        ),
        description_en=(
            "Average day of the month on which compulsory savings were paid, last 24 months "
            "(the long-run habit, steadier than 12 months)."
        ),
        raises_risk_id=(
            "Dalam 24 bulan terakhir simpanan wajib biasanya baru disetor sekitar tanggal {value}."
        ),
        raises_risk_en=(
            "Over the last 24 months compulsory savings were usually paid only around day {value}."
        ),
        lowers_risk_id=(
            "Dalam 24 bulan terakhir simpanan wajib biasanya disetor awal, sekitar tanggal {value}."
        ),
        lowers_risk_en=(
            "Over the last 24 months compulsory savings were usually paid early, around day "
            "{value}."
        ),
    ),
    Feature(
        name="wajib_months_owed",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Jumlah bulan sejak bergabung yang simpanan wajibnya masih belum disetor pada "
            "tanggal pengajuan."
        ),
        description_en=(
            "Months since joining whose compulsory savings are still unpaid at the "
            "application date."
        ),
        raises_risk_id="Simpanan wajib masih tertunggak {value} bulan.",
        raises_risk_en="Months of compulsory savings (simpanan wajib) still unpaid: {value}.",
        lowers_risk_id="Tunggakan simpanan wajib sejak bergabung: {value} bulan.",
        lowers_risk_en="Months of compulsory savings unpaid since joining: {value}.",
    ),
    Feature(
        name="membership_months",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id="Lama keanggotaan di koperasi, dalam bulan sejak bergabung.",
        description_en="Months since the member joined the cooperative.",
        raises_risk_id="Masa keanggotaan baru {value}; riwayat transaksi belum cukup.",
        raises_risk_en="Member for only {value}; the transaction history is still short.",
        lowers_risk_id="Sudah menjadi anggota koperasi selama {value}.",
        lowers_risk_en="Member of the cooperative for {value}.",
    ),
    # ----------------------------------------------------------------- CAPACITY (kemampuan)
    Feature(
        name="avg_monthly_sales_3m",
        dtype="float",
        unit="rupiah",
        window_months=3,
        group=FiveC.CAPACITY,
        monotone=-1,
        description_id=(
            "Rata-rata penjualan hasil usaha per bulan melalui koperasi, 3 bulan terakhir."
        ),
        description_en="Average monthly produce sales through the cooperative, last 3 months.",
        raises_risk_id=(
            "Rata-rata penjualan hasil usaha melalui koperasi hanya {value} per bulan dalam "
            "3 bulan terakhir."
        ),
        raises_risk_en=(
            "Average produce sales through the cooperative were only {value} a month over "
            "the last 3 months."
        ),
        lowers_risk_id=(
            "Rata-rata penjualan hasil usaha melalui koperasi {value} per bulan dalam 3 bulan "
            "terakhir."
        ),
        lowers_risk_en=(
            "Average produce sales through the cooperative were {value} a month over the "
            "last 3 months."
        ),
    ),
    Feature(
        name="avg_monthly_sales_6m",
        dtype="float",
        unit="rupiah",
        window_months=6,
        group=FiveC.CAPACITY,
        monotone=-1,
        description_id=(
            "Rata-rata penjualan hasil usaha per bulan melalui koperasi, 6 bulan terakhir."
        ),
        description_en="Average monthly produce sales through the cooperative, last 6 months.",
        raises_risk_id=(
            "Rata-rata penjualan hasil usaha melalui koperasi hanya {value} per bulan dalam "
            "6 bulan terakhir."
        ),
        raises_risk_en=(
            "Average produce sales through the cooperative were only {value} a month over "
            "the last 6 months."
        ),
        lowers_risk_id=(
            "Rata-rata penjualan hasil usaha melalui koperasi {value} per bulan dalam 6 bulan "
            "terakhir."
        ),
        lowers_risk_en=(
            "Average produce sales through the cooperative were {value} a month over the "
            "last 6 months."
        ),
    ),
    Feature(
        name="avg_monthly_sales_12m",
        dtype="float",
        unit="rupiah",
        window_months=12,
        group=FiveC.CAPACITY,
        monotone=-1,
        description_id=(
            "Rata-rata penjualan hasil usaha per bulan melalui koperasi, 12 bulan terakhir."
        ),
        description_en="Average monthly produce sales through the cooperative, last 12 months.",
        raises_risk_id=(
            "Rata-rata penjualan hasil usaha melalui koperasi hanya {value} per bulan dalam "
            "12 bulan terakhir."
        ),
        raises_risk_en=(
            "Average produce sales through the cooperative were only {value} a month over "
            "the last 12 months."
        ),
        lowers_risk_id=(
            "Rata-rata penjualan hasil usaha melalui koperasi {value} per bulan dalam "
            "12 bulan terakhir."
        ),
        lowers_risk_en=(
            "Average produce sales through the cooperative were {value} a month over the "
            "last 12 months."
        ),
    ),
    Feature(
        name="sales_trend_3m_vs_12m",
        dtype="float",
        unit="ratio",
        window_months=12,
        group=FiveC.CAPACITY,
        monotone=-1,
        description_id=(
            "Rata-rata penjualan bulanan 3 bulan terakhir dibagi rata-rata penjualan bulanan "
            "12 bulan terakhir."
        ),
        description_en=(
            "Average monthly sales over the last 3 months divided by the average over the "
            "last 12 months."
        ),
        raises_risk_id=(
            "Rata-rata penjualan 3 bulan terakhir hanya {value} kali rata-rata 12 bulan terakhir."
        ),
        raises_risk_en=(
            "Sales in the last 3 months averaged only {value} times the 12-month average."
        ),
        lowers_risk_id=(
            "Rata-rata penjualan 3 bulan terakhir {value} kali rata-rata 12 bulan terakhir."
        ),
        lowers_risk_en="Sales in the last 3 months averaged {value} times the 12-month average.",
    ),
    Feature(
        name="sales_volatility_6m",
        dtype="float",
        unit="ratio",
        window_months=6,
        group=FiveC.CAPACITY,
        monotone=1,
        description_id="Koefisien variasi penjualan bulanan dalam 6 bulan terakhir.",
        description_en="Coefficient of variation of monthly sales over the last 6 months.",
        raises_risk_id=(
            "Penjualan bulanan naik-turun tajam dalam 6 bulan terakhir (koefisien variasi {value})."
        ),
        raises_risk_en=(
            "Monthly sales swung sharply over the last 6 months (coefficient of variation {value})."
        ),
        lowers_risk_id=(
            "Penjualan bulanan cukup stabil dalam 6 bulan terakhir (koefisien variasi {value})."
        ),
        lowers_risk_en=(
            "Monthly sales were fairly steady over the last 6 months (coefficient of "
            "variation {value})."
        ),
    ),
    Feature(
        name="seasonal_dip_depth",
        dtype="float",
        unit="share",
        window_months=12,
        group=FiveC.CAPACITY,
        monotone=1,
        description_id=(
            "Dalamnya musim paceklik: 1 dikurangi penjualan bulan terendah dibagi rata-rata "
            "penjualan bulanan, 12 bulan terakhir."
        ),
        description_en=(
            "Depth of the lean season: 1 minus the lowest month's sales over the average "
            "month's sales, last 12 months."
        ),
        raises_risk_id=(
            "Di bulan paling sepi dalam 12 bulan terakhir, penjualan {value} di bawah "
            "rata-rata bulanan."
        ),
        raises_risk_en=(
            "In the leanest month of the last 12, sales were {value} below the monthly average."
        ),
        lowers_risk_id=(
            "Di bulan paling sepi dalam 12 bulan terakhir, penjualan hanya {value} di bawah "
            "rata-rata bulanan."
        ),
        lowers_risk_en=(
            "In the leanest month of the last 12, sales were only {value} below the monthly "
            "average."
        ),
    ),
    Feature(
        name="months_with_sales_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CAPACITY,
        monotone=-1,
        description_id="Jumlah bulan dari 12 bulan terakhir dengan penjualan melalui koperasi.",
        description_en="Months of the last 12 with sales through the cooperative.",
        raises_risk_id="Ada penjualan melalui koperasi hanya pada {value} dari 12 bulan terakhir.",
        raises_risk_en="Sales through the cooperative in only {value} of the last 12 months.",
        lowers_risk_id="Ada penjualan melalui koperasi pada {value} dari 12 bulan terakhir.",
        lowers_risk_en="Sales through the cooperative in {value} of the last 12 months.",
    ),
    Feature(
        name="estimated_monthly_income",
        dtype="float",
        unit="rupiah",
        window_months=12,
        group=FiveC.CAPACITY,
        monotone=-1,
        description_id=(
            "Perkiraan pendapatan usaha per bulan: rata-rata penjualan bulanan selama bulan "
            "keanggotaan dalam 12 bulan terakhir."
        ),
        description_en=(
            "Estimated monthly business income: average monthly sales over the member's "
            "months of membership in the last 12 months."
        ),
        raises_risk_id="Perkiraan pendapatan usaha hanya {value} per bulan (12 bulan terakhir).",
        raises_risk_en="Estimated business income is only {value} a month (last 12 months).",
        lowers_risk_id="Perkiraan pendapatan usaha {value} per bulan (12 bulan terakhir).",
        lowers_risk_en="Estimated business income is {value} a month (last 12 months).",
    ),
    Feature(
        name="sembako_spend_3m",
        dtype="float",
        unit="rupiah",
        window_months=3,
        group=FiveC.CAPACITY,
        monotone=0,
        description_id="Rata-rata belanja per bulan di gerai sembako koperasi, 3 bulan terakhir.",
        description_en=(
            "Average monthly purchases at the cooperative's sembako outlet, last 3 months."
        ),
        raises_risk_id=(
            "Belanja di gerai sembako rata-rata {value} per bulan dalam 3 bulan terakhir."
        ),
        raises_risk_en=(
            "Purchases at the sembako outlet averaged {value} a month over the last 3 months."
        ),
        lowers_risk_id=(
            "Belanja di gerai sembako rata-rata {value} per bulan dalam 3 bulan terakhir."
        ),
        lowers_risk_en=(
            "Purchases at the sembako outlet averaged {value} a month over the last 3 months."
        ),
    ),
    Feature(
        name="sembako_spend_12m",
        dtype="float",
        unit="rupiah",
        window_months=12,
        group=FiveC.CAPACITY,
        monotone=0,
        description_id=(
            "Rata-rata belanja per bulan di gerai sembako koperasi, 12 bulan terakhir "
            "(cerminan pengeluaran rumah tangga)."
        ),
        description_en=(
            "Average monthly purchases at the cooperative's sembako outlet, last 12 months "
            "(a view of household spending)."
        ),
        raises_risk_id=(
            "Belanja di gerai sembako rata-rata {value} per bulan dalam 12 bulan terakhir."
        ),
        raises_risk_en=(
            "Purchases at the sembako outlet averaged {value} a month over the last 12 months."
        ),
        lowers_risk_id=(
            "Belanja di gerai sembako rata-rata {value} per bulan dalam 12 bulan terakhir."
        ),
        lowers_risk_en=(
            "Purchases at the sembako outlet averaged {value} a month over the last 12 months."
        ),
    ),
    Feature(
        name="sembako_credit_share_6m",
        dtype="float",
        unit="share",
        window_months=6,
        group=FiveC.CAPACITY,
        monotone=1,
        description_id=(
            "Porsi belanja sembako (menurut nilai) yang diambil secara bon dalam 6 bulan terakhir."
        ),
        description_en=(
            "Share of sembako purchases (by amount) taken on credit (bon) in the last 6 months."
        ),
        raises_risk_id="{value} belanja sembako dalam 6 bulan terakhir diambil secara bon.",
        raises_risk_en="{value} of sembako purchases in the last 6 months were on credit (bon).",
        lowers_risk_id="Hanya {value} belanja sembako dalam 6 bulan terakhir diambil secara bon.",
        lowers_risk_en=(
            "Only {value} of sembako purchases in the last 6 months were on credit (bon)."
        ),
    ),
    Feature(
        name="sembako_credit_share_24m",
        dtype="float",
        unit="share",
        window_months=24,
        group=FiveC.CHARACTER,
        monotone=1,
        description_id=(
            "Porsi transaksi belanja sembako (menurut jumlah transaksi) yang diambil secara bon "
            "dalam 24 bulan terakhir (kebiasaan berutang, bukan kesulitan sesaat)."
        ),
        description_en=(
            "Share of sembako purchases (by number of purchases) taken on credit (bon) in the "
            "last 24 months (a habit of buying on credit, not a passing squeeze)."
        ),
        raises_risk_id=(
            "{value} transaksi belanja sembako dalam 24 bulan terakhir diambil secara bon."
        ),
        raises_risk_en="{value} of sembako purchases in the last 24 months were on credit (bon).",
        lowers_risk_id=(
            "Hanya {value} transaksi belanja sembako dalam 24 bulan terakhir diambil secara bon."
        ),
        lowers_risk_en=(
            "Only {value} of sembako purchases in the last 24 months were on credit (bon)."
        ),
    ),
    Feature(
        name="instalment_to_income",
        dtype="float",
        unit="ratio",
        window_months=None,
        group=FiveC.CAPACITY,
        monotone=1,
        description_id=(
            "Angsuran bulanan yang diajukan dibagi perkiraan pendapatan usaha per bulan."
        ),
        description_en="Proposed monthly instalment divided by estimated monthly income.",
        raises_risk_id=(
            "Angsuran yang diajukan tinggi dibanding pendapatan: rasio terhadap perkiraan "
            "pendapatan bulanan {value}."
        ),
        raises_risk_en=(
            "The proposed instalment is high relative to income: ratio to estimated monthly "
            "income {value}."
        ),
        lowers_risk_id=(
            "Angsuran yang diajukan terjangkau: rasio terhadap perkiraan pendapatan bulanan "
            "{value}."
        ),
        lowers_risk_en=(
            "The proposed instalment is affordable: ratio to estimated monthly income {value}."
        ),
    ),
    Feature(
        name="instalment_to_sembako_spend",
        dtype="float",
        unit="ratio",
        window_months=12,
        group=FiveC.CAPACITY,
        monotone=1,
        description_id=(
            "Angsuran bulanan yang diajukan dibagi rata-rata belanja sembako per bulan "
            "(12 bulan terakhir): ukuran keterjangkauan dari sisi pengeluaran."
        ),
        description_en=(
            "Proposed monthly instalment divided by average monthly sembako spending (last 12 "
            "months): affordability seen from spending."
        ),
        raises_risk_id=(
            "Angsuran yang diajukan {value} kali belanja sembako bulanan: berat dibanding "
            "pengeluaran rumah tangga."
        ),
        raises_risk_en=(
            "The proposed instalment is {value} times monthly sembako spending: heavy against "
            "household spending."
        ),
        lowers_risk_id=(
            "Angsuran yang diajukan {value} kali belanja sembako bulanan: ringan dibanding "
            "pengeluaran rumah tangga."
        ),
        lowers_risk_en=(
            "The proposed instalment is {value} times monthly sembako spending: light against "
            "household spending."
        ),
    ),
    Feature(
        name="existing_debt_service",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CAPACITY,
        monotone=1,
        description_id=(
            "Angsuran pinjaman lain yang jatuh tempo dalam 30 hari setelah tanggal pengajuan."
        ),
        description_en="Instalments of other loans due in the 30 days after the application date.",
        raises_risk_id="Angsuran pinjaman lain yang jatuh tempo dalam 30 hari ke depan: {value}.",
        raises_risk_en="Instalments on other loans due in the next 30 days: {value}.",
        lowers_risk_id="Angsuran pinjaman lain dalam 30 hari ke depan hanya {value}.",
        lowers_risk_en="Instalments on other loans due in the next 30 days are only {value}.",
    ),
    Feature(
        name="debt_service_to_income",
        dtype="float",
        unit="ratio",
        window_months=None,
        group=FiveC.CAPACITY,
        monotone=1,
        description_id=(
            "Angsuran yang diajukan ditambah angsuran pinjaman lain, dibagi perkiraan "
            "pendapatan usaha per bulan."
        ),
        description_en=("Proposed plus existing instalments divided by estimated monthly income."),
        raises_risk_id=(
            "Total angsuran (yang diajukan dan pinjaman lain) tinggi: rasio terhadap "
            "perkiraan pendapatan bulanan {value}."
        ),
        raises_risk_en=(
            "Total instalments (proposed and other loans) are high: ratio to estimated "
            "monthly income {value}."
        ),
        lowers_risk_id=(
            "Total angsuran (yang diajukan dan pinjaman lain) terjangkau: rasio terhadap "
            "perkiraan pendapatan bulanan {value}."
        ),
        lowers_risk_en=(
            "Total instalments (proposed and other loans) are affordable: ratio to estimated "
            "monthly income {value}."
        ),
    ),
    # ------------------------------------------------------------------- CAPITAL (modal)
    Feature(
        name="sukarela_balance",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CAPITAL,
        monotone=-1,
        description_id="Saldo simpanan sukarela pada tanggal pengajuan.",
        description_en="Voluntary savings (simpanan sukarela) balance at the application date.",
        raises_risk_id="Saldo simpanan sukarela saat pengajuan hanya {value}.",
        raises_risk_en=(
            "Voluntary savings (simpanan sukarela) balance at application is only {value}."
        ),
        lowers_risk_id="Saldo simpanan sukarela saat pengajuan {value}.",
        lowers_risk_en="Voluntary savings (simpanan sukarela) balance at application is {value}.",
    ),
    Feature(
        name="sukarela_trend_3m",
        dtype="float",
        unit="rupiah",
        window_months=3,
        group=FiveC.CAPITAL,
        monotone=-1,
        description_id=("Saldo simpanan sukarela sekarang dikurangi saldo 90 hari sebelumnya."),
        description_en="Voluntary savings balance now minus the balance 90 days earlier.",
        raises_risk_id="Saldo simpanan sukarela berubah {value} dalam 3 bulan terakhir.",
        raises_risk_en="The voluntary savings balance changed by {value} over the last 3 months.",
        lowers_risk_id=(
            "Simpanan sukarela terjaga: saldonya berubah {value} dalam 3 bulan terakhir."
        ),
        lowers_risk_en=(
            "Voluntary savings held up: the balance changed by {value} over the last 3 months."
        ),
    ),
    Feature(
        name="sukarela_withdrawals_6m",
        dtype="float",
        unit="count",
        window_months=6,
        group=FiveC.CAPITAL,
        monotone=1,
        description_id="Jumlah penarikan simpanan sukarela dalam 6 bulan terakhir.",
        description_en="Number of voluntary savings withdrawals in the last 6 months.",
        raises_risk_id="Simpanan sukarela ditarik {value} kali dalam 6 bulan terakhir.",
        raises_risk_en="Voluntary savings withdrawals in the last 6 months: {value}.",
        lowers_risk_id="Penarikan simpanan sukarela dalam 6 bulan terakhir hanya {value} kali.",
        lowers_risk_en="Voluntary savings withdrawals in the last 6 months: only {value}.",
    ),
    Feature(
        name="withdrawals_before_due_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CAPITAL,
        monotone=1,
        description_id=(
            "Jumlah penarikan simpanan sukarela dalam 30 hari sebelum salah satu tanggal "
            "jatuh tempo angsurannya, 12 bulan terakhir."
        ),
        description_en=(
            "Voluntary savings withdrawals made in the 30 days before one of the member's "
            "instalment due dates, last 12 months."
        ),
        raises_risk_id=(
            "Dalam 12 bulan terakhir simpanan sukarela ditarik {value} kali menjelang "
            "jatuh tempo angsuran."
        ),
        raises_risk_en=(
            "Voluntary savings withdrawals in the 30 days before an instalment due date "
            "(last 12 months): {value}."
        ),
        lowers_risk_id=(
            "Penarikan simpanan sukarela menjelang jatuh tempo angsuran dalam 12 bulan "
            "terakhir: {value} kali."
        ),
        lowers_risk_en=(
            "Voluntary savings withdrawals shortly before an instalment due date (last "
            "12 months): only {value}."
        ),
    ),
    Feature(
        name="total_savings",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CAPITAL,
        monotone=-1,
        description_id="Total simpanan pokok, wajib dan sukarela pada tanggal pengajuan.",
        description_en=(
            "Total of principal, compulsory and voluntary savings at the application date."
        ),
        raises_risk_id="Total simpanan (pokok, wajib dan sukarela) hanya {value}.",
        raises_risk_en="Total savings (pokok, wajib and sukarela) are only {value}.",
        lowers_risk_id="Total simpanan (pokok, wajib dan sukarela) {value}.",
        lowers_risk_en="Total savings (pokok, wajib and sukarela) are {value}.",
    ),
    # ------------------------------------- COLLATERAL (jaminan sosial, tanggung renteng)
    Feature(
        name="in_group",
        dtype="float",
        unit="flag",
        window_months=None,
        group=FiveC.COLLATERAL,
        monotone=0,
        description_id="Apakah anggota tergabung dalam kelompok tanggung renteng.",
        description_en="Whether the member belongs to a joint-liability (tanggung renteng) group.",
        raises_risk_id="Tergabung dalam kelompok tanggung renteng: {value}.",
        raises_risk_en="Member of a joint-liability (tanggung renteng) group: {value}.",
        lowers_risk_id="Tergabung dalam kelompok tanggung renteng: {value}.",
        lowers_risk_en="Member of a joint-liability (tanggung renteng) group: {value}.",
    ),
    Feature(
        name="group_size",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.COLLATERAL,
        monotone=0,
        description_id="Jumlah anggota kelompok tanggung renteng.",
        description_en="Number of members in the joint-liability group.",
        raises_risk_id="Jumlah anggota kelompok tanggung renteng: {value} orang.",
        raises_risk_en="Joint-liability group size: {value} members.",
        lowers_risk_id="Jumlah anggota kelompok tanggung renteng: {value} orang.",
        lowers_risk_en="Joint-liability group size: {value} members.",
    ),
    Feature(
        name="group_members_in_arrears",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.COLLATERAL,
        monotone=1,
        description_id=(
            "Jumlah anggota lain di kelompok tanggung renteng yang menunggak lebih dari "
            "30 hari pada tanggal pengajuan."
        ),
        description_en=(
            "Other members of the joint-liability group more than 30 days past due at the "
            "application date."
        ),
        raises_risk_id=(
            "{value} anggota lain di kelompok tanggung renteng menunggak lebih dari 30 hari."
        ),
        raises_risk_en=(
            "Other members of the joint-liability group more than 30 days past due: {value}."
        ),
        lowers_risk_id=(
            "Anggota lain di kelompok tanggung renteng yang menunggak lebih dari 30 hari: {value}."
        ),
        lowers_risk_en=(
            "Other members of the joint-liability group more than 30 days past due: only {value}."
        ),
    ),
    Feature(
        name="group_share_in_arrears",
        dtype="float",
        unit="share",
        window_months=None,
        group=FiveC.COLLATERAL,
        monotone=1,
        description_id=(
            "Porsi anggota lain di kelompok tanggung renteng yang menunggak lebih dari "
            "30 hari pada tanggal pengajuan."
        ),
        description_en=(
            "Share of the other members of the joint-liability group more than 30 days past "
            "due at the application date."
        ),
        raises_risk_id=(
            "{value} anggota lain di kelompok tanggung renteng menunggak lebih dari 30 hari."
        ),
        raises_risk_en=(
            "{value} of the other members of the joint-liability group are more than 30 days "
            "past due."
        ),
        lowers_risk_id=(
            "Hanya {value} anggota lain di kelompok tanggung renteng yang menunggak lebih "
            "dari 30 hari."
        ),
        lowers_risk_en=(
            "Only {value} of the other members of the joint-liability group are more than "
            "30 days past due."
        ),
    ),
    Feature(
        name="group_past_defaults",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.COLLATERAL,
        monotone=1,
        description_id=(
            "Jumlah pinjaman anggota lain di kelompok yang pernah menunggak lebih dari "
            "90 hari sebelum tanggal pengajuan."
        ),
        description_en=(
            "Loans of other group members that went more than 90 days past due before the "
            "application date."
        ),
        raises_risk_id=(
            "{value} pinjaman anggota lain di kelompok tanggung renteng pernah menunggak "
            "lebih dari 90 hari."
        ),
        raises_risk_en=(
            "Loans of other joint-liability group members that went more than 90 days past "
            "due: {value}."
        ),
        lowers_risk_id=(
            "Pinjaman anggota lain di kelompok tanggung renteng yang pernah menunggak lebih "
            "dari 90 hari: {value}."
        ),
        lowers_risk_en=(
            "Loans of other joint-liability group members ever more than 90 days past due: {value}."
        ),
    ),
    # ----------------------------------------------------------------- CONDITION (kondisi)
    Feature(
        name="coop_arrears_rate_3m",
        dtype="float",
        unit="share",
        window_months=3,
        group=FiveC.CONDITION,
        monotone=1,
        description_id=(
            "Porsi peminjam koperasi yang menunggak lebih dari 30 hari, rata-rata pada "
            "tanggal pengajuan, 30 dan 60 hari sebelumnya."
        ),
        description_en=(
            "Share of the cooperative's borrowers more than 30 days past due, averaged over "
            "the application date and 30 and 60 days earlier."
        ),
        raises_risk_id=(
            "{value} peminjam di koperasi ini menunggak lebih dari 30 hari (rata-rata "
            "3 bulan terakhir)."
        ),
        raises_risk_en=(
            "{value} of this cooperative's borrowers are more than 30 days past due "
            "(average of the last 3 months)."
        ),
        lowers_risk_id=(
            "Hanya {value} peminjam di koperasi ini yang menunggak lebih dari 30 hari "
            "(rata-rata 3 bulan terakhir)."
        ),
        lowers_risk_en=(
            "Only {value} of this cooperative's borrowers are more than 30 days past due "
            "(average of the last 3 months)."
        ),
    ),
    Feature(
        name="application_month",
        dtype="category",
        unit="month_of_year",
        window_months=None,
        group=FiveC.CONDITION,
        monotone=0,
        description_id="Bulan pengajuan pinjaman (musim tanam dan panen).",
        description_en="Month of the loan application (planting and harvest seasons).",
        raises_risk_id="Bulan pengajuan: {value}.",
        raises_risk_en="Application month: {value}.",
        lowers_risk_id="Bulan pengajuan: {value}.",
        lowers_risk_en="Application month: {value}.",
    ),
    Feature(
        name="loan_amount",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CONDITION,
        monotone=0,
        description_id="Pokok pinjaman yang diajukan.",
        description_en="Principal requested.",
        raises_risk_id="Jumlah pinjaman yang diajukan: {value}.",
        raises_risk_en="Loan amount requested: {value}.",
        lowers_risk_id="Jumlah pinjaman yang diajukan: {value}.",
        lowers_risk_en="Loan amount requested: {value}.",
    ),
    Feature(
        name="tenor_months",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CONDITION,
        monotone=1,
        description_id="Jangka waktu pinjaman yang diajukan, dalam bulan.",
        description_en="Requested loan term in months.",
        raises_risk_id="Jangka waktu pinjaman yang diajukan cukup panjang: {value}.",
        raises_risk_en="The requested loan term is long: {value}.",
        lowers_risk_id="Jangka waktu pinjaman yang diajukan: {value}.",
        lowers_risk_en="Requested loan term: {value}.",
    ),
    Feature(
        name="flat_monthly_rate",
        dtype="float",
        unit="rate",
        window_months=None,
        group=FiveC.CONDITION,
        monotone=0,
        description_id="Bunga flat per bulan dari produk pinjaman.",
        description_en="Flat monthly interest rate of the loan product.",
        raises_risk_id="Bunga flat per bulan: {value}.",
        raises_risk_en="Flat monthly interest rate: {value}.",
        lowers_risk_id="Bunga flat per bulan: {value}.",
        lowers_risk_en="Flat monthly interest rate: {value}.",
    ),
    Feature(
        name="loan_purpose",
        dtype="category",
        unit="category",
        window_months=None,
        group=FiveC.CONDITION,
        monotone=0,
        description_id="Tujuan pinjaman yang dinyatakan anggota.",
        description_en="Loan purpose stated by the member.",
        raises_risk_id="Tujuan pinjaman: {value}.",
        raises_risk_en="Loan purpose: {value}.",
        lowers_risk_id="Tujuan pinjaman: {value}.",
        lowers_risk_en="Loan purpose: {value}.",
    ),
    Feature(
        name="loan_product",
        dtype="category",
        unit="category",
        window_months=None,
        group=FiveC.CONDITION,
        monotone=0,
        description_id="Produk pinjaman koperasi yang diajukan.",
        description_en="The cooperative's loan product applied for.",
        raises_risk_id="Produk pinjaman: {value}.",
        raises_risk_en="Loan product: {value}.",
        lowers_risk_id="Produk pinjaman: {value}.",
        lowers_risk_en="Loan product: {value}.",
    ),
    Feature(
        name="business_sector",
        dtype="category",
        unit="category",
        window_months=None,
        group=FiveC.CONDITION,
        monotone=0,
        description_id="Sektor usaha anggota.",
        description_en="The member's business sector.",
        raises_risk_id="Sektor usaha: {value}.",
        raises_risk_en="Business sector: {value}.",
        lowers_risk_id="Sektor usaha: {value}.",
        lowers_risk_en="Business sector: {value}.",
    ),
    # ------------------------------------------------ THIN FILE (watak, sparse history)
    Feature(
        name="months_of_history",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id="Jumlah bulan sejak catatan pertama anggota di buku koperasi.",
        description_en="Months since the member's first event in the cooperative's ledger.",
        raises_risk_id="Riwayat transaksi di koperasi baru {value}; belum cukup untuk menilai.",
        raises_risk_en=(
            "The transaction history with the cooperative covers only {value}; not yet "
            "enough to judge."
        ),
        lowers_risk_id="Riwayat transaksi di koperasi sudah {value}.",
        lowers_risk_en="The transaction history with the cooperative covers {value}.",
        thin_file=True,
    ),
    Feature(
        name="has_prior_loan",
        dtype="float",
        unit="flag",
        window_months=None,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id="Apakah anggota pernah meminjam di koperasi sebelum tanggal pengajuan.",
        description_en=(
            "Whether the member had a loan with the cooperative before the application date."
        ),
        raises_risk_id=(
            "Pernah meminjam di koperasi sebelumnya: {value}; belum ada riwayat angsuran "
            "untuk dinilai."
        ),
        raises_risk_en=(
            "Earlier loan with the cooperative: {value}; no instalment history to judge yet."
        ),
        lowers_risk_id=(
            "Pernah meminjam di koperasi sebelumnya: {value}; riwayat angsuran dapat dinilai."
        ),
        lowers_risk_en=(
            "Earlier loan with the cooperative: {value}; there is an instalment history to judge."
        ),
        thin_file=True,
    ),
    Feature(
        name="ledger_events_6m",
        dtype="float",
        unit="count",
        window_months=6,
        group=FiveC.CHARACTER,
        monotone=-1,
        description_id=(
            "Jumlah catatan simpanan, belanja dan penjualan anggota dalam 6 bulan terakhir."
        ),
        description_en="The member's savings, purchase and sales records in the last 6 months.",
        raises_risk_id=(
            "Hanya ada {value} catatan simpanan, belanja dan penjualan dalam 6 bulan terakhir."
        ),
        raises_risk_en="Savings, purchase and sales records in the last 6 months: only {value}.",
        lowers_risk_id=(
            "Ada {value} catatan simpanan, belanja dan penjualan dalam 6 bulan terakhir."
        ),
        lowers_risk_en="Savings, purchase and sales records in the last 6 months: {value}.",
        thin_file=True,
    ),
)


def _check_catalog(catalog: Sequence[Feature]) -> dict[str, Feature]:
    """Index the catalog by name, refusing declarations that would break explanations."""
    by_name: dict[str, Feature] = {}
    for f in catalog:
        if f.name in by_name:
            raise ValueError(f"feature {f.name!r} is declared twice in the catalog")
        if f.dtype == "category" and f.monotone != 0:
            raise ValueError(f"categorical feature {f.name!r} cannot have a monotone constraint")
        for text in (f.raises_risk_id, f.raises_risk_en, f.lowers_risk_id, f.lowers_risk_en):
            if text.count(VALUE_PLACEHOLDER) != 1:
                raise ValueError(
                    f"reason text of {f.name!r} needs {{value}} exactly once: {text!r}"
                )
        by_name[f.name] = f
    return by_name


_BY_NAME: dict[str, Feature] = _check_catalog(CATALOG)


# ----------------------------------------------------------------------------- lookups


def feature(name: str) -> Feature:
    """The declaration of one feature; KeyError naming it if it is not in the catalog."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown feature {name!r}: it is not declared in features.catalog"
        ) from None


def feature_names() -> list[str]:
    """All feature names in catalog (model) order."""
    return [f.name for f in CATALOG]


def categorical_names() -> list[str]:
    """Names of the categorical features, in catalog order."""
    return [f.name for f in CATALOG if f.dtype == "category"]


def monotone_constraints(names: Sequence[str] | None = None) -> list[int]:
    """Monotone directions (relative to risk) in the order of ``names`` (default: catalog)."""
    if names is None:
        return [f.monotone for f in CATALOG]
    if isinstance(names, str):
        raise TypeError("names must be a sequence of feature names, not a single string")
    return [feature(n).monotone for n in names]


# ----------------------------------------------------------------------------- formatting

_NO_DATA: dict[Lang, str] = {"id": "tidak ada data", "en": "no data"}
_YES_NO: dict[Lang, tuple[str, str]] = {"id": ("ya", "tidak"), "en": ("yes", "no")}
_MONTH_WORD: dict[Lang, str] = {"id": "bulan", "en": "months"}
_DAY_WORD: dict[Lang, str] = {"id": "hari", "en": "days"}
MONTHS_EN: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_NUMBER: dict[str, int] = {
    **{m.casefold(): i for i, m in enumerate(MONTHS_ID, start=1)},
    **{m.casefold(): i for i, m in enumerate(MONTHS_EN, start=1)},
}


def _decimal(x: float) -> Decimal:
    """The number as written: the shortest decimal repr, so 0.345 stays 0.345, not 0.3449..."""
    return Decimal(repr(x))


def _round_half_up(d: Decimal, places: int = 0) -> Decimal:
    """Round the way people do (0.345 -> 0.35, 2.5 -> 3); negative zero becomes zero."""
    r = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return abs(r) if r == 0 else r


def _group_digits(d: Decimal, places: int, lang: Lang) -> str:
    """Digits with thousands grouping: "1.234,50" in Indonesian, "1,234.50" in English."""
    text = f"{d:,.{places}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "id" else text


def _month_name(value: float | str, lang: Lang) -> str:
    if isinstance(value, str):
        key = value.strip()
        if key.casefold() in _MONTH_NUMBER:
            number = _MONTH_NUMBER[key.casefold()]
        elif key.isdigit():
            number = int(key)
        else:
            raise ValueError(f"not a month of the year: {value!r}")
    else:
        if not float(value).is_integer():
            raise ValueError(f"not a month of the year: {value!r}")
        number = int(value)
    if not 1 <= number <= 12:
        raise ValueError(f"month of the year must be 1..12, got {value!r}")
    return (MONTHS_ID if lang == "id" else MONTHS_EN)[number - 1]


def format_value(f: Feature, value: float | str | None, lang: Lang = "id") -> str:
    """A feature value the way an officer reads it, in Bahasa Indonesia or English.

    None, NaN and infinities read "tidak ada data" / "no data". Numbers round half up.
    """
    if value is None:
        return _NO_DATA[lang]
    if f.unit == "category":
        if isinstance(value, str):
            return value
        x = float(value)
        if not math.isfinite(x):
            return _NO_DATA[lang]
        return str(int(x)) if x.is_integer() else str(value)
    if f.unit == "month_of_year":
        if not isinstance(value, str) and not math.isfinite(float(value)):
            return _NO_DATA[lang]
        return _month_name(value, lang)
    if isinstance(value, str):
        raise TypeError(f"feature {f.name!r} ({f.unit}) needs a number, got the text {value!r}")

    x = float(value)
    if not math.isfinite(x):
        return _NO_DATA[lang]
    d = _decimal(x)
    match f.unit:
        case "count":
            return _group_digits(_round_half_up(d), 0, lang)
        case "months":
            return f"{_group_digits(_round_half_up(d), 0, lang)} {_MONTH_WORD[lang]}"
        case "days":
            return f"{_group_digits(_round_half_up(d), 0, lang)} {_DAY_WORD[lang]}"
        case "share":
            percent = _round_half_up(d * 100)
            return f"{_group_digits(percent, 0, lang)}%"
        case "rate":  # interest rates need a decimal: 1,5% flat, not 2%
            percent = _round_half_up(d * 100, 2)
            return f"{_group_digits(percent, 2, lang).rstrip('0').rstrip(',.')}%"
        case "rupiah":
            return format_rupiah(int(_round_half_up(d)))
        case "ratio":
            return _group_digits(_round_half_up(d, 2), 2, lang)
        case "flag":
            yes, no = _YES_NO[lang]
            if x == 1:
                return yes
            if x == 0:
                return no
            raise ValueError(f"flag feature {f.name!r} must be 0 or 1, got {value!r}")
    raise AssertionError(f"unhandled unit {f.unit!r}")  # pragma: no cover


def reason_text(f: Feature, value: float | str | None, raises_risk: bool, lang: Lang = "id") -> str:
    """The officer's reason for this feature, with the member's own value filled in."""
    if lang == "id":
        template = f.raises_risk_id if raises_risk else f.lowers_risk_id
    else:
        template = f.raises_risk_en if raises_risk else f.lowers_risk_en
    return template.replace(VALUE_PLACEHOLDER, format_value(f, value, lang))
