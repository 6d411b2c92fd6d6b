"""The feature catalog: one declaration per model feature, with the officer's wording.

Every feature the scoring model sees is declared here exactly once, in model order. A
declaration says what the value means, its unit and look-back window, which of the 5C it
belongs to (Character, Capacity, Capital, Collateral, Condition), the underlying risk factor
it speaks to, its family, the expected direction of its effect on risk (used as a monotone
constraint), and the texts an officer reads: the reason when the feature raises or lowers
the member's risk, how the member can improve an adverse reason, and what is missing when
the member has no value yet.

Conventions (see DOMAIN.md, "How reasons are phrased"):

* T is the as-of date (the application date). "Before T" means events dated strictly before
  T; monthly windows are the full calendar months before T's month.
* Reason texts name the member's own value and period and never say "score too low". Each
  template contains ``{value}`` exactly once; :func:`reason_text` fills it with
  :func:`format_value`, which writes through :mod:`features.wording`, so Rupiah reads
  "Rp 1.250.000" and Indonesian decimals use a comma.
* Improvement texts (:func:`improve_text`) and missing-value texts (:func:`missing_text`)
  hold no placeholder: a missing value is said to be missing ("riwayat transaksi belum
  cukup"), never invented. Where the member cannot change a factor (the cooperative's
  arrears, the month) the improvement text says so and what the officer can do.
* ``risk_factor`` is what the feature means to an experienced loan officer (repayment
  discipline, affordability, seasonality, ...), a finer grouping than the 5C.
* ``family`` joins the windows and variants of one measure (``share_instalments_on_time_6m``
  and ``_12m``, ``late_instalments_6m``...) so that reasons never say the same thing twice;
  a feature alone in its family uses its own name as the family. All features of a family
  share their 5C group and risk factor.
* ``monotone`` is relative to RISK: +1 means a higher value gives higher risk, -1 a lower
  risk, 0 no constraint (always 0 for categorical features).

The catalog travels as data: :func:`catalog_records` gives JSON-ready records that a model
artifact stores, and :func:`catalog_from_records` rebuilds (and checks) that catalog, so a
model version explains itself with the wording it was trained with.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Literal, get_args

from features.ledger.enums import LoanProduct, LoanPurpose, Sector
from features.wording import (
    Lang,
    counted,
    format_int,
    format_number,
    format_percent,
    format_rupiah,
    month_name,
    round_half_up_int,
)
from models.stored_fields import exact_field_names

__all__ = [
    "CATALOG",
    "PROTECTED_ATTRIBUTES",
    "Feature",
    "FiveC",
    "Lang",
    "RiskFactor",
    "ValueUnit",
    "catalog_from_records",
    "catalog_records",
    "categorical_names",
    "feature",
    "feature_names",
    "format_value",
    "generic_feature",
    "improve_text",
    "missing_text",
    "monotone_constraints",
    "reason_text",
]

Dtype = Literal["float", "category"]
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
Monotone = Literal[-1, 0, 1]

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


class RiskFactor(StrEnum):
    """The underlying risk a feature speaks to, as an experienced loan officer names it."""

    REPAYMENT_DISCIPLINE = "repayment_discipline"
    AFFORDABILITY = "affordability"
    SEASONALITY = "seasonality"
    INCOME_VOLATILITY = "income_volatility"
    GROUP = "group"
    THIN_FILE = "thin_file"
    LOCAL_CONDITIONS = "local_conditions"
    SAVINGS = "savings"
    LOAN_TERMS = "loan_terms"
    OTHER = "other"  # a column of a bring-your-own table, which no catalog declares

    @property
    def label_id(self) -> str:
        return _RISK_FACTOR_LABELS_ID[self]

    @property
    def label_en(self) -> str:
        return _RISK_FACTOR_LABELS_EN[self]


_RISK_FACTOR_LABELS_ID: dict[RiskFactor, str] = {
    RiskFactor.REPAYMENT_DISCIPLINE: "Disiplin membayar",
    RiskFactor.AFFORDABILITY: "Kemampuan membayar angsuran",
    RiskFactor.SEASONALITY: "Musim",
    RiskFactor.INCOME_VOLATILITY: "Naik-turun pendapatan",
    RiskFactor.GROUP: "Kelompok tanggung renteng",
    RiskFactor.THIN_FILE: "Riwayat belum cukup",
    RiskFactor.LOCAL_CONDITIONS: "Kondisi setempat",
    RiskFactor.SAVINGS: "Tabungan",
    RiskFactor.LOAN_TERMS: "Syarat pinjaman",
    RiskFactor.OTHER: "Lainnya",
}
_RISK_FACTOR_LABELS_EN: dict[RiskFactor, str] = {
    RiskFactor.REPAYMENT_DISCIPLINE: "Repayment discipline",
    RiskFactor.AFFORDABILITY: "Affordability",
    RiskFactor.SEASONALITY: "Seasonality",
    RiskFactor.INCOME_VOLATILITY: "Income volatility",
    RiskFactor.GROUP: "Joint-liability group",
    RiskFactor.THIN_FILE: "Thin file",
    RiskFactor.LOCAL_CONDITIONS: "Local conditions",
    RiskFactor.SAVINGS: "Savings",
    RiskFactor.LOAN_TERMS: "Loan terms",
    RiskFactor.OTHER: "Other",
}

VALUE_PLACEHOLDER = "{value}"


@dataclass(frozen=True)
class Feature:
    """One model feature and how to explain it to an officer.

    Every field is stored with a model artifact (:meth:`to_dict`) and required when read
    back (:meth:`from_dict`).
    """

    name: str
    dtype: Dtype
    unit: ValueUnit
    window_months: int | None  # look-back window, None if not windowed
    group: FiveC
    risk_factor: RiskFactor
    family: str  # windows/variants of one measure share it; a lone feature uses its name
    monotone: Monotone  # direction relative to RISK: +1 = higher value, higher risk
    description_id: str
    description_en: str
    raises_risk_id: str  # reason text when this feature raises risk; contains "{value}"
    raises_risk_en: str
    lowers_risk_id: str  # favourable reason text; contains "{value}"
    lowers_risk_en: str
    improve_id: str  # how to improve, shown under an adverse reason; no placeholder
    improve_en: str
    missing_id: str  # said instead of a reason when the member has no value; no placeholder
    missing_en: str
    thin_file: bool = False
    # a 0/1 feature that must be 1 for this value to be evidence: "0 late instalments" says
    # nothing of a member who never borrowed, so it never becomes a favourable reason
    evidence: str | None = None
    # a feature counting the months the cooperative has known the member (thin file, unit
    # months): this count only covers months since joining, so while that feature is below
    # `window_months` the count is capped by it ("wajib paid 4 of 12 months" of a member of
    # 4 months), and the reasons give its contribution to that feature, not to this one
    capped_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values (enums as their values), in declaration order."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.value if isinstance(value, StrEnum) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Feature:
        """Rebuild a feature from :meth:`to_dict` output. Exactly the fields are required
        (a ValueError names missing and unknown keys), so a stored catalog never silently
        takes a newer default; values are checked, not coerced."""
        exact_field_names(cls, data)
        name = _stored_str(data, "name", "?")
        window = data["window_months"]
        if window is not None and (isinstance(window, bool) or not isinstance(window, int)):
            raise _stored_error(name, "window_months", "an int or None", window)
        thin_file = data["thin_file"]
        if not isinstance(thin_file, bool):
            raise _stored_error(name, "thin_file", "a bool", thin_file)
        evidence = data["evidence"]
        if evidence is not None and not isinstance(evidence, str):
            raise _stored_error(name, "evidence", "a feature name or None", evidence)
        capped_by = data["capped_by"]
        if capped_by is not None and not isinstance(capped_by, str):
            raise _stored_error(name, "capped_by", "a feature name or None", capped_by)
        return cls(
            name=name,
            dtype=_stored_choice(data, "dtype", name, get_args(Dtype)),
            unit=_stored_choice(data, "unit", name, get_args(ValueUnit)),
            window_months=window,
            group=FiveC(_stored_choice(data, "group", name, tuple(c.value for c in FiveC))),
            risk_factor=RiskFactor(
                _stored_choice(data, "risk_factor", name, tuple(r.value for r in RiskFactor))
            ),
            family=_stored_str(data, "family", name),
            monotone=_stored_choice(data, "monotone", name, get_args(Monotone)),
            description_id=_stored_str(data, "description_id", name),
            description_en=_stored_str(data, "description_en", name),
            raises_risk_id=_stored_str(data, "raises_risk_id", name),
            raises_risk_en=_stored_str(data, "raises_risk_en", name),
            lowers_risk_id=_stored_str(data, "lowers_risk_id", name),
            lowers_risk_en=_stored_str(data, "lowers_risk_en", name),
            improve_id=_stored_str(data, "improve_id", name),
            improve_en=_stored_str(data, "improve_en", name),
            missing_id=_stored_str(data, "missing_id", name),
            missing_en=_stored_str(data, "missing_en", name),
            thin_file=thin_file,
            evidence=evidence,
            capped_by=capped_by,
        )


def _stored_error(name: str, key: str, must: str, value: object) -> ValueError:
    return ValueError(
        f"The {key!r} of stored feature {name!r} must be {must}; got {value!r} instead."
    )


def _stored_str(data: Mapping[str, Any], key: str, name: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise _stored_error(name, key, "a str", value)
    return value


def _stored_choice(data: Mapping[str, Any], key: str, name: str, allowed: tuple[Any, ...]) -> Any:
    value = data[key]
    # bool is an int: True would pass for monotone=1
    if isinstance(value, bool) or value not in allowed:
        raise _stored_error(name, key, f"one of {list(allowed)}", value)
    return value


# ----------------------------------------------------------------------------- catalog

# the two features of the group's other members in arrears (how many, what share) share
# what the member can do about them and what a missing value means
_OTHERS_ARREARS_IMPROVE_ID = (
    "Tunggakan anggota lain di luar kendali langsung anggota ini; kelompok dapat membantu "
    "menyelesaikannya dalam pertemuan bulanan, dan petugas dapat mempertimbangkannya saat "
    "meninjau."
)
_OTHERS_ARREARS_IMPROVE_EN = (
    "Other members' arrears are outside this member's direct control; the group can help "
    "settle them at its monthly meeting, and an officer can take this into account when "
    "reviewing."
)
_OTHERS_ARREARS_MISSING_ID = (
    "Belum ada data tunggakan anggota lain di kelompok tanggung renteng pada tanggal pengajuan."
)
_OTHERS_ARREARS_MISSING_EN = (
    "There is no data on arrears of other joint-liability group members at the application date."
)


CATALOG: tuple[Feature, ...] = (
    # ------------------------------------------------------------------- CHARACTER (watak)
    Feature(
        name="share_instalments_on_time_6m",
        dtype="float",
        unit="share",
        window_months=6,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="instalment_punctuality",
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
        improve_id=(
            "Bayar setiap angsuran penuh paling lambat pada tanggal jatuh tempo selama beberapa "
            "bulan ke depan."
        ),
        improve_en="Pay each instalment in full on or before its due date over the coming months.",
        missing_id=(
            "Belum ada angsuran yang jatuh tempo dalam 6 bulan terakhir, sehingga ketepatan "
            "membayar belum dapat dinilai."
        ),
        missing_en=(
            "No instalment fell due in the last 6 months, so repayment punctuality cannot be "
            "judged yet."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="share_instalments_on_time_12m",
        dtype="float",
        unit="share",
        window_months=12,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="instalment_punctuality",
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
        improve_id=(
            "Bayar setiap angsuran penuh paling lambat pada tanggal jatuh tempo selama beberapa "
            "bulan ke depan."
        ),
        improve_en="Pay each instalment in full on or before its due date over the coming months.",
        missing_id=(
            "Belum ada angsuran yang jatuh tempo dalam 12 bulan terakhir, sehingga ketepatan "
            "membayar belum dapat dinilai."
        ),
        missing_en=(
            "No instalment fell due in the last 12 months, so repayment punctuality cannot be "
            "judged yet."
        ),
        evidence="has_prior_loan",
    ),
    # The late count is the other side of the on-time share of the same window ("only 60% on
    # time" and "3 paid late" say one thing), so both join family instalment_punctuality.
    Feature(
        name="late_instalments_6m",
        dtype="float",
        unit="count",
        window_months=6,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="instalment_punctuality",
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
        improve_id=(
            "Lunasi dulu angsuran yang masih tertunggak, lalu bayar angsuran berikutnya paling "
            "lambat pada tanggal jatuh tempo."
        ),
        improve_en=(
            "First settle any instalment still unpaid, then pay the next ones on or before their "
            "due dates."
        ),
        missing_id=(
            "Data angsuran yang jatuh tempo dalam 6 bulan terakhir belum tersedia, sehingga "
            "keterlambatan belum dapat dihitung."
        ),
        missing_en=(
            "Instalments due in the last 6 months are not on record, so late payments cannot be "
            "counted yet."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="late_instalments_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="instalment_punctuality",
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
        improve_id=(
            "Lunasi dulu angsuran yang masih tertunggak, lalu bayar angsuran berikutnya paling "
            "lambat pada tanggal jatuh tempo."
        ),
        improve_en=(
            "First settle any instalment still unpaid, then pay the next ones on or before their "
            "due dates."
        ),
        missing_id=(
            "Data angsuran yang jatuh tempo dalam 12 bulan terakhir belum tersedia, sehingga "
            "keterlambatan belum dapat dihitung."
        ),
        missing_en=(
            "Instalments due in the last 12 months are not on record, so late payments cannot be "
            "counted yet."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="max_dpd_365d",
        dtype="float",
        unit="days",
        window_months=12,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="max_dpd_365d",
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
        improve_id=(
            "Jaga agar tidak ada lagi angsuran yang terlambat; keterlambatan tidak lagi dihitung "
            "di sini 12 bulan setelah berakhir."
        ),
        improve_en=(
            "Keep every instalment on time from now on; a delay stops counting here 12 months "
            "after it ended."
        ),
        missing_id=(
            "Data angsuran untuk 12 bulan terakhir belum tersedia, sehingga lama keterlambatan "
            "belum dapat dinilai."
        ),
        missing_en=(
            "Instalments for the last 12 months are not on record, so delays cannot be judged yet."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="current_dpd",
        dtype="float",
        unit="days",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="current_dpd",
        monotone=1,
        description_id="Jumlah hari angsuran lewat jatuh tempo pada tanggal pengajuan.",
        description_en="Days past due on the member's loans at the application date.",
        raises_risk_id="Pada tanggal pengajuan ada angsuran yang menunggak {value}.",
        raises_risk_en="At the application date an instalment is {value} past due.",
        lowers_risk_id="Tunggakan angsuran pada tanggal pengajuan: {value}.",
        lowers_risk_en="Arrears on instalments at the application date: {value}.",
        improve_id=(
            "Lunasi angsuran yang sedang menunggak secepatnya; bila sulit, bicarakan jadwal "
            "pembayaran dengan petugas koperasi."
        ),
        improve_en=(
            "Pay the overdue instalment as soon as possible; if that is hard, agree a payment "
            "schedule with a cooperative officer."
        ),
        missing_id=(
            "Data angsuran pada tanggal pengajuan belum tersedia, sehingga tunggakan saat ini "
            "belum dapat diperiksa."
        ),
        missing_en=(
            "Instalments at the application date are not on record, so current arrears cannot be "
            "checked."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="months_since_last_late",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="months_since_last_late",
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
        improve_id=(
            "Bayar angsuran tepat waktu mulai sekarang; makin lama tanpa keterlambatan, makin baik "
            "penilaiannya."
        ),
        improve_en=(
            "Pay instalments on time from now on; the longer without a late payment, the better "
            "this reads."
        ),
        missing_id=(
            "Tidak ada catatan angsuran yang pernah lewat jatuh tempo, sehingga tidak ada "
            "keterlambatan terakhir untuk dihitung."
        ),
        missing_en=(
            "There is no record of an instalment ever going past due, so there is no last delay to "
            "count from."
        ),
        evidence="has_prior_loan",
    ),
    # Loans repaid in full are the repayment record itself (discipline); whether there is any
    # earlier loan at all is has_prior_loan (thin file).
    Feature(
        name="prior_loans_completed",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="prior_loans_completed",
        monotone=-1,
        description_id="Jumlah pinjaman sebelumnya yang sudah lunas sebelum tanggal pengajuan.",
        description_en="Earlier loans fully repaid before the application date.",
        raises_risk_id="Pinjaman sebelumnya yang sudah lunas baru {value}.",
        raises_risk_en="Earlier loans fully repaid so far: only {value}.",
        lowers_risk_id="Sudah melunasi {value} pinjaman sebelumnya.",
        lowers_risk_en="Earlier loans fully repaid: {value}.",
        improve_id=(
            "Lunasi pinjaman yang sedang berjalan sesuai jadwal; setiap pinjaman yang lunas "
            "menambah riwayat baik di koperasi."
        ),
        improve_en=(
            "Repay the current loan on schedule; every loan repaid in full adds to a good record "
            "with the cooperative."
        ),
        missing_id=(
            "Data pinjaman sebelumnya di koperasi belum tersedia, sehingga pelunasan pinjaman "
            "belum dapat dinilai."
        ),
        missing_en=(
            "Earlier loans with the cooperative are not on record, so loan repayment cannot be "
            "judged yet."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="prior_loans_defaulted",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="prior_loans_defaulted",
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
        improve_id=(
            "Tunggakan lama tetap tercatat; bayar pinjaman berikutnya tepat waktu untuk "
            "menunjukkan perbaikan. Petugas dapat menanyakan penyebab tunggakan itu saat meninjau."
        ),
        improve_en=(
            "Past arrears stay on record; repaying the next loans on time shows the change. An "
            "officer can ask what caused those arrears when reviewing."
        ),
        missing_id=(
            "Data pinjaman sebelumnya di koperasi belum tersedia, sehingga riwayat tunggakan berat "
            "belum dapat diperiksa."
        ),
        missing_en=(
            "Earlier loans with the cooperative are not on record, so serious arrears cannot be "
            "checked."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="wajib_months_paid_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="wajib_paid",
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
        improve_id="Setor simpanan wajib setiap bulan, dan lunasi bulan yang masih tertunggak.",
        improve_en=(
            "Pay the compulsory savings (simpanan wajib) every month, and pay up the months still "
            "owed."
        ),
        missing_id=(
            "Data simpanan wajib untuk 12 bulan terakhir belum tersedia, sehingga kedisiplinan "
            "menyetor belum dapat dinilai."
        ),
        missing_en=(
            "Compulsory savings for the last 12 months are not on record, so the habit of paying "
            "cannot be judged yet."
        ),
        capped_by="membership_months",
    ),
    Feature(
        name="share_wajib_months_paid_12m",
        dtype="float",
        unit="share",
        window_months=12,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="wajib_paid",
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
        improve_id="Setor simpanan wajib setiap bulan, dan lunasi bulan yang masih tertunggak.",
        improve_en=(
            "Pay the compulsory savings (simpanan wajib) every month, and pay up the months still "
            "owed."
        ),
        missing_id=(
            "Data simpanan wajib untuk 12 bulan terakhir belum tersedia, sehingga kedisiplinan "
            "menyetor belum dapat dinilai."
        ),
        missing_en=(
            "Compulsory savings for the last 12 months are not on record, so the habit of paying "
            "cannot be judged yet."
        ),
    ),
    # The streak and the months owed are other views of one measure, missed wajib months, and
    # join family wajib_paid: "paid 8 of 12" next to "at most 5 in a row" repeats one point.
    Feature(
        name="longest_wajib_streak_24m",
        dtype="float",
        unit="months",
        window_months=24,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="wajib_paid",
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
        improve_id=(
            "Setor simpanan wajib setiap bulan tanpa terputus; rangkaian bulan berturut-turut akan "
            "bertambah dengan sendirinya."
        ),
        improve_en=(
            "Pay the compulsory savings every month without a break; the run of consecutive months "
            "then grows by itself."
        ),
        missing_id=(
            "Data simpanan wajib untuk 24 bulan terakhir belum tersedia, sehingga kedisiplinan "
            "menyetor belum dapat dinilai."
        ),
        missing_en=(
            "Compulsory savings for the last 24 months are not on record, so the habit of paying "
            "cannot be judged yet."
        ),
        capped_by="membership_months",
    ),
    Feature(
        name="wajib_typical_pay_day_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="wajib_pay_day",
        monotone=1,
        description_id=(
            "Tanggal khas dalam bulan saat simpanan wajib disetor, 12 bulan terakhir: rata-rata "
            "geometris tanggal setor, sehingga satu bulan yang terlambat tidak menutupi kebiasaan "
            "(anggota yang disiplin menyetor di awal bulan)."
        ),
        description_en=(
            "Typical day of the month on which compulsory savings were paid, last 12 months: the "
            "geometric mean of the paying days, so one late month does not hide the habit "
            "(disciplined members pay early in the month)."
        ),
        raises_risk_id="Simpanan wajib biasanya baru disetor sekitar tanggal {value} setiap bulan.",
        raises_risk_en="Compulsory savings are usually paid only around day {value} of the month.",
        lowers_risk_id="Simpanan wajib biasanya disetor awal, sekitar tanggal {value}.",
        lowers_risk_en="Compulsory savings are usually paid early, around day {value}.",
        improve_id=(
            "Setor simpanan wajib di awal bulan, misalnya dalam minggu pertama setiap bulan."
        ),
        improve_en="Pay the compulsory savings early in the month, for example in its first week.",
        missing_id=(
            "Belum ada setoran simpanan wajib yang tercatat dalam 12 bulan terakhir, sehingga "
            "kebiasaan tanggal menyetor belum dapat dinilai."
        ),
        missing_en=(
            "No compulsory savings payment is on record for the last 12 months, so the usual day "
            "of paying cannot be judged yet."
        ),
    ),
    Feature(
        name="wajib_typical_pay_day_24m",
        dtype="float",
        unit="count",
        window_months=24,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="wajib_pay_day",
        monotone=1,
        description_id=(
            "Tanggal khas dalam bulan saat simpanan wajib disetor, 24 bulan terakhir: rata-rata "
            "geometris tanggal setor (kebiasaan jangka panjang, lebih stabil daripada 12 bulan)."
        ),
        description_en=(
            "Typical day of the month on which compulsory savings were paid, last 24 months: the "
            "geometric mean of the paying days (the long-run habit, steadier than 12 months)."
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
        improve_id=(
            "Setor simpanan wajib di awal bulan, misalnya dalam minggu pertama setiap bulan."
        ),
        improve_en="Pay the compulsory savings early in the month, for example in its first week.",
        missing_id=(
            "Belum ada setoran simpanan wajib yang tercatat dalam 24 bulan terakhir, sehingga "
            "kebiasaan tanggal menyetor belum dapat dinilai."
        ),
        missing_en=(
            "No compulsory savings payment is on record for the last 24 months, so the usual day "
            "of paying cannot be judged yet."
        ),
    ),
    Feature(
        name="wajib_months_owed",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="wajib_paid",
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
        improve_id=(
            "Lunasi simpanan wajib yang tertunggak; setiap bulan yang dilunasi mengurangi "
            "tunggakan ini."
        ),
        improve_en="Pay the compulsory savings still owed; every month paid reduces this arrear.",
        missing_id=(
            "Data simpanan wajib sejak bergabung belum tersedia, sehingga tunggakan simpanan wajib "
            "belum dapat dihitung."
        ),
        missing_en=(
            "Compulsory savings since joining are not on record, so unpaid months cannot be "
            "counted yet."
        ),
    ),
    # Months since joining and months since the first ledger record measure one thing, how long
    # the cooperative has known the member: family history_length, risk factor thin_file.
    Feature(
        name="membership_months",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.THIN_FILE,
        family="history_length",
        monotone=-1,
        description_id="Lama keanggotaan di koperasi, dalam bulan sejak bergabung.",
        description_en="Months since the member joined the cooperative.",
        raises_risk_id="Masa keanggotaan baru {value}; riwayat transaksi belum cukup.",
        raises_risk_en="Member for only {value}; the transaction history is still short.",
        lowers_risk_id="Sudah menjadi anggota koperasi selama {value}.",
        lowers_risk_en="Member of the cooperative for {value}.",
        improve_id=(
            "Riwayat ini bertambah dengan sendirinya bila anggota terus menabung dan bertransaksi "
            "di koperasi; sementara itu petugas dapat meninjau pengajuan dengan keterangan lain."
        ),
        improve_en=(
            "This history grows by itself as the member keeps saving and trading with the "
            "cooperative; meanwhile an officer can review the application with other information."
        ),
        missing_id=(
            "Tanggal bergabung anggota belum tercatat, sehingga lama keanggotaan belum dapat "
            "dihitung; riwayat transaksi belum cukup."
        ),
        missing_en=(
            "The member's joining date is not on record, so the length of membership cannot be "
            "counted; the transaction history is not enough yet."
        ),
    ),
    # ----------------------------------------------------------------- CAPACITY (kemampuan)
    Feature(
        name="avg_monthly_sales_3m",
        dtype="float",
        unit="rupiah",
        window_months=3,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="sales_level",
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
        improve_id=(
            "Jual hasil usaha melalui koperasi secara rutin agar penjualan tercatat; penjualan di "
            "luar koperasi dapat ditunjukkan kepada petugas."
        ),
        improve_en=(
            "Sell produce through the cooperative regularly so that sales are on record; sales "
            "made elsewhere can be shown to an officer."
        ),
        missing_id=(
            "Data penjualan melalui koperasi untuk 3 bulan terakhir belum tersedia, sehingga rata- "
            "rata penjualan belum dapat dihitung."
        ),
        missing_en=(
            "Sales through the cooperative for the last 3 months are not on record yet, so average "
            "sales cannot be computed."
        ),
    ),
    Feature(
        name="avg_monthly_sales_6m",
        dtype="float",
        unit="rupiah",
        window_months=6,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="sales_level",
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
        improve_id=(
            "Jual hasil usaha melalui koperasi secara rutin agar penjualan tercatat; penjualan di "
            "luar koperasi dapat ditunjukkan kepada petugas."
        ),
        improve_en=(
            "Sell produce through the cooperative regularly so that sales are on record; sales "
            "made elsewhere can be shown to an officer."
        ),
        missing_id=(
            "Data penjualan melalui koperasi untuk 6 bulan terakhir belum tersedia, sehingga rata- "
            "rata penjualan belum dapat dihitung."
        ),
        missing_en=(
            "Sales through the cooperative for the last 6 months are not on record yet, so average "
            "sales cannot be computed."
        ),
    ),
    Feature(
        name="avg_monthly_sales_12m",
        dtype="float",
        unit="rupiah",
        window_months=12,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="sales_level",
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
        improve_id=(
            "Jual hasil usaha melalui koperasi secara rutin agar penjualan tercatat; penjualan di "
            "luar koperasi dapat ditunjukkan kepada petugas."
        ),
        improve_en=(
            "Sell produce through the cooperative regularly so that sales are on record; sales "
            "made elsewhere can be shown to an officer."
        ),
        missing_id=(
            "Data penjualan melalui koperasi untuk 12 bulan terakhir belum tersedia, sehingga "
            "rata-rata penjualan belum dapat dihitung."
        ),
        missing_en=(
            "Sales through the cooperative for the last 12 months are not on record yet, so "
            "average sales cannot be computed."
        ),
    ),
    Feature(
        name="sales_trend_3m_vs_12m",
        dtype="float",
        unit="ratio",
        window_months=12,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.INCOME_VOLATILITY,
        family="sales_trend_3m_vs_12m",
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
        improve_id=(
            "Bila penjualan sedang turun untuk sementara, jelaskan penyebabnya kepada petugas; "
            "petugas dapat mempertimbangkan jumlah atau jadwal angsuran yang sesuai."
        ),
        improve_en=(
            "If sales are down for a while, explain the cause to an officer, who can consider a "
            "suitable amount or instalment schedule."
        ),
        missing_id=(
            "Belum ada penjualan melalui koperasi yang tercatat dalam 12 bulan terakhir, sehingga "
            "arah penjualan belum dapat dinilai."
        ),
        missing_en=(
            "No sales through the cooperative are on record for the last 12 months, so the sales "
            "trend cannot be judged yet."
        ),
    ),
    Feature(
        name="sales_volatility_6m",
        dtype="float",
        unit="ratio",
        window_months=6,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.INCOME_VOLATILITY,
        family="sales_volatility_6m",
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
        improve_id=(
            "Jual hasil usaha melalui koperasi secara teratur setiap bulan; bila pendapatan memang "
            "naik-turun, simpanan sukarela dapat menjadi cadangan untuk bulan yang sepi."
        ),
        improve_en=(
            "Sell produce through the cooperative steadily every month; where income truly swings, "
            "voluntary savings can be a reserve for lean months."
        ),
        missing_id=(
            "Belum ada penjualan melalui koperasi yang tercatat dalam 6 bulan terakhir, sehingga "
            "naik-turunnya penjualan belum dapat dinilai."
        ),
        missing_en=(
            "No sales through the cooperative are on record for the last 6 months, so how much "
            "sales swing cannot be judged yet."
        ),
    ),
    Feature(
        name="seasonal_dip_depth",
        dtype="float",
        unit="share",
        window_months=12,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.SEASONALITY,
        family="seasonal_dip_depth",
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
        improve_id=(
            "Sisihkan simpanan sukarela di musim ramai untuk membayar angsuran di musim sepi; "
            "petugas dapat mempertimbangkan jadwal angsuran musiman."
        ),
        improve_en=(
            "Put voluntary savings aside in the busy season to pay instalments in the lean one; an "
            "officer can consider a seasonal instalment schedule."
        ),
        missing_id=(
            "Belum ada penjualan melalui koperasi yang tercatat dalam 12 bulan terakhir, sehingga "
            "musim sepi belum dapat dinilai."
        ),
        missing_en=(
            "No sales through the cooperative are on record for the last 12 months, so the lean "
            "season cannot be judged yet."
        ),
    ),
    # The seasonal load of the requested term (features.application): the months the loan's
    # instalments fall due, read against the calendar of the member's line of business in her
    # cooperative. seasonal_dip_depth says how deep her lean season is, this when it falls.
    # Pooled over the sector's members rather than her own months: one or two years of one
    # member's sales give each calendar month one or two noisy values (measured in the README).
    Feature(
        name="term_sales_index",
        dtype="float",
        unit="share",
        window_months=24,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.SEASONALITY,
        family="term_sales_index",
        monotone=-1,
        description_id=(
            "Beban musim pada masa angsuran: rata-rata indeks penjualan usaha sejenis (sektor "
            "usaha anggota di koperasi ini; 100% = bulan biasa, dari 24 bulan terakhir) pada "
            "bulan-bulan jatuh tempo 12 angsuran pertama."
        ),
        description_en=(
            "Seasonal load of the term: mean sales index of the member's line of business in "
            "this cooperative (100% = a usual month, from the last 24 months) over the months "
            "the first 12 instalments fall due."
        ),
        raises_risk_id=(
            "Angsuran jatuh pada bulan-bulan yang lebih sepi bagi usaha sejenis di koperasi ini: "
            "penjualan di bulan-bulan itu rata-rata {value} dari penjualan bulan biasa."
        ),
        raises_risk_en=(
            "The instalments fall due in the leaner months of this line of business in the "
            "cooperative: sales in those months average {value} of a usual month."
        ),
        lowers_risk_id=(
            "Angsuran jatuh pada bulan-bulan yang cukup ramai bagi usaha sejenis di koperasi ini: "
            "penjualan di bulan-bulan itu rata-rata {value} dari penjualan bulan biasa."
        ),
        lowers_risk_en=(
            "The instalments fall due in fair months for this line of business in the "
            "cooperative: sales in those months average {value} of a usual month."
        ),
        improve_id=(
            "Musim usaha di luar kendali anggota; petugas dapat mempertimbangkan jadwal angsuran "
            "musiman (angsuran lebih kecil di bulan sepi, lebih besar di bulan ramai) atau waktu "
            "pencairan lain, dan anggota dapat menyisihkan simpanan sukarela di musim ramai."
        ),
        improve_en=(
            "The business season is outside the member's control; an officer can consider a "
            "seasonal instalment schedule (smaller instalments in lean months, larger in busy "
            "ones) or another disbursement date, and the member can put voluntary savings aside "
            "in the busy season."
        ),
        missing_id=(
            "Penjualan usaha sejenis di koperasi ini belum tercatat untuk setiap bulan dalam "
            "setahun (atau syarat pinjaman belum tersedia), sehingga musim pada masa angsuran "
            "belum dapat dinilai."
        ),
        missing_en=(
            "Sales of this line of business in the cooperative are not on record for every month "
            "of the year (or the loan terms are not), so the season of the instalment months "
            "cannot be judged yet."
        ),
    ),
    Feature(
        name="months_with_sales_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.INCOME_VOLATILITY,
        family="months_with_sales_12m",
        monotone=-1,
        description_id="Jumlah bulan dari 12 bulan terakhir dengan penjualan melalui koperasi.",
        description_en="Months of the last 12 with sales through the cooperative.",
        raises_risk_id="Ada penjualan melalui koperasi hanya pada {value} dari 12 bulan terakhir.",
        raises_risk_en="Sales through the cooperative in only {value} of the last 12 months.",
        lowers_risk_id="Ada penjualan melalui koperasi pada {value} dari 12 bulan terakhir.",
        lowers_risk_en="Sales through the cooperative in {value} of the last 12 months.",
        improve_id=(
            "Jual hasil usaha melalui koperasi setiap bulan, walau dalam jumlah kecil, agar "
            "kegiatan usaha tercatat."
        ),
        improve_en=(
            "Sell produce through the cooperative every month, even in small amounts, so that the "
            "business activity is on record."
        ),
        missing_id=(
            "Data penjualan melalui koperasi untuk 12 bulan terakhir belum tersedia, sehingga "
            "bulan dengan penjualan belum dapat dihitung."
        ),
        missing_en=(
            "Sales through the cooperative for the last 12 months are not on record yet, so months "
            "with sales cannot be counted."
        ),
        capped_by="membership_months",
    ),
    # The same number as avg_monthly_sales_12m (missing sales read 0 here) but read as the
    # income that instalments are paid from: affordability, so a family of its own (a family
    # shares one risk factor).
    Feature(
        name="estimated_monthly_income",
        dtype="float",
        unit="rupiah",
        window_months=12,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="estimated_monthly_income",
        monotone=-1,
        description_id=(
            "Perkiraan pendapatan usaha per bulan: rata-rata penjualan bulanan selama bulan "
            "keanggotaan dalam 12 bulan terakhir."
        ),
        description_en=(
            "Estimated monthly business income: average monthly sales over the member's "
            "months of membership in the last 12 months."
        ),
        raises_risk_id="Penjualan lewat koperasi hanya {value} per bulan (12 bulan terakhir).",
        raises_risk_en="Sales through the cooperative are only {value} a month (last 12 months).",
        lowers_risk_id="Penjualan lewat koperasi {value} per bulan (12 bulan terakhir).",
        lowers_risk_en="Sales through the cooperative are {value} a month (last 12 months).",
        improve_id=(
            "Catatkan penjualan hasil usaha melalui koperasi agar pendapatan terlihat; bukti "
            "pendapatan lain dapat ditunjukkan kepada petugas, atau ajukan jumlah pinjaman yang "
            "lebih kecil."
        ),
        improve_en=(
            "Record produce sales through the cooperative so that income shows; other proof of "
            "income can be shown to an officer, or a smaller loan applied for."
        ),
        missing_id=(
            "Belum ada data pendapatan usaha (penjualan melalui koperasi) untuk 12 bulan terakhir, "
            "sehingga kemampuan membayar belum dapat dinilai."
        ),
        missing_en=(
            "There is no business income data (sales through the cooperative) for the last 12 "
            "months, so the ability to repay cannot be judged yet."
        ),
    ),
    Feature(
        name="sembako_spend_3m",
        dtype="float",
        unit="rupiah",
        window_months=3,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="sembako_spend",
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
        improve_id=(
            "Belanja kebutuhan sehari-hari di gerai sembako koperasi membuat pengeluaran rumah "
            "tangga tercatat; petugas dapat menanyakan pengeluaran lain saat meninjau."
        ),
        improve_en=(
            "Buying daily needs at the cooperative's sembako outlet puts household spending on "
            "record; an officer can ask about other spending when reviewing."
        ),
        missing_id=(
            "Data belanja di gerai sembako koperasi untuk 3 bulan terakhir belum tersedia, "
            "sehingga pengeluaran rumah tangga belum dapat dinilai."
        ),
        missing_en=(
            "Purchases at the cooperative's sembako outlet for the last 3 months are not on record "
            "yet, so household spending cannot be judged."
        ),
    ),
    Feature(
        name="sembako_spend_12m",
        dtype="float",
        unit="rupiah",
        window_months=12,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="sembako_spend",
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
        improve_id=(
            "Belanja kebutuhan sehari-hari di gerai sembako koperasi membuat pengeluaran rumah "
            "tangga tercatat; petugas dapat menanyakan pengeluaran lain saat meninjau."
        ),
        improve_en=(
            "Buying daily needs at the cooperative's sembako outlet puts household spending on "
            "record; an officer can ask about other spending when reviewing."
        ),
        missing_id=(
            "Data belanja di gerai sembako koperasi untuk 12 bulan terakhir belum tersedia, "
            "sehingga pengeluaran rumah tangga belum dapat dinilai."
        ),
        missing_en=(
            "Purchases at the cooperative's sembako outlet for the last 12 months are not on "
            "record yet, so household spending cannot be judged."
        ),
    ),
    # Kasbon by amount over 6 months is a recent cash squeeze, declared under Capacity, so it
    # speaks to affordability; the 24-month count below is the habit (Character, repayment
    # discipline). Different 5C groups cannot share a family, so each is its own.
    Feature(
        name="sembako_credit_share_6m",
        dtype="float",
        unit="share",
        window_months=6,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="sembako_credit_share_6m",
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
        improve_id="Kurangi belanja sembako secara bon dan lunasi bon yang masih ada.",
        improve_en="Buy fewer sembako goods on credit (bon) and settle the bon still open.",
        missing_id=(
            "Belum ada belanja di gerai sembako koperasi yang tercatat dalam 6 bulan terakhir, "
            "sehingga porsi belanja secara bon belum dapat dihitung."
        ),
        missing_en=(
            "No purchases at the cooperative's sembako outlet are on record for the last 6 months, "
            "so the share bought on credit (bon) cannot be computed."
        ),
    ),
    Feature(
        name="sembako_credit_share_24m",
        dtype="float",
        unit="share",
        window_months=24,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="sembako_credit_share_24m",
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
        improve_id=(
            "Biasakan membayar tunai saat berbelanja sembako; kebiasaan ini dinilai dari 24 bulan, "
            "jadi perubahannya terlihat bertahap."
        ),
        improve_en=(
            "Make a habit of paying cash for sembako; this habit is judged over 24 months, so a "
            "change shows gradually."
        ),
        missing_id=(
            "Belum ada belanja di gerai sembako koperasi yang tercatat dalam 24 bulan terakhir, "
            "sehingga porsi belanja secara bon belum dapat dihitung."
        ),
        missing_en=(
            "No purchases at the cooperative's sembako outlet are on record for the last 24 "
            "months, so the share bought on credit (bon) cannot be computed."
        ),
    ),
    # The proposed instalment against income and all instalments against income are one burden
    # measure (equal when there is no other loan): family instalment_burden.
    Feature(
        name="instalment_to_income",
        dtype="float",
        unit="ratio",
        window_months=None,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="instalment_burden",
        monotone=1,
        description_id=(
            "Angsuran bulanan yang diajukan dibagi perkiraan pendapatan usaha per bulan."
        ),
        description_en="Proposed monthly instalment divided by estimated monthly income.",
        raises_risk_id=(
            "Angsuran yang diajukan tinggi dibanding penjualan lewat koperasi: rasio terhadap "
            "rata-rata penjualan bulanan {value}."
        ),
        raises_risk_en=(
            "The proposed instalment is high relative to sales through the cooperative: ratio "
            "to average monthly sales {value}."
        ),
        lowers_risk_id=(
            "Angsuran yang diajukan ringan dibanding penjualan lewat koperasi: rasio terhadap "
            "rata-rata penjualan bulanan {value}."
        ),
        lowers_risk_en=(
            "The proposed instalment is light relative to sales through the cooperative: ratio "
            "to average monthly sales {value}."
        ),
        improve_id=(
            "Ajukan jumlah pinjaman yang lebih kecil atau jangka waktu yang lebih panjang agar "
            "angsuran bulanan lebih ringan."
        ),
        improve_en=(
            "Apply for a smaller amount or a longer term so that the monthly instalment is lighter."
        ),
        missing_id=(
            "Data pendapatan usaha atau syarat pinjaman belum tersedia, sehingga angsuran belum "
            "dapat dibandingkan dengan pendapatan."
        ),
        missing_en=(
            "Business income or the loan terms are not on record, so the instalment cannot be "
            "compared with income yet."
        ),
    ),
    Feature(
        name="instalment_to_sembako_spend",
        dtype="float",
        unit="ratio",
        window_months=12,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="instalment_to_sembako_spend",
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
        improve_id=(
            "Ajukan jumlah pinjaman yang lebih kecil atau jangka waktu yang lebih panjang agar "
            "angsuran sebanding dengan pengeluaran rumah tangga."
        ),
        improve_en=(
            "Apply for a smaller amount or a longer term so that the instalment fits household "
            "spending."
        ),
        missing_id=(
            "Data belanja sembako di koperasi atau syarat pinjaman belum tersedia, sehingga "
            "angsuran belum dapat dibandingkan dengan pengeluaran."
        ),
        missing_en=(
            "Sembako spending at the cooperative or the loan terms are not on record, so the "
            "instalment cannot be compared with spending yet."
        ),
    ),
    Feature(
        name="existing_debt_service",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="existing_debt_service",
        monotone=1,
        description_id=(
            "Angsuran pinjaman lain yang jatuh tempo dalam 30 hari setelah tanggal pengajuan."
        ),
        description_en="Instalments of other loans due in the 30 days after the application date.",
        raises_risk_id="Angsuran pinjaman lain yang jatuh tempo dalam 30 hari ke depan: {value}.",
        raises_risk_en="Instalments on other loans due in the next 30 days: {value}.",
        lowers_risk_id="Angsuran pinjaman lain dalam 30 hari ke depan hanya {value}.",
        lowers_risk_en="Instalments on other loans due in the next 30 days are only {value}.",
        improve_id=(
            "Selesaikan atau kurangi angsuran pinjaman lain lebih dulu sebelum menambah pinjaman "
            "baru."
        ),
        improve_en="Settle or reduce the instalments on other loans before adding a new loan.",
        missing_id=(
            "Data pinjaman lain yang sedang berjalan belum tersedia, sehingga angsuran lain belum "
            "dapat dihitung."
        ),
        missing_en=(
            "Other running loans are not on record, so their instalments cannot be counted yet."
        ),
    ),
    Feature(
        name="debt_service_to_income",
        dtype="float",
        unit="ratio",
        window_months=None,
        group=FiveC.CAPACITY,
        risk_factor=RiskFactor.AFFORDABILITY,
        family="instalment_burden",
        monotone=1,
        description_id=(
            "Angsuran yang diajukan ditambah angsuran pinjaman lain, dibagi perkiraan "
            "pendapatan usaha per bulan."
        ),
        description_en=("Proposed plus existing instalments divided by estimated monthly income."),
        raises_risk_id=(
            "Total angsuran (yang diajukan dan pinjaman lain) tinggi dibanding penjualan lewat "
            "koperasi: rasio terhadap rata-rata penjualan bulanan {value}."
        ),
        raises_risk_en=(
            "Total instalments (proposed and other loans) are high relative to sales through "
            "the cooperative: ratio to average monthly sales {value}."
        ),
        lowers_risk_id=(
            "Total angsuran (yang diajukan dan pinjaman lain) ringan dibanding penjualan lewat "
            "koperasi: rasio terhadap rata-rata penjualan bulanan {value}."
        ),
        lowers_risk_en=(
            "Total instalments (proposed and other loans) are light relative to sales through "
            "the cooperative: ratio to average monthly sales {value}."
        ),
        improve_id=(
            "Lunasi atau kurangi pinjaman lain lebih dulu, atau ajukan jumlah yang lebih kecil "
            "atau jangka waktu yang lebih panjang."
        ),
        improve_en="Pay down other loans first, or apply for a smaller amount or a longer term.",
        missing_id=(
            "Data pendapatan usaha atau syarat pinjaman belum tersedia, sehingga total angsuran "
            "belum dapat dibandingkan dengan pendapatan."
        ),
        missing_en=(
            "Business income or the loan terms are not on record, so total instalments cannot be "
            "compared with income yet."
        ),
    ),
    # ------------------------------------------------------------------- CAPITAL (modal)
    Feature(
        name="sukarela_balance",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CAPITAL,
        risk_factor=RiskFactor.SAVINGS,
        family="sukarela_balance",
        monotone=-1,
        description_id="Saldo simpanan sukarela pada tanggal pengajuan.",
        description_en="Voluntary savings (simpanan sukarela) balance at the application date.",
        raises_risk_id="Saldo simpanan sukarela saat pengajuan hanya {value}.",
        raises_risk_en=(
            "Voluntary savings (simpanan sukarela) balance at application is only {value}."
        ),
        lowers_risk_id="Saldo simpanan sukarela saat pengajuan {value}.",
        lowers_risk_en="Voluntary savings (simpanan sukarela) balance at application is {value}.",
        improve_id=(
            "Sisihkan simpanan sukarela secara rutin, walau sedikit, sebagai cadangan untuk "
            "membayar angsuran."
        ),
        improve_en=(
            "Put a little into voluntary savings (simpanan sukarela) regularly, as a reserve for "
            "instalments."
        ),
        missing_id=(
            "Data simpanan sukarela pada tanggal pengajuan belum tersedia, sehingga cadangan "
            "tabungan belum dapat dinilai."
        ),
        missing_en=(
            "Voluntary savings at the application date are not on record, so the savings reserve "
            "cannot be judged yet."
        ),
    ),
    Feature(
        name="sukarela_trend_3m",
        dtype="float",
        unit="rupiah",
        window_months=3,
        group=FiveC.CAPITAL,
        risk_factor=RiskFactor.SAVINGS,
        family="sukarela_trend_3m",
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
        improve_id=(
            "Jaga agar saldo simpanan sukarela tidak berkurang: setor lebih sering dan tarik hanya "
            "bila perlu."
        ),
        improve_en=(
            "Keep the voluntary savings balance from falling: pay in more often and withdraw only "
            "when needed."
        ),
        missing_id=(
            "Data simpanan sukarela untuk 3 bulan terakhir belum tersedia, sehingga perubahan "
            "saldo belum dapat dihitung."
        ),
        missing_en=(
            "Voluntary savings for the last 3 months are not on record, so the change in balance "
            "cannot be computed yet."
        ),
    ),
    Feature(
        name="sukarela_withdrawals_6m",
        dtype="float",
        unit="count",
        window_months=6,
        group=FiveC.CAPITAL,
        risk_factor=RiskFactor.SAVINGS,
        family="sukarela_withdrawals_6m",
        monotone=1,
        description_id="Jumlah penarikan simpanan sukarela dalam 6 bulan terakhir.",
        description_en="Number of voluntary savings withdrawals in the last 6 months.",
        raises_risk_id="Simpanan sukarela ditarik {value} kali dalam 6 bulan terakhir.",
        raises_risk_en="Voluntary savings withdrawals in the last 6 months: {value}.",
        lowers_risk_id="Penarikan simpanan sukarela dalam 6 bulan terakhir hanya {value} kali.",
        lowers_risk_en="Voluntary savings withdrawals in the last 6 months: only {value}.",
        improve_id=(
            "Tarik simpanan sukarela hanya bila benar-benar perlu, agar tabungan tetap menjadi "
            "cadangan."
        ),
        improve_en=(
            "Withdraw voluntary savings only when truly needed, so that they stay a reserve."
        ),
        missing_id=(
            "Data simpanan sukarela untuk 6 bulan terakhir belum tersedia, sehingga penarikan "
            "belum dapat dihitung."
        ),
        missing_en=(
            "Voluntary savings for the last 6 months are not on record, so withdrawals cannot be "
            "counted yet."
        ),
    ),
    # Declared under Capital, but sukarela drawn just before a due date is how an instalment is
    # being met (DOMAIN.md: a strong behavioural signal), so its risk factor is repayment
    # discipline, not savings.
    Feature(
        name="withdrawals_before_due_12m",
        dtype="float",
        unit="count",
        window_months=12,
        group=FiveC.CAPITAL,
        risk_factor=RiskFactor.REPAYMENT_DISCIPLINE,
        family="withdrawals_before_due_12m",
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
        improve_id=(
            "Sisihkan uang angsuran dari pendapatan sebelum jatuh tempo, agar simpanan sukarela "
            "tidak perlu ditarik menjelang tanggal jatuh tempo."
        ),
        improve_en=(
            "Set the instalment money aside from income ahead of the due date, so that voluntary "
            "savings need not be drawn just before it."
        ),
        missing_id=(
            "Data simpanan sukarela atau angsuran untuk 12 bulan terakhir belum tersedia, sehingga "
            "penarikan menjelang jatuh tempo belum dapat dihitung."
        ),
        missing_en=(
            "Voluntary savings or instalments for the last 12 months are not on record, so "
            "withdrawals before due dates cannot be counted yet."
        ),
        evidence="has_prior_loan",
    ),
    Feature(
        name="total_savings",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CAPITAL,
        risk_factor=RiskFactor.SAVINGS,
        family="total_savings",
        monotone=-1,
        description_id="Total simpanan pokok, wajib dan sukarela pada tanggal pengajuan.",
        description_en=(
            "Total of principal, compulsory and voluntary savings at the application date."
        ),
        raises_risk_id="Total simpanan (pokok, wajib dan sukarela) hanya {value}.",
        raises_risk_en="Total savings (pokok, wajib and sukarela) are only {value}.",
        lowers_risk_id="Total simpanan (pokok, wajib dan sukarela) {value}.",
        lowers_risk_en="Total savings (pokok, wajib and sukarela) are {value}.",
        improve_id="Setor simpanan wajib setiap bulan dan tambah simpanan sukarela secara rutin.",
        improve_en="Pay the compulsory savings every month and add to voluntary savings regularly.",
        missing_id=(
            "Data simpanan pada tanggal pengajuan belum tersedia, sehingga total simpanan belum "
            "dapat dihitung."
        ),
        missing_en=(
            "Savings at the application date are not on record, so total savings cannot be "
            "computed yet."
        ),
    ),
    # ------------------------------------- COLLATERAL (jaminan sosial, tanggung renteng)
    Feature(
        name="in_group",
        dtype="float",
        unit="flag",
        window_months=None,
        group=FiveC.COLLATERAL,
        risk_factor=RiskFactor.GROUP,
        family="in_group",
        monotone=0,
        description_id="Apakah anggota tergabung dalam kelompok tanggung renteng.",
        description_en="Whether the member belongs to a joint-liability (tanggung renteng) group.",
        raises_risk_id="Tergabung dalam kelompok tanggung renteng: {value}.",
        raises_risk_en="Member of a joint-liability (tanggung renteng) group: {value}.",
        lowers_risk_id="Tergabung dalam kelompok tanggung renteng: {value}.",
        lowers_risk_en="Member of a joint-liability (tanggung renteng) group: {value}.",
        improve_id=(
            "Keanggotaan kelompok tanggung renteng dapat dibicarakan dengan petugas, yang dapat "
            "menjelaskan cara kerja dan manfaatnya."
        ),
        improve_en=(
            "Joint-liability group membership can be discussed with an officer, who can explain "
            "how it works and what it offers."
        ),
        missing_id="Belum tercatat apakah anggota tergabung dalam kelompok tanggung renteng.",
        missing_en="It is not on record whether the member belongs to a joint-liability group.",
    ),
    Feature(
        name="group_size",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.COLLATERAL,
        risk_factor=RiskFactor.GROUP,
        family="group_size",
        monotone=0,
        description_id="Jumlah anggota kelompok tanggung renteng.",
        description_en="Number of members in the joint-liability group.",
        raises_risk_id="Jumlah anggota kelompok tanggung renteng: {value} orang.",
        raises_risk_en="Joint-liability group size: {value} members.",
        lowers_risk_id="Jumlah anggota kelompok tanggung renteng: {value} orang.",
        lowers_risk_en="Joint-liability group size: {value} members.",
        improve_id=(
            "Jumlah anggota kelompok ditentukan bersama oleh kelompok; petugas dapat "
            "mempertimbangkannya saat meninjau."
        ),
        improve_en=(
            "The group's size is for the group to decide together; an officer can take it into "
            "account when reviewing."
        ),
        missing_id="Jumlah anggota kelompok tanggung renteng belum tercatat.",
        missing_en="The size of the joint-liability group is not on record.",
        evidence="in_group",
    ),
    Feature(
        name="group_members_in_arrears",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.COLLATERAL,
        risk_factor=RiskFactor.GROUP,
        family="group_arrears",
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
        improve_id=_OTHERS_ARREARS_IMPROVE_ID,
        improve_en=_OTHERS_ARREARS_IMPROVE_EN,
        missing_id=_OTHERS_ARREARS_MISSING_ID,
        missing_en=_OTHERS_ARREARS_MISSING_EN,
        evidence="in_group",
    ),
    Feature(
        name="group_share_in_arrears",
        dtype="float",
        unit="share",
        window_months=None,
        group=FiveC.COLLATERAL,
        risk_factor=RiskFactor.GROUP,
        family="group_arrears",
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
        improve_id=_OTHERS_ARREARS_IMPROVE_ID,
        improve_en=_OTHERS_ARREARS_IMPROVE_EN,
        missing_id=_OTHERS_ARREARS_MISSING_ID,
        missing_en=_OTHERS_ARREARS_MISSING_EN,
        evidence="in_group",
    ),
    Feature(
        name="group_past_defaults",
        dtype="float",
        unit="count",
        window_months=None,
        group=FiveC.COLLATERAL,
        risk_factor=RiskFactor.GROUP,
        family="group_past_defaults",
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
        improve_id=(
            "Riwayat tunggakan berat anggota lain di kelompok di luar kendali anggota ini; petugas "
            "dapat mempertimbangkan cara kelompok menyelesaikannya saat meninjau."
        ),
        improve_en=(
            "Serious past arrears of other group members are outside this member's control; an "
            "officer can consider how the group dealt with them when reviewing."
        ),
        missing_id=(
            "Data riwayat pinjaman anggota lain di kelompok tanggung renteng belum tersedia."
        ),
        missing_en="Earlier loans of the other joint-liability group members are not on record.",
        evidence="in_group",
    ),
    # ----------------------------------------------------------------- CONDITION (kondisi)
    Feature(
        name="coop_arrears_rate_3m",
        dtype="float",
        unit="share",
        window_months=3,
        group=FiveC.CONDITION,
        risk_factor=RiskFactor.LOCAL_CONDITIONS,
        family="coop_arrears_rate_3m",
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
        improve_id=(
            "Ini kondisi di luar kendali anggota; petugas dapat mempertimbangkannya saat meninjau."
        ),
        improve_en=(
            "This is a condition outside the member's control; an officer can take it into account "
            "when reviewing."
        ),
        missing_id="Data tunggakan peminjam di koperasi ini untuk 3 bulan terakhir belum tersedia.",
        missing_en=(
            "Arrears among this cooperative's borrowers for the last 3 months are not on record."
        ),
    ),
    # Risk factor seasonality, not local_conditions: to an officer the month only says where the
    # first instalments fall in the planting, harvest and monsoon calendar (its own description
    # says so), which is the seasonality of income; local conditions are what the cooperative
    # and its place go through (coop_arrears_rate_3m), which the month does not measure.
    Feature(
        name="application_month",
        dtype="category",
        unit="month_of_year",
        window_months=None,
        group=FiveC.CONDITION,
        risk_factor=RiskFactor.SEASONALITY,
        family="application_month",
        monotone=0,
        description_id="Bulan pengajuan pinjaman (musim tanam dan panen).",
        description_en="Month of the loan application (planting and harvest seasons).",
        raises_risk_id="Bulan pengajuan: {value}.",
        raises_risk_en="Application month: {value}.",
        lowers_risk_id="Bulan pengajuan: {value}.",
        lowers_risk_en="Application month: {value}.",
        improve_id=(
            "Bulan pengajuan di luar kendali anggota; petugas dapat mempertimbangkan jadwal "
            "angsuran yang mengikuti musim usaha anggota."
        ),
        improve_en=(
            "The month of application is outside the member's control; an officer can consider an "
            "instalment schedule that follows the member's business season."
        ),
        missing_id="Bulan pengajuan belum tercatat.",
        missing_en="The month of application is not on record.",
    ),
    Feature(
        name="loan_amount",
        dtype="float",
        unit="rupiah",
        window_months=None,
        group=FiveC.CONDITION,
        # a loan term, but the risk it carries is the instalment the member must pay from her
        # income: a larger amount is a larger instalment on the same business (the tenor's
        # risk, a longer exposure, and the product's stay loan terms); measured in the README
        risk_factor=RiskFactor.AFFORDABILITY,
        family="loan_amount",
        monotone=0,
        description_id="Pokok pinjaman yang diajukan.",
        description_en="Principal requested.",
        raises_risk_id=(
            "Jumlah pinjaman yang diajukan: {value}; angsurannya dibayar dari pendapatan usaha."
        ),
        raises_risk_en="Loan amount requested: {value}, its instalments paid from business income.",
        lowers_risk_id="Jumlah pinjaman yang diajukan: {value}.",
        lowers_risk_en="Loan amount requested: {value}.",
        improve_id=(
            "Pertimbangkan jumlah pinjaman yang lebih kecil, sesuai kebutuhan usaha dan kemampuan "
            "membayar."
        ),
        improve_en=(
            "Consider a smaller loan amount that fits the business need and the ability to repay."
        ),
        missing_id="Jumlah pinjaman yang diajukan belum diisi.",
        missing_en="The requested loan amount is not filled in.",
    ),
    Feature(
        name="tenor_months",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CONDITION,
        risk_factor=RiskFactor.LOAN_TERMS,
        family="tenor_months",
        monotone=1,
        description_id="Jangka waktu pinjaman yang diajukan, dalam bulan.",
        description_en="Requested loan term in months.",
        raises_risk_id="Jangka waktu pinjaman yang diajukan cukup panjang: {value}.",
        raises_risk_en="The requested loan term is long: {value}.",
        lowers_risk_id="Jangka waktu pinjaman yang diajukan: {value}.",
        lowers_risk_en="Requested loan term: {value}.",
        improve_id=(
            "Pertimbangkan jangka waktu yang lebih pendek bila angsurannya tetap terjangkau, "
            "misalnya dengan jumlah pinjaman yang lebih kecil."
        ),
        improve_en=(
            "Consider a shorter term if the instalment stays affordable, for example with a "
            "smaller loan amount."
        ),
        missing_id="Jangka waktu pinjaman yang diajukan belum diisi.",
        missing_en="The requested loan term is not filled in.",
    ),
    Feature(
        name="flat_monthly_rate",
        dtype="float",
        unit="rate",
        window_months=None,
        group=FiveC.CONDITION,
        risk_factor=RiskFactor.LOAN_TERMS,
        family="flat_monthly_rate",
        monotone=0,
        description_id="Bunga flat per bulan dari produk pinjaman.",
        description_en="Flat monthly interest rate of the loan product.",
        raises_risk_id="Bunga flat per bulan: {value}.",
        raises_risk_en="Flat monthly interest rate: {value}.",
        lowers_risk_id="Bunga flat per bulan: {value}.",
        lowers_risk_en="Flat monthly interest rate: {value}.",
        improve_id=(
            "Tanyakan kepada petugas tentang produk pinjaman koperasi lain dengan bunga yang lebih "
            "ringan."
        ),
        improve_en="Ask an officer about the cooperative's other loan products with a lower rate.",
        missing_id="Bunga pinjaman yang diajukan belum tercatat.",
        missing_en="The interest rate of the requested loan is not on record.",
    ),
    Feature(
        name="loan_purpose",
        dtype="category",
        unit="category",
        window_months=None,
        group=FiveC.CONDITION,
        risk_factor=RiskFactor.LOAN_TERMS,
        family="loan_purpose",
        monotone=0,
        description_id="Tujuan pinjaman yang dinyatakan anggota.",
        description_en="Loan purpose stated by the member.",
        raises_risk_id="Tujuan pinjaman: {value}.",
        raises_risk_en="Loan purpose: {value}.",
        lowers_risk_id="Tujuan pinjaman: {value}.",
        lowers_risk_en="Loan purpose: {value}.",
        improve_id=(
            "Jelaskan tujuan pinjaman secara rinci kepada petugas, misalnya rencana penggunaannya "
            "untuk usaha."
        ),
        improve_en=(
            "Explain the purpose of the loan in detail to an officer, for example how it will be "
            "used in the business."
        ),
        missing_id="Tujuan pinjaman belum diisi.",
        missing_en="The loan purpose is not filled in.",
    ),
    Feature(
        name="loan_product",
        dtype="category",
        unit="category",
        window_months=None,
        group=FiveC.CONDITION,
        risk_factor=RiskFactor.LOAN_TERMS,
        family="loan_product",
        monotone=0,
        description_id="Produk pinjaman koperasi yang diajukan.",
        description_en="The cooperative's loan product applied for.",
        raises_risk_id="Produk pinjaman: {value}.",
        raises_risk_en="Loan product: {value}.",
        lowers_risk_id="Produk pinjaman: {value}.",
        lowers_risk_en="Loan product: {value}.",
        improve_id=(
            "Tanyakan kepada petugas produk pinjaman koperasi yang paling sesuai dengan kebutuhan "
            "dan waktu datangnya pendapatan usaha."
        ),
        improve_en=(
            "Ask an officer which of the cooperative's loan products best fits the need and the "
            "timing of business income."
        ),
        missing_id="Produk pinjaman yang diajukan belum tercatat.",
        missing_en="The loan product applied for is not on record.",
    ),
    # The kind of business the member runs: business activity.
    Feature(
        name="business_sector",
        dtype="category",
        unit="category",
        window_months=None,
        group=FiveC.CONDITION,
        # by meaning: what a sector tells an officer is how steady its income is (fishing
        # stops in the west monsoon, snacks peak before Idul Fitri); measured in the README
        risk_factor=RiskFactor.INCOME_VOLATILITY,
        family="business_sector",
        monotone=0,
        description_id="Sektor usaha anggota.",
        description_en="The member's business sector.",
        raises_risk_id="Pendapatan usaha di sektor {value} cenderung naik-turun.",
        raises_risk_en="Income in the {value} sector tends to rise and fall.",
        lowers_risk_id="Pendapatan usaha di sektor {value} relatif stabil.",
        lowers_risk_en="Income in the {value} sector is fairly steady.",
        improve_id=(
            "Sektor usaha tidak perlu diubah; jadwal angsuran yang mengikuti musim usaha dapat "
            "dibicarakan dengan petugas."
        ),
        improve_en=(
            "There is no need to change the business sector; a repayment schedule that follows "
            "the business's seasons can be discussed with an officer."
        ),
        missing_id="Sektor usaha anggota belum tercatat.",
        missing_en="The member's business sector is not on record.",
    ),
    # ------------------------------------------------ THIN FILE (watak, sparse history)
    Feature(
        name="months_of_history",
        dtype="float",
        unit="months",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.THIN_FILE,
        family="history_length",
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
        improve_id=(
            "Riwayat ini bertambah dengan sendirinya bila anggota terus menabung dan bertransaksi "
            "di koperasi; sementara itu petugas dapat meninjau pengajuan dengan keterangan lain."
        ),
        improve_en=(
            "This history grows by itself as the member keeps saving and trading with the "
            "cooperative; meanwhile an officer can review the application with other information."
        ),
        missing_id=(
            "Belum ada catatan anggota di buku koperasi; riwayat transaksi belum cukup untuk "
            "menilai."
        ),
        missing_en=(
            "The member has no record in the cooperative's ledger yet; the transaction history is "
            "not enough to judge."
        ),
        thin_file=True,
    ),
    Feature(
        name="has_prior_loan",
        dtype="float",
        unit="flag",
        window_months=None,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.THIN_FILE,
        family="has_prior_loan",
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
        improve_id=(
            "Pinjaman pertama dengan jumlah kecil yang dibayar tepat waktu membangun riwayat "
            "angsuran; petugas dapat meninjau pengajuan ini dengan keterangan lain."
        ),
        improve_en=(
            "A small first loan repaid on time builds an instalment history; an officer can review "
            "this application with other information."
        ),
        missing_id=(
            "Data pinjaman di koperasi belum tersedia, sehingga belum diketahui apakah anggota "
            "pernah meminjam; riwayat transaksi belum cukup."
        ),
        missing_en=(
            "Loans with the cooperative are not on record, so it is not known whether the member "
            "has borrowed before; the transaction history is not enough yet."
        ),
        thin_file=True,
    ),
    Feature(
        name="ledger_events_6m",
        dtype="float",
        unit="count",
        window_months=6,
        group=FiveC.CHARACTER,
        risk_factor=RiskFactor.THIN_FILE,
        family="ledger_events_6m",
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
        improve_id=(
            "Catatkan simpanan, belanja dan penjualan hasil usaha melalui koperasi; makin lengkap "
            "catatannya, makin mudah menilai."
        ),
        improve_en=(
            "Record savings, purchases and produce sales through the cooperative; the fuller the "
            "record, the easier it is to judge."
        ),
        missing_id=(
            "Catatan simpanan, belanja dan penjualan untuk 6 bulan terakhir belum tersedia; "
            "riwayat transaksi belum cukup."
        ),
        missing_en=(
            "Savings, purchase and sales records for the last 6 months are not available; the "
            "transaction history is not enough yet."
        ),
        thin_file=True,
    ),
)


def _check_catalog(catalog: Sequence[Feature]) -> dict[str, Feature]:
    """Index the catalog by name, refusing declarations that would break explanations."""
    by_name: dict[str, Feature] = {}
    families: defaultdict[str, list[Feature]] = defaultdict(list)
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
        for text in (f.improve_id, f.improve_en, f.missing_id, f.missing_en):
            if not text.strip():
                raise ValueError(f"feature {f.name!r} needs improve and missing texts in id and en")
            if "{" in text or "}" in text:
                raise ValueError(
                    f"improve and missing texts of {f.name!r} take no placeholder such as "
                    f"{{value}}: {text!r}"
                )
        if f.thin_file and f.risk_factor is not RiskFactor.THIN_FILE:
            raise ValueError(
                f"thin-file feature {f.name!r} must have the risk factor "
                f"{RiskFactor.THIN_FILE.value!r}, not {f.risk_factor.value!r}"
            )
        if not f.family:
            raise ValueError(f"feature {f.name!r} needs a family (its own name if alone)")
        by_name[f.name] = f
        families[f.family].append(f)
    for f in catalog:
        if f.evidence is not None:
            flag = by_name.get(f.evidence)
            if flag is None or flag.unit != "flag":
                raise ValueError(
                    f"the evidence of {f.name!r} must be a 0/1 (flag) feature of the catalog; "
                    f"got {f.evidence!r}"
                )
        if f.capped_by is not None:
            history = by_name.get(f.capped_by)
            if (
                history is None
                or history.unit != "months"
                or history.risk_factor is not RiskFactor.THIN_FILE
            ):
                raise ValueError(
                    f"the capped_by of {f.name!r} must be a thin-file feature of the catalog "
                    f"counting months; got {f.capped_by!r}"
                )
            if f.window_months is None:
                raise ValueError(
                    f"feature {f.name!r} is capped_by {f.capped_by!r} within its window, so it "
                    "needs window_months"
                )
    for family, members in families.items():
        names = [m.name for m in members]
        if len(members) == 1 and family != members[0].name:
            raise ValueError(
                f"feature {names[0]!r} is alone in family {family!r}: a lone feature's "
                "family is its own name"
            )
        if len(members) > 1 and family in by_name:
            raise ValueError(
                f"family {family!r} of {names} is named after a feature: name the measure"
            )
        for attr in ("risk_factor", "group"):
            values = {getattr(m, attr) for m in members}
            if len(values) > 1:
                mixed = ", ".join(f"{m.name} ({getattr(m, attr).value})" for m in members)
                raise ValueError(f"family {family!r} mixes {attr} values: {mixed}")
    return by_name


_BY_NAME: dict[str, Feature] = _check_catalog(CATALOG)


# ----------------------------------------------------------------------------- as data


def catalog_records(catalog: Sequence[Feature] = CATALOG) -> list[dict[str, Any]]:
    """The catalog as JSON-ready records (:meth:`Feature.to_dict`), in model order."""
    return [f.to_dict() for f in catalog]


def catalog_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[Feature, ...]:
    """Rebuild a catalog stored with :func:`catalog_records`, checked like the declared one
    (ValueError naming the first problem)."""
    catalog = tuple(Feature.from_dict(r) for r in records)
    if not catalog:
        raise ValueError("a stored catalog needs at least one feature; got none")
    _check_catalog(catalog)
    return catalog


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
# (one, many): Bahasa Indonesia does not inflect the noun, English does ("1 month")
_MONTH_WORD: dict[Lang, tuple[str, str]] = {"id": ("bulan", "bulan"), "en": ("month", "months")}
_DAY_WORD: dict[Lang, tuple[str, str]] = {"id": ("hari", "hari"), "en": ("day", "days")}


# ledger values of the categorical features, as an officer reads them ("fisher" -> "Nelayan")
_CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    m.value: (m.label_id, m.label_en) for e in (Sector, LoanPurpose, LoanProduct) for m in e
}


def format_value(f: Feature, value: float | str | None, lang: Lang = "id") -> str:
    """A feature value the way an officer reads it, in Bahasa Indonesia or English.

    None, NaN and infinities read "tidak ada data" / "no data". Numbers round half up.
    """
    if value is None:
        return _NO_DATA[lang]
    if f.unit == "category":
        if isinstance(value, str):
            labels = _CATEGORY_LABELS.get(value)
            return value if labels is None else labels[0 if lang == "id" else 1]
        x = float(value)
        if not math.isfinite(x):
            return _NO_DATA[lang]
        return str(int(x)) if x.is_integer() else str(value)
    if f.unit == "month_of_year":
        if not isinstance(value, str) and not math.isfinite(float(value)):
            return _NO_DATA[lang]
        return month_name(value, lang)
    if isinstance(value, str):
        raise TypeError(f"feature {f.name!r} ({f.unit}) needs a number, got the text {value!r}")

    x = float(value)
    if not math.isfinite(x):
        return _NO_DATA[lang]
    match f.unit:
        case "count":
            return format_int(round_half_up_int(x), lang)
        case "months":
            return counted(round_half_up_int(x), *_MONTH_WORD[lang], lang)
        case "days":
            return counted(round_half_up_int(x), *_DAY_WORD[lang], lang)
        case "share":
            percent = x * 100
            if abs(percent - math.floor(percent) - 0.5) < 1e-6:  # near a tie: exactly
                return format_percent(x, lang, 0)
            return f"{format_int(round_half_up_int(percent), lang)}%"
        case "rate":  # interest rates need a decimal: 1,5% flat, not 2%
            return format_percent(x, lang, 2)
        case "rupiah":
            return format_rupiah(round_half_up_int(x))
        case "ratio":  # two decimals always, so 1,50 reads next to 0,35
            return format_number(x, lang, 2, trailing_zeros=True)
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


def improve_text(f: Feature, lang: Lang = "id") -> str:
    """How the member can improve this feature, shown under an adverse reason."""
    return f.improve_id if lang == "id" else f.improve_en


def missing_text(f: Feature, lang: Lang = "id") -> str:
    """What is missing when the member has no value for this feature (never a made-up value)."""
    return f.missing_id if lang == "id" else f.missing_en


def generic_feature(name: str, categorical: bool, monotone: Monotone) -> Feature:
    """A catalog entry for a column of a bring-your-own table: plain texts that name the
    column and show its value, so such a model explains itself in the same shape."""
    return Feature(
        name=name,
        dtype="category" if categorical else "float",
        unit="category" if categorical else "ratio",
        window_months=None,
        group=FiveC.CONDITION,
        risk_factor=RiskFactor.OTHER,
        family=name,
        monotone=0 if categorical else monotone,
        description_id=f"Kolom {name} dari tabel yang dibawa sendiri.",
        description_en=f"Column {name} of a bring-your-own table.",
        raises_risk_id=f"{name}: {{value}} (menaikkan risiko).",
        raises_risk_en=f"{name}: {{value}} (raises the risk).",
        lowers_risk_id=f"{name}: {{value}} (menurunkan risiko).",
        lowers_risk_en=f"{name}: {{value}} (lowers the risk).",
        improve_id="Tinjau nilai ini bersama petugas.",
        improve_en="Review this value with an officer.",
        missing_id=f"Nilai {name} tidak tersedia.",
        missing_en=f"No value of {name} is on record.",
    )
