"""The decision policy: cut-offs from the cooperative's economics, affordability on the
member's real income, the policy's own arrears rules, thin files and the maximum amount.

Policy is not the model (DESIGN decision 6). The model gives a PD and a grade; this versioned
policy, shipped with the model, turns them and the loan application into approve / refer /
decline. Every rule that fires is reported with its code and its officer text in Bahasa
Indonesia and English, so a decline always says which rule declined.

**Risk, from the economics** (`models.economics`): for the requested amount, tenor and flat
rate, the PD at which the loan earns ``approve_min_return`` per Rupiah lent (it pays its
way) and the PD at which it loses more than ``decline_below_return`` per Rupiah.

* ``RISK_APPROVE``: PD at or below the first -> approve.
* ``RISK_REFER``: between the two -> refer; above the second for a thin file too.
* ``RISK_DECLINE``: above the second (not a thin file) -> decline.
* ``TERMS_UNECONOMIC``: no PD pays its way at these terms (the interest and fee do not
  cover the cost of funds and the operating cost) -> refer; no risk rule fires.
A score-only request (no loan terms) is judged on the economics' reference loan.

**Income** (documented estimate, all Rupiah a month):

* seen in the ledger: sales through the cooperative over 12 months ``L`` (and over the
  last 3, ``L3``) and gerai spending ``S``; the ledger vouches for an income of
  ``seen = max(L, S / spend_share_of_income)``;
* declared by the member ``D`` (nullable) and whether an officer verified it. A
  declaration speaks for recent months: it is scaled to the member's year by her own
  sales pattern, ``D * L / L3`` (within ``[1/2, 2]``, `max_seasonal_adjustment`; not
  where she sells nothing through the cooperative), so a fisher who applies in the west
  monsoon is not judged on her worst months alone;
* the estimate is ``max(L, D)`` when verified; ``max(L, min(unverified_income_weight * D,
  income_gap_ratio * seen))`` when not; ``L`` without a declaration (old exports): the
  ledger's 12-month sales are a floor under any declaration;
* household expenses, when declared, count at least the gerai spending:
  ``expenses = max(declared, S)``.

**Affordability**: all instalments (requested + existing debt service) may take at most
``max_debt_service_to_income`` of the income estimate and, with expenses declared, at most
``max_share_of_disposable_income`` of what the household's own budget leaves (``D``, or the
estimate without a declaration, less the expenses).

* ``INCOME_GAP``: an unverified declaration above ``income_gap_ratio`` x seen, where the
  gap decides the case (the loan fits on the declared income but not on the estimate)
  -> refer for verification, with both amounts; the affordability rules stand aside.
* ``AFFORDABILITY_REDUCE``: does not fit, but at least ``min_loan`` does -> approve the
  recommended maximum instead (a counter-offer: ``approved_amount`` is that maximum, and
  the risk and the expected return are judged on it); any referring rule still refers.
* ``AFFORDABILITY_DECLINE``: not even ``min_loan`` fits -> decline.
* ``NO_INCOME_DATA``: a loan is requested but there is no income estimate -> refer.

**The policy's own rules**, independent of what the model learned:

* ``ARREARS_NPL``: an instalment more than 90 days past due today (kolektibilitas 3-5)
  -> decline. ``ARREARS_CURRENT``: 1-90 days (kolektibilitas 2) -> refer.
* ``PAST_DEFAULT``: an earlier loan went more than 90 days past due -> refer.
* ``OUTSIDE_EXPERIENCE``: a feature value lies outside what the model saw in training
  (`models.experience`) -> refer, naming the features.
* ``THIN_FILE``: fewer than ``thin_file_max_months`` months of history and more than
  ``thin_file_max_amount`` requested (or no amount) -> approve a first loan of
  ``thin_file_max_amount`` instead (a counter-offer, as ``AFFORDABILITY_REDUCE``: a first
  loan starts small, and a new member who asks for more is offered what any new member
  gets without review, not sent to the board for it); the affordability and risk rules
  judge that first loan, and any referring rule still refers. A thin file's recommended
  maximum is at most ``thin_file_max_amount``, a score-only thin file is judged on a first
  loan (the reference loan, at most that amount), and a thin file is never declined by
  risk.

The final decision is the most severe of the fired rules (decline > refer > approve): a
decline by one rule stays a decline when another refers, and still lists the referring rule.

Instalments follow the cooperatives' flat rate (DOMAIN.md): ``P / tenor + P * rate`` a month,
rounded to the nearest Rupiah.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, NamedTuple, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.kolektibilitas import KOL_NAMES, NPL_FROM, kolektibilitas
from features.wording import (
    LANGS,
    Lang,
    format_int,
    format_number,
    format_percent,
    format_rupiah,
)
from models.economics import (
    PD_HORIZON_MONTHS,
    LendingEconomics,
    expected_return,
    pd_for_return,
)
from models.grades import GRADE_LABELS, GRADES
from models.stored_fields import exact_field_names

__all__ = [
    "DECISIONS",
    "INPUT_COLUMNS",
    "OUTPUT_COLUMNS",
    "RULES",
    "RUPIAH_COLUMNS",
    "TERM_COLUMNS",
    "Decision",
    "DecisionPolicy",
    "OutsideExperience",
    "Rule",
    "decisions_frame",
]

Decision = Literal["approve", "refer", "decline"]
# Per application, the features outside the model's experience (models.experience), each by
# its officer label per language ({"id": .., "en": ..}) or, without one, by its name. An
# object array of such rows works too (a column of lists).
OutsideExperience = Sequence[Sequence[str | Mapping[Lang, str]]] | npt.NDArray[np.object_]
DECISIONS: tuple[Decision, ...] = get_args(Decision)  # in order of severity
Floats = npt.NDArray[np.float64]

# the application's terms and what the ledger says of the member: decide_arrays' arguments,
# each optional (missing means unknown: see `decide`)
TERM_COLUMNS: tuple[str, ...] = (
    "loan_amount",
    "tenor_months",
    "flat_monthly_rate",
    "estimated_monthly_income",
    "avg_monthly_sales_3m",
    "sembako_spend_12m",
    "declared_monthly_income",
    "declared_household_expenses",
    "income_verified",
    "existing_debt_service",
    "months_of_history",
    "current_dpd",
    "prior_loans_defaulted",
)
INPUT_COLUMNS: tuple[str, ...] = ("grade", "pd")
RUPIAH_COLUMNS: tuple[str, ...] = (
    "approved_amount",
    "max_recommended_amount",
    "instalment",
    "income_estimate",
    "expected_return",
)
OUTPUT_COLUMNS: tuple[str, ...] = (
    "decision",
    "rule_codes",
    "reason_id",
    "reason_en",
    *RUPIAH_COLUMNS,
)


@dataclass(frozen=True)
class Rule:
    """One policy rule: its code, the decision it leads to, and officer texts. Texts may hold
    ``{placeholders}`` filled per application (amounts already formatted as Rupiah)."""

    code: str
    decision: Decision
    text_id: str
    text_en: str

    def text(self, lang: Lang) -> str:
        return self.text_id if lang == "id" else self.text_en


# which per-row values each placeholder reads (empty: the policy's own figures)
_PLACEHOLDER_FIELDS: dict[str, tuple[str, ...]] = {
    "grade": ("grade",),
    "grade_label": ("grade",),
    "months": ("months",),
    "instalment": ("instalment",),
    "capacity": ("capacity",),
    "basis": ("binding", "income", "source", "seasonal", "expenses", "budget"),
    "max_amount": ("max_amount",),
    "other_debt": ("existing",),
    "features": ("outside",),
    "dpd": ("dpd",),
    "kol": ("dpd",),
    "kol_name": ("dpd",),
    "defaults": ("defaults",),
    "declared": ("declared",),
    "seen": ("seen",),
    "pd": ("pd",),
    "pd_approve": ("pd_approve",),
    "pd_decline": ("pd_decline",),
    "min_loan": (),
    "thin_max": (),
}

_AFFORD_ID = (
    "Angsuran yang diajukan ({instalment}/bulan){other_debt} melebihi kemampuan membayar "
    "{capacity}/bulan ({basis}); "
)
_AFFORD_EN = (
    "The requested instalment ({instalment}/month){other_debt} exceeds the ability to repay "
    "of {capacity}/month ({basis}); "
)
_RISK_ID = "Perkiraan risiko gagal bayar {pd} (tingkat {grade}, {grade_label})"
_RISK_EN = "The estimated default risk of {pd} (grade {grade}, {grade_label})"
_ARREARS_ID = (
    "Pada tanggal pengajuan ada angsuran yang menunggak {dpd} hari (kolektibilitas {kol}, "
    "{kol_name})"
)
_ARREARS_EN = (
    "At the application date an instalment is {dpd} days past due (loan quality {kol}, {kol_name})"
)

# Declared once, in precedence order: among rules with the same decision, an earlier rule is
# the more specific reason and is listed first.
RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "ARREARS_NPL",
            "decline",
            _ARREARS_ID + "; pinjaman baru tidak diberikan sebelum tunggakan diselesaikan.",
            _ARREARS_EN + "; no new loan before the arrears are settled.",
        ),
        Rule(
            "AFFORDABILITY_DECLINE",
            "decline",
            _AFFORD_ID + "jumlah yang terjangkau ({max_amount}) di bawah pinjaman minimum "
            "{min_loan}.",
            _AFFORD_EN + "the affordable amount ({max_amount}) is below the minimum loan "
            "{min_loan}.",
        ),
        Rule(
            "RISK_DECLINE",
            "decline",
            _RISK_ID + " di atas batas risiko {pd_decline} untuk pinjaman ini: kerugian yang "
            "diperkirakan melebihi bunganya.",
            _RISK_EN + " is above this loan's risk limit of {pd_decline}: the expected loss "
            "exceeds its interest.",
        ),
        Rule(
            "ARREARS_CURRENT",
            "refer",
            _ARREARS_ID + "; perlu ditinjau petugas.",
            _ARREARS_EN + "; an officer should review.",
        ),
        Rule(
            "PAST_DEFAULT",
            "refer",
            "Ada {defaults} pinjaman sebelumnya yang pernah menunggak lebih dari 90 hari "
            "(kolektibilitas 3 atau lebih buruk); perlu ditinjau petugas.",
            "Earlier loans that went more than 90 days past due (loan quality 3 or worse): "
            "{defaults}; an officer should review.",
        ),
        Rule(
            "INCOME_GAP",
            "refer",
            "Penghasilan yang dinyatakan ({declared}/bulan) belum terverifikasi dan jauh di atas "
            "yang terlihat di koperasi ({seen}/bulan dari penjualan dan belanja di gerai); "
            "verifikasi penghasilan anggota: bila benar, angsuran {instalment}/bulan "
            "terjangkau; tanpa verifikasi pinjaman paling besar {max_amount}.",
            "The declared income ({declared}/month) is not verified and far above what the "
            "cooperative sees ({seen}/month from sales and gerai spending); verify the "
            "member's income: if it holds, the instalment of {instalment}/month is "
            "affordable; without verification the largest loan is {max_amount}.",
        ),
        Rule(
            "OUTSIDE_EXPERIENCE",
            "refer",
            "Data berikut berada di luar pengalaman model (di luar yang terlihat pada data "
            "pelatihannya), sehingga hasilnya perlu ditinjau petugas: {features}.",
            "The following lies outside the model's experience (beyond what its training "
            "data held), so an officer should review the result: {features}.",
        ),
        Rule(
            "NO_INCOME_DATA",
            "refer",
            "Belum ada data penghasilan untuk menilai kemampuan membayar; perlu ditinjau petugas.",
            "No income data to assess the ability to repay; an officer should review.",
        ),
        Rule(
            "TERMS_UNECONOMIC",
            "refer",
            "Pada jumlah dan jangka waktu ini, bunga dan biaya administrasi tidak menutup biaya "
            "dana dan biaya operasional koperasi; perlu ditinjau petugas.",
            "At this amount and tenor the interest and fee do not cover the cooperative's cost "
            "of funds and operating cost; an officer should review.",
        ),
        Rule(
            "THIN_FILE",
            "approve",
            "Riwayat transaksi di koperasi baru {months} bulan; pinjaman pertama paling besar "
            "{thin_max}: jumlah yang lebih besar dapat diajukan setelah riwayat pembayarannya "
            "terlihat, atau ditinjau petugas.",
            "Only {months} months of transaction history at the cooperative; a first loan is "
            "at most {thin_max}: a larger amount can be asked for once her repayments show, "
            "or an officer can review it.",
        ),
        Rule(
            "AFFORDABILITY_REDUCE",
            "approve",
            _AFFORD_ID + "jumlah maksimum yang disarankan {max_amount}.",
            _AFFORD_EN + "the recommended maximum is {max_amount}.",
        ),
        Rule(
            "RISK_REFER",
            "refer",
            _RISK_ID + " di atas batas {pd_approve} agar pinjaman ini menutup biayanya; perlu "
            "ditinjau petugas.",
            _RISK_EN + " is above the {pd_approve} at which this loan pays its way; an officer "
            "should review.",
        ),
        Rule(
            "RISK_APPROVE",
            "approve",
            _RISK_ID + " di bawah batas {pd_approve} untuk pinjaman ini, sehingga pinjaman "
            "diperkirakan menutup biayanya.",
            _RISK_EN + " is within this loan's limit of {pd_approve}, so the loan is expected "
            "to pay its way.",
        ),
    )
}


def _fields_used(template: str) -> tuple[str, ...]:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return tuple(sorted({f for n in names for f in _PLACEHOLDER_FIELDS[n]}))


_NAMES: dict[str, dict[Lang, tuple[str, ...]]] = {
    code: {
        lang: tuple({n for _, n, _, _ in string.Formatter().parse(rule.text(lang)) if n})
        for lang in LANGS
    }
    for code, rule in RULES.items()
}
_USED_FIELDS: dict[str, dict[Lang, tuple[str, ...]]] = {
    code: {lang: _fields_used(rule.text(lang)) for lang in LANGS} for code, rule in RULES.items()
}

# Order in which fired rules are listed: most severe decision first, then precedence.
_RULE_ORDER: tuple[str, ...] = tuple(
    sorted(RULES, key=lambda c: (-DECISIONS.index(RULES[c].decision), list(RULES).index(c)))
)

# floor(x / step) of a quotient that should be exact (1_200_000 / 0.1 = 11_999_999.999...)
_FLOOR_TOL = 1e-9
# Instalments are whole Rupiah; a limit like 0.35 * income may carry float noise below that.
_RUPIAH_TOL = 1e-6


class _Income(NamedTuple):
    """The income estimate and what it rests on: the estimate; the ability to repay at a
    given income; which limit binds (0: the debt-service share, 1: what the household's
    budget leaves); where the estimate comes from (`_LEDGER` ..) and whether a declaration
    was scaled to the member's season; the income the ledger vouches for; the household
    expenses counted (NaN: not declared); the budget they are taken from."""

    estimate: Floats
    capacity_at: Callable[[Floats], Floats]
    binding: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]
    seasonal: npt.NDArray[np.bool_]
    seen: Floats
    expenses: Floats
    budget: Floats


# terms checked where given: True for > 0, False for >= 0
_CHECKED_TERMS: dict[str, bool] = {
    "loan_amount": True,
    "tenor_months": True,
    "flat_monthly_rate": False,
    "declared_monthly_income": True,
    "declared_household_expenses": False,
}

# where the income estimate comes from (texts in `_SOURCE_WORDS`)
_LEDGER, _VERIFIED, _UNVERIFIED, _CAPPED = 0, 1, 2, 3
_SEASONAL_WORDS: dict[Lang, str] = {
    "id": ", disesuaikan dengan pola musiman penjualannya di koperasi",
    "en": ", adjusted to the seasonal pattern of her sales through the cooperative",
}
_SOURCE_WORDS: dict[Lang, tuple[str, ...]] = {
    "id": (
        "dari penjualan lewat koperasi",
        "dinyatakan anggota dan terverifikasi",
        "{weight} dari yang dinyatakan anggota, belum terverifikasi",
        "dibatasi {gap} kali yang terlihat di koperasi, belum terverifikasi",
    ),
    "en": (
        "from sales through the cooperative",
        "declared by the member and verified",
        "{weight} of what the member declared, not verified",
        "capped at {gap} times what the cooperative sees, not verified",
    ),
}


def _rupiah_array(values: Floats) -> pd.api.extensions.ExtensionArray:
    """Whole Rupiah as a nullable Int64 array, NaN as <NA>."""
    gone = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(gone, 0, np.round(values)).astype(np.int64), gone)


def decisions_frame(columns: Mapping[str, Any], index: pd.Index) -> pd.DataFrame:
    """`decide_arrays` output (and any other per-row arrays, such as pd) as a frame: rule
    codes (and an ``outside_experience`` column, if given) as lists, Rupiah as nullable
    Int64."""
    out = dict(columns)
    for c in ("rule_codes", "outside_experience"):
        if c in out:
            out[c] = pd.Series(out[c], index=index, dtype=object)
    for c in RUPIAH_COLUMNS:
        out[c] = _rupiah_array(out[c])
    return pd.DataFrame(out, index=index)


def _label_pair(item: str | Mapping[Lang, str]) -> tuple[str, str]:
    """A feature outside experience as its (id, en) wording: a name reads the same in both."""
    if isinstance(item, str):
        return item, item
    try:
        return str(item["id"]), str(item["en"])
    except (KeyError, TypeError):
        raise ValueError(
            f"outside_experience: each feature is a name or an {{'id': .., 'en': ..}} label; "
            f"got {item!r}."
        ) from None


def _invalid(name: str, must: str, value: object) -> ValueError:
    return ValueError(
        f"The {name!r} parameter of DecisionPolicy must be {must}; got {value!r} instead."
    )


def _read_outside(
    outside_experience: OutsideExperience | None, n: int
) -> list[tuple[tuple[str, str], ...]]:
    if outside_experience is None:
        return [()] * n
    if len(outside_experience) != n:
        raise ValueError(
            f"outside_experience must hold one entry per application ({n}); got "
            f"{len(outside_experience)}."
        )
    # a row object (rows with the same features outside share one) is read once; the memo
    # holds the row too, so no id is reused while it is in use
    read: dict[int, tuple[object, tuple[tuple[str, str], ...]]] = {}
    outside = []
    for row in outside_experience:
        known = read.get(id(row))
        if known is None:
            known = read[id(row)] = (row, tuple(map(_label_pair, row)))
        outside.append(known[1])
    return outside


@dataclass(frozen=True)
class DecisionPolicy:
    """A versioned lending policy applied after the model (module docstring for the rules).

    Parameters
    ----------
    version:
        Policy version recorded with every decision.
    economics:
        The cooperative's lending economics; the risk cut-offs come from them.
    max_debt_service_to_income:
        Highest share of the income estimate that all instalments together may take, (0, 1].
    max_share_of_disposable_income:
        Highest share of the declared income left after household expenses that they may
        take, (0, 1] (1: the instalments must fit in what the household has left).
    max_seasonal_adjustment:
        A declaration is scaled to the member's year by her 12-month over 3-month sales
        through the cooperative, within [1 / this, this]; 1 switches it off.
    unverified_income_weight:
        Share of an unverified declared income that counts, (0, 1].
    income_gap_ratio:
        An unverified declaration counts at most this many times what the ledger vouches
        for; above it, where it decides the case, the policy asks for verification. > 1.
    spend_share_of_income:
        Gerai spending is taken to be at most this share of a household's income, (0, 1].
    thin_file_max_months:
        Members with fewer months of history than this are a thin file.
    thin_file_max_amount:
        A thin file's first loan (Rupiah): the most it is recommended, and what it is offered
        when it asks for more.
    min_loan:
        Smallest loan in Rupiah; if less than this is affordable, affordability declines.
    amount_step:
        Recommended maximum amounts are rounded down to a multiple of this (Rupiah).
    """

    version: str = "2026.12-3"
    economics: LendingEconomics = field(default_factory=LendingEconomics)
    max_debt_service_to_income: float = 0.35
    max_share_of_disposable_income: float = 1.0
    max_seasonal_adjustment: float = 2.0
    unverified_income_weight: float = 0.80
    income_gap_ratio: float = 3.0
    spend_share_of_income: float = 0.40
    thin_file_max_months: float = 6.0
    thin_file_max_amount: int = 5_000_000
    min_loan: int = 1_000_000
    amount_step: int = 50_000

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise _invalid("version", "a non-empty str", self.version)
        if not isinstance(self.economics, LendingEconomics):
            raise _invalid("economics", "a LendingEconomics", self.economics)
        for name in (
            "max_debt_service_to_income",
            "max_share_of_disposable_income",
            "unverified_income_weight",
            "spend_share_of_income",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value <= 1):
                raise _invalid(name, "in (0, 1]", value)
        for name in ("income_gap_ratio", "max_seasonal_adjustment"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value >= 1):
                raise _invalid(name, ">= 1", value)
        if not self.thin_file_max_months >= 0:
            raise _invalid("thin_file_max_months", ">= 0", self.thin_file_max_months)
        for name in ("thin_file_max_amount", "min_loan", "amount_step"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise _invalid(name, "an int > 0", value)

    def decide(
        self,
        frame: pd.DataFrame,
        *,
        outside_experience: OutsideExperience | None = None,
    ) -> pd.DataFrame:
        """Apply the policy to loan applications.

        ``frame`` has one row per application with ``grade`` ("A".."E") and ``pd`` (the
        calibrated 12-month PD), and any of TERM_COLUMNS: loan_amount (requested principal,
        Rupiah, > 0), tenor_months (> 0), flat_monthly_rate (>= 0, 0.015 = 1,5% a month
        flat), estimated_monthly_income (sales through the cooperative), sembako_spend_12m
        (gerai spending a month), declared_monthly_income (> 0) and
        declared_household_expenses (>= 0) and income_verified (1/0) as the member declared
        them, existing_debt_service (Rupiah a month), months_of_history, current_dpd (days
        past due today) and prior_loans_defaulted. A missing column or value means unknown:
        no declaration, no debt, no arrears, no history (a missing months_of_history column:
        nobody is a thin file). A row without loan_amount, tenor_months or flat_monthly_rate
        (a score-only request) is judged on the economics' reference loan and has no
        instalment; no affordability rule can fire.

        ``outside_experience``: per row, the features outside the model's experience, by
        officer label or name (`models.experience.outside_labels`); a row with any is
        referred and its texts name them.

        Returns a frame with the same index and the columns of OUTPUT_COLUMNS: decision,
        rule_codes (list of the fired rule codes, most decisive first), reason_id and
        reason_en (the fired rules' texts joined with a space), and as Int64 Rupiah:
        approved_amount (what an approval lends: the requested amount, or the recommended
        maximum when it does not fit, or a thin file's first loan when it asks for more;
        <NA> unless approved with loan terms),
        max_recommended_amount (for the requested tenor and rate, never negative; <NA>
        without income data or loan terms), instalment (a month, of the requested amount;
        <NA> without loan terms), income_estimate (a month; <NA> without any) and
        expected_return (what the offered loan is expected to earn the cooperative,
        negative for a loss; <NA> without terms).
        """
        missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"DecisionPolicy.decide needs the columns {missing}.")
        terms = {c: self._numeric(frame, c) for c in TERM_COLUMNS if c in frame.columns}
        if "months_of_history" not in terms:
            terms["months_of_history"] = np.full(len(frame), np.inf)
        decided = self.decide_arrays(
            frame["grade"].to_numpy(dtype=object),
            self._numeric(frame, "pd"),
            terms,
            outside_experience=outside_experience,
        )
        return decisions_frame(decided, frame.index)

    def decide_arrays(
        self,
        grade: npt.NDArray[np.object_],
        pd_: Floats,
        terms: Mapping[str, Floats],
        *,
        langs: Sequence[Lang] = LANGS,
        outside_experience: OutsideExperience | None = None,
    ) -> dict[str, Any]:
        """`decide` on plain arrays, for the single-application path where pandas costs
        more than the rules: ``terms`` by TERM_COLUMNS name (NaN for missing; a term not
        given is all missing). Returns decision (object array), rule_codes (list of lists),
        reason_id and reason_en (lists of str) and the Rupiah columns as float arrays (NaN
        where `decide` gives <NA>)."""
        unknown_terms = sorted(set(terms) - set(TERM_COLUMNS))
        if unknown_terms:
            raise ValueError(f"Unknown terms {unknown_terms}; expected some of {TERM_COLUMNS}.")
        unknown = sorted({str(g) for g in grade} - set(GRADES))
        if unknown:
            raise ValueError(f"Unknown grades {unknown}; expected one of {list(GRADES)}.")
        n = len(grade)
        t = {c: np.asarray(terms[c], dtype=np.float64) if c in terms else np.full(n, np.nan)
             for c in TERM_COLUMNS}  # fmt: skip
        p = np.asarray(pd_, dtype=np.float64)
        if p.shape != (n,) or np.isnan(p).any():
            raise ValueError(f"pd must hold one PD per application ({n}), none missing.")
        outside = _read_outside(outside_experience, n)
        principal, tenor, rate = t["loan_amount"], t["tenor_months"], t["flat_monthly_rate"]
        for name, strict in _CHECKED_TERMS.items():
            values = t[name]
            ok = values > 0 if strict else values >= 0
            if (~np.isnan(values) & ~ok).any():
                raise ValueError(f"{name} must be {'> 0' if strict else '>= 0'} where given.")
        existing = _zero_missing(t["existing_debt_service"])
        months = _zero_missing(t["months_of_history"])
        has_terms = np.isfinite(principal) & np.isfinite(tenor) & np.isfinite(rate)

        # NaN propagates: a row without loan terms (a score-only request) gets no
        # instalment, and without tenor and rate no recommended amount either.
        per_rupiah = 1.0 / tenor + rate  # monthly instalment per Rupiah of principal
        instalment = np.floor(principal * per_rupiah + 0.5)

        income, capacity_at, binding, source, seasonal, seen, expenses, budget = self._income(t)
        capacity = capacity_at(income)
        has_income = income > 0  # False for NaN too
        limit = np.where(has_income, capacity, np.nan)
        room = np.maximum(limit - existing, 0.0)
        steps = np.floor(room / per_rupiah / self.amount_step + _FLOOR_TOL)
        # the rounded instalment of the recommended amount must fit as well: one step less
        # where rounding half a Rupiah up would cross the limit
        steps_instalment = np.floor(steps * self.amount_step * per_rupiah + 0.5)
        steps -= (steps > 0) & (steps_instalment + existing > limit + _RUPIAH_TOL)
        max_amount = steps * self.amount_step
        over = has_income & (instalment + existing > limit + _RUPIAH_TOL)
        # verification decides the case: the loan fits on the full declared income
        declared = t["declared_monthly_income"]
        fits_declared = instalment + existing <= capacity_at(declared) + _RUPIAH_TOL
        gap = (source == _CAPPED) & over & fits_declared

        thin = months < self.thin_file_max_months
        first_loan = float(self.thin_file_max_amount)
        max_amount = np.where(thin, np.minimum(max_amount, first_loan), max_amount)

        # a loan that does not fit is offered at the recommended maximum, a thin file that
        # asks for more than a first loan at the first loan (counter-offers)
        reduce = over & (max_amount >= self.min_loan) & ~gap
        asked = np.where(thin & (principal > first_loan), first_loan, principal)
        offered = np.where(reduce, max_amount, asked)
        econ = self.economics
        # the risk is judged on the offered loan; a score-only request on the reference loan
        # (a thin file's at most a first loan)
        reference = np.where(thin, min(econ.reference_amount, first_loan), econ.reference_amount)
        judged_amount = np.where(has_terms, offered, reference)
        judged_tenor = np.where(has_terms, tenor, econ.reference_tenor_months)
        judged_rate = np.where(has_terms, rate, econ.reference_flat_rate)
        pd_approve, pd_decline = (
            pd_for_return(r, judged_amount, judged_tenor, judged_rate, econ)
            for r in (econ.approve_min_return, econ.decline_below_return)
        )
        economic = pd_approve > 0
        risk_decline = economic & (p > pd_decline)
        returns = np.where(has_terms, expected_return(p, offered, tenor, rate, econ), np.nan)

        dpd = _zero_missing(t["current_dpd"])
        kol = kolektibilitas(dpd)
        defaults = _zero_missing(t["prior_loans_defaulted"])
        fired: dict[str, npt.NDArray[np.bool_]] = {
            "ARREARS_NPL": kol >= NPL_FROM,
            "AFFORDABILITY_DECLINE": over & (max_amount < self.min_loan) & ~gap,
            "RISK_DECLINE": risk_decline & ~thin,
            "ARREARS_CURRENT": (kol > 1) & (kol < NPL_FROM),
            "PAST_DEFAULT": defaults >= 1,
            "INCOME_GAP": gap,
            "OUTSIDE_EXPERIENCE": np.fromiter((bool(o) for o in outside), bool, count=n),
            "THIN_FILE": thin & ~(principal <= self.thin_file_max_amount),
            # nothing to afford without a loan request (score-only rows, own tables)
            "NO_INCOME_DATA": ~has_income & has_terms,
            "TERMS_UNECONOMIC": ~economic,
            "AFFORDABILITY_REDUCE": reduce,
            "RISK_REFER": economic & (p > pd_approve) & (~risk_decline | thin),
            "RISK_APPROVE": economic & (p <= pd_approve),
        }

        severity = np.zeros(n, dtype=np.int64)
        for code, mask in fired.items():
            severity = np.maximum(severity, mask * DECISIONS.index(RULES[code].decision))

        rows_of = {code: np.flatnonzero(mask).tolist() for code, mask in fired.items()}
        codes: list[list[str]] = [[] for _ in range(n)]
        for code in _RULE_ORDER:
            for row in rows_of[code]:
                codes[row].append(code)
        raw: dict[str, list[Any]] = {
            k: np.asarray(v).tolist()
            for k, v in {
                "grade": grade,
                "months": months,
                "instalment": instalment,
                "existing": existing,
                "income": income,
                "capacity": capacity,
                "binding": binding,
                "source": source,
                "seasonal": seasonal,
                "expenses": expenses,
                "budget": budget,
                "max_amount": max_amount,
                "dpd": dpd,
                "defaults": defaults,
                "declared": declared,
                "seen": seen,
                # texts show one decimal of a percent: rows that read the same share a text
                "pd": np.round(p, 3),
                "pd_approve": np.round(pd_approve, 3),
                "pd_decline": np.round(pd_decline, 3),
            }.items()
        }
        raw["outside"] = outside
        texts: dict[str, list[str]] = {}
        for lang in langs:
            fillers = self._fillers(raw, lang)
            per_row: list[list[str]] = [[] for _ in range(n)]
            for code in _RULE_ORDER:
                template = RULES[code].text(lang)
                used, names = _USED_FIELDS[code][lang], _NAMES[code][lang]
                done: dict[tuple[Any, ...], str] = {}
                for i in rows_of[code]:
                    key = tuple(raw[f][i] for f in used)
                    text = done.get(key)
                    if text is None:
                        fill = {name: fillers[name](i) for name in names}
                        text = done[key] = template.format(**fill)
                    per_row[i].append(text)
            texts[lang] = [" ".join(t) for t in per_row]

        approve = severity == DECISIONS.index("approve")
        return {
            "decision": np.asarray(DECISIONS, dtype=object)[severity],
            "rule_codes": codes,
            **{f"reason_{lang}": texts[lang] for lang in langs},
            "approved_amount": np.where(approve & has_terms, offered, np.nan),
            "max_recommended_amount": max_amount,
            "instalment": instalment,
            "income_estimate": np.where(income > 0, np.floor(income + 0.5), np.nan),
            "expected_return": np.floor(returns + 0.5),
        }

    def decide_one(
        self,
        grade: str,
        pd_: float,
        terms: Mapping[str, float],
        *,
        langs: Sequence[Lang] = LANGS,
        outside_experience: Sequence[str | Mapping[Lang, str]] | None = None,
    ) -> dict[str, Any]:
        """`decide_arrays` for one application in plain Python floats: the API's path, where
        numpy's per-call cost was most of the policy's time. The same keys with one value
        each (decision as str, rule codes as a list, texts as str, Rupiah as float, NaN
        where `decide_arrays` gives NaN): equal to `decide_arrays`' row to the bit (tested).
        The power, logarithm and rounding steps still go through numpy's own functions,
        which may differ from `math` in the last bit."""
        unknown_terms = sorted(set(terms) - set(TERM_COLUMNS))
        if unknown_terms:
            raise ValueError(f"Unknown terms {unknown_terms}; expected some of {TERM_COLUMNS}.")
        if str(grade) not in GRADES:
            raise ValueError(f"Unknown grades {[str(grade)]}; expected one of {list(GRADES)}.")
        t = {c: float(terms[c]) if c in terms else _NAN for c in TERM_COLUMNS}
        p = float(pd_)
        if p != p:
            raise ValueError("pd must hold one PD per application (1), none missing.")
        outside = () if outside_experience is None else tuple(map(_label_pair, outside_experience))
        principal, tenor, rate = t["loan_amount"], t["tenor_months"], t["flat_monthly_rate"]
        for name, strict in _CHECKED_TERMS.items():
            value = t[name]
            if value == value and not (value > 0 if strict else value >= 0):
                raise ValueError(f"{name} must be {'> 0' if strict else '>= 0'} where given.")
        existing = _zero(t["existing_debt_service"])
        months = _zero(t["months_of_history"])
        has_terms = all(map(math.isfinite, (principal, tenor, rate)))

        per_rupiah = 1.0 / tenor + rate
        instalment = _floor(principal * per_rupiah + 0.5)

        inc = self._income_one(t)
        income = inc.estimate
        capacity = inc.capacity_at(income)
        has_income = income > 0
        limit = capacity if has_income else _NAN
        room = _max(limit - existing, 0.0)
        steps = _floor(room / per_rupiah / self.amount_step + _FLOOR_TOL)
        steps_instalment = _floor(steps * self.amount_step * per_rupiah + 0.5)
        if steps > 0 and steps_instalment + existing > limit + _RUPIAH_TOL:
            steps -= 1.0
        max_amount = steps * self.amount_step
        over = has_income and instalment + existing > limit + _RUPIAH_TOL
        declared = t["declared_monthly_income"]
        fits_declared = instalment + existing <= inc.capacity_at(declared) + _RUPIAH_TOL
        gap = inc.source == _CAPPED and over and fits_declared

        thin = months < self.thin_file_max_months
        first_loan = float(self.thin_file_max_amount)
        if thin:
            max_amount = _min(max_amount, first_loan)

        reduce = over and max_amount >= self.min_loan and not gap
        asked = first_loan if thin and principal > first_loan else principal
        offered = max_amount if reduce else asked
        econ = self.economics
        if has_terms:
            judged = (offered, tenor, rate)
        else:
            reference = float(econ.reference_amount)
            judged = (
                min(reference, first_loan) if thin else reference,
                float(econ.reference_tenor_months),
                float(econ.reference_flat_rate),
            )
        pd_approve, pd_decline, returns = _economics_one(p, judged, (offered, tenor, rate), econ)
        if not has_terms:
            returns = _NAN
        economic = pd_approve > 0
        risk_decline = economic and p > pd_decline

        dpd = _zero(t["current_dpd"])
        kol = _kol_of(dpd)
        defaults = _zero(t["prior_loans_defaulted"])
        fired = {
            "ARREARS_NPL": kol >= NPL_FROM,
            "AFFORDABILITY_DECLINE": over and max_amount < self.min_loan and not gap,
            "RISK_DECLINE": risk_decline and not thin,
            "ARREARS_CURRENT": 1 < kol < NPL_FROM,
            "PAST_DEFAULT": defaults >= 1,
            "INCOME_GAP": gap,
            "OUTSIDE_EXPERIENCE": bool(outside),
            "THIN_FILE": thin and not principal <= self.thin_file_max_amount,
            "NO_INCOME_DATA": not has_income and has_terms,
            "TERMS_UNECONOMIC": not economic,
            "AFFORDABILITY_REDUCE": reduce,
            "RISK_REFER": economic and p > pd_approve and (not risk_decline or thin),
            "RISK_APPROVE": economic and p <= pd_approve,
        }
        codes = [code for code in _RULE_ORDER if fired[code]]
        severity = max((_SEVERITY[code] for code in codes), default=0)

        pd_shown, approve_shown, decline_shown = np.round([p, pd_approve, pd_decline], 3).tolist()
        raw: dict[str, list[Any]] = {
            "grade": [str(grade)],
            "months": [months],
            "instalment": [instalment],
            "existing": [existing],
            "income": [income],
            "capacity": [capacity],
            "binding": [inc.binding],
            "source": [inc.source],
            "seasonal": [inc.seasonal],
            "expenses": [inc.expenses],
            "budget": [inc.budget],
            "max_amount": [max_amount],
            "dpd": [dpd],
            "defaults": [defaults],
            "declared": [declared],
            "seen": [inc.seen],
            "pd": [pd_shown],
            "pd_approve": [approve_shown],
            "pd_decline": [decline_shown],
            "outside": [outside],
        }
        texts: dict[str, str] = {}
        for lang in langs:
            fillers = self._fillers(raw, lang)
            texts[lang] = " ".join(
                RULES[code].text(lang).format(**{n: fillers[n](0) for n in _NAMES[code][lang]})
                for code in codes
            )
        approve = severity == _APPROVE
        return {
            "decision": DECISIONS[severity],
            "rule_codes": codes,
            **{f"reason_{lang}": texts[lang] for lang in langs},
            "approved_amount": offered if approve and has_terms else _NAN,
            "max_recommended_amount": max_amount,
            "instalment": instalment,
            "income_estimate": _floor(income + 0.5) if income > 0 else _NAN,
            "expected_return": _floor(returns + 0.5),
        }

    def _income_one(self, t: Mapping[str, float]) -> _IncomeOne:
        """`_income` for one application in plain floats."""
        ledger = _max(_zero(t["estimated_monthly_income"]), 0.0)
        recent = _zero(t["avg_monthly_sales_3m"])
        spend = _max(_zero(t["sembako_spend_12m"]), 0.0)
        season = ledger / recent if ledger > 0 and recent > 0 else 1.0
        most = self.max_seasonal_adjustment
        season = _min(_max(season, 1 / most), most)
        declared = t["declared_monthly_income"] * season
        verified = t["income_verified"] == 1
        has_declared = declared > 0
        seen = _max(ledger, spend / self.spend_share_of_income)
        credited = self.unverified_income_weight * declared
        cap = self.income_gap_ratio * seen
        capped = has_declared and not verified and credited > cap
        if has_declared:
            income = _max(declared, ledger) if verified else _max(ledger, _min(credited, cap))
        else:
            income = ledger if ledger > 0 else _NAN
        if not has_declared or income <= ledger:
            source = _LEDGER
        else:
            source = _VERIFIED if verified else _CAPPED if capped else _UNVERIFIED
        declared_expenses = t["declared_household_expenses"]
        expenses = _max(declared_expenses, spend) if declared_expenses >= 0 else _NAN
        budget = declared if has_declared else income
        left = self.max_share_of_disposable_income * _max(budget - expenses, 0.0)
        if expenses != expenses:
            left = math.inf
        share = self.max_debt_service_to_income

        def capacity_at(value: float) -> float:
            return _fmin(share * value, left)

        binding = int(left < share * income)
        seasonal = has_declared and abs(season - 1.0) > 0.05 and source != _LEDGER
        return _IncomeOne(income, capacity_at, binding, source, seasonal, seen, expenses, budget)

    def _income(self, t: Mapping[str, Floats]) -> _Income:
        """The income estimate and what it rests on (module docstring)."""
        ledger = np.maximum(_zero_missing(t["estimated_monthly_income"]), 0.0)
        recent = _zero_missing(t["avg_monthly_sales_3m"])
        spend = np.maximum(_zero_missing(t["sembako_spend_12m"]), 0.0)
        # a declaration speaks for recent months; the member's own sales through the
        # cooperative say how those months compare with her year
        with np.errstate(invalid="ignore", divide="ignore"):
            season = np.where((ledger > 0) & (recent > 0), ledger / recent, 1.0)
        season = np.clip(season, 1 / self.max_seasonal_adjustment, self.max_seasonal_adjustment)
        declared = t["declared_monthly_income"] * season
        verified = t["income_verified"] == 1
        has_declared = declared > 0
        seen = np.maximum(ledger, spend / self.spend_share_of_income)
        credited = self.unverified_income_weight * declared
        cap = self.income_gap_ratio * seen
        capped = has_declared & ~verified & (credited > cap)
        unverified = np.maximum(ledger, np.minimum(credited, cap))
        without = np.where(ledger > 0, ledger, np.nan)
        # the ledger's 12-month sales are a floor under any declaration: a verified figure
        # of a low month does not undo a year of sales through the cooperative
        income = np.where(
            has_declared, np.where(verified, np.maximum(declared, ledger), unverified), without
        )
        source = np.select(
            [~has_declared, verified, capped], [_LEDGER, _VERIFIED, _CAPPED], default=_UNVERIFIED
        )
        # an unverified estimate that is the ledger's own figure reads as the ledger's
        source = np.where(has_declared & (income <= ledger), _LEDGER, source)
        declared_expenses = t["declared_household_expenses"]
        expenses = np.where(declared_expenses >= 0, np.maximum(declared_expenses, spend), np.nan)
        # the household's own budget: what it declared earning, less what it spends
        budget = np.where(has_declared, declared, income)
        left = self.max_share_of_disposable_income * np.maximum(budget - expenses, 0.0)
        left = np.where(np.isnan(expenses), np.inf, left)

        def capacity_at(inc: Floats) -> Floats:
            return np.asarray(np.fmin(self.max_debt_service_to_income * inc, left))

        binding = (left < self.max_debt_service_to_income * income).astype(np.int64)
        seasonal = has_declared & (np.abs(season - 1.0) > 0.05) & (source != _LEDGER)
        return _Income(income, capacity_at, binding, source, seasonal, seen, expenses, budget)

    @staticmethod
    def _numeric(frame: pd.DataFrame, column: str) -> Floats:
        values = pd.to_numeric(frame[column], errors="raise")
        return np.asarray(values.astype("float64").to_numpy(na_value=np.nan), dtype=np.float64)

    def _constant_fill(self, lang: Lang) -> dict[str, str]:
        return {
            "min_loan": format_rupiah(self.min_loan),
            "thin_max": format_rupiah(self.thin_file_max_amount),
        }

    def _source_words(self, source: int, seasonal: bool, lang: Lang) -> str:
        words = _SOURCE_WORDS[lang][source].format(
            weight=format_percent(self.unverified_income_weight, lang),
            gap=format_number(self.income_gap_ratio, lang, 2),
        )
        return words + (_SEASONAL_WORDS[lang] if seasonal else "")

    def _fillers(self, values: Mapping[str, Any], lang: Lang) -> dict[str, Callable[[int], str]]:
        """Per placeholder, its text for application ``i`` in ``lang``: built once per batch,
        called only for the placeholders a fired rule's template uses. The PD shares are
        formatted once per distinct value (they repeat across a batch)."""

        def rupiah(name: str) -> Callable[[int], str]:
            column = values[name]

            def text(i: int) -> str:
                x = float(column[i])
                return format_rupiah(math.floor(x + 0.5)) if math.isfinite(x) else ""

            return text

        def percent(name: str) -> Callable[[int], str]:
            column, shown = values[name], {}

            def text(i: int) -> str:
                x = column[i]
                if x not in shown:
                    shown[x] = _percent_text(x, lang) if math.isfinite(x) else ""
                return shown[x]

            return text

        def kol(i: int) -> int:
            return _kol_of(float(values["dpd"][i]))

        def other_debt(i: int) -> str:
            existing = float(values["existing"][i])
            if not existing > 0:
                return ""
            amount = format_rupiah(math.floor(existing + 0.5))
            if lang == "id":
                return f" ditambah angsuran lain ({amount}/bulan)"
            return f" plus other instalments ({amount}/month)"

        grades, side = values["grade"], 0 if lang == "id" else 1
        amounts = ("instalment", "capacity", "max_amount", "declared", "seen")
        return {
            **{k: _always(v) for k, v in self._constant_fill(lang).items()},
            **{name: rupiah(name) for name in amounts},
            **{name: percent(name) for name in ("pd", "pd_approve", "pd_decline")},
            "grade": lambda i: str(grades[i]),
            "grade_label": lambda i: GRADE_LABELS[str(grades[i])][side].lower(),
            # completed months: 5.9 months of history reads "5 bulan"
            "months": lambda i: str(math.floor(max(float(values["months"][i]), 0.0))),
            "other_debt": other_debt,
            "dpd": lambda i: format_int(int(values["dpd"][i]), lang),
            "kol": lambda i: str(kol(i)),
            "kol_name": lambda i: KOL_NAMES[kol(i)][lang],
            "defaults": lambda i: format_int(int(values["defaults"][i]), lang),
            # "; " between features: their labels hold commas
            "features": lambda i: "; ".join(p[side] for p in values["outside"][i]),
            "basis": lambda i: self._basis(values, i, lang, lambda name: rupiah(name)(i)),
        }

    def _basis(
        self, values: Mapping[str, Any], i: int, lang: Lang, rupiah: Callable[[str], str]
    ) -> str:
        """What the ability to repay rests on, in words: the share, the income estimate and
        its source, and the household expenses where they bind."""
        source = self._source_words(int(values["source"][i]), bool(values["seasonal"][i]), lang)
        income = rupiah("income")
        if not income:
            return ""
        if int(values["binding"][i]):
            budget, expenses = rupiah("budget"), rupiah("expenses")
            most = self.max_share_of_disposable_income
            part = "" if most == 1 else f"{format_percent(most, lang)} "
            if lang == "id":
                part = part and f"{part}dari "
                return (
                    f"{part}sisa penghasilan {budget}/bulan ({source}) setelah pengeluaran "
                    f"rumah tangga {expenses}/bulan"
                )
            part = part and f"{part}of "
            return (
                f"{part}what is left of an income of {budget}/month ({source}) after household "
                f"expenses of {expenses}/month"
            )
        share = format_percent(self.max_debt_service_to_income, lang)
        if lang == "id":
            return f"{share} dari perkiraan penghasilan {income}/bulan, {source}"
        return f"{share} of the estimated income of {income}/month, {source}"

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain JSON-ready values, for the model artifact."""
        return {
            f.name: v.to_dict() if isinstance(v := getattr(self, f.name), LendingEconomics) else v
            for f in fields(self)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionPolicy:
        """Rebuild a policy from :meth:`to_dict` output. Every field is required, so a
        stored policy never silently takes a newer default."""
        exact_field_names(cls, data)
        ints = {"thin_file_max_amount", "min_loan", "amount_step"}
        values: dict[str, Any] = {}
        for k, v in data.items():
            if k == "version":
                values[k] = str(v)
            elif k == "economics":
                values[k] = LendingEconomics.from_dict(v)
            else:
                values[k] = int(v) if k in ints else float(v)
        return cls(**values)


def _always(text: str) -> Callable[[int], str]:
    """A placeholder whose text is the same for every application (the policy's own)."""
    return lambda i: text


def _zero_missing(values: Floats) -> Floats:
    """NaN as 0 (no debt, no arrears, no history): cheaper than np.nan_to_num on the
    one-application path."""
    return np.where(values == values, values, 0.0)


# ---------------------------------------------------------------- one application, plain floats
_NAN = math.nan
_SEVERITY: dict[str, int] = {code: DECISIONS.index(rule.decision) for code, rule in RULES.items()}
_APPROVE = DECISIONS.index("approve")


class _IncomeOne(NamedTuple):
    """`_Income` of one application, as plain floats."""

    estimate: float
    capacity_at: Callable[[float], float]
    binding: int
    source: int
    seasonal: bool
    seen: float
    expenses: float
    budget: float


@functools.lru_cache(maxsize=4096)
def _percent_text(share: float, lang: Lang) -> str:
    """A PD share as the texts show it (one decimal of a percent, within [0, 1]): the same
    few hundred shares recur across requests, so each is formatted once."""
    return format_percent(min(max(share, 0.0), 1.0), lang, 1)


@functools.lru_cache(maxsize=1024)
def _kol_of(days_past_due: float) -> int:
    """`kolektibilitas` of one value (not NaN): few distinct days recur."""
    return int(kolektibilitas([days_past_due])[0])


def _zero(value: float) -> float:
    """`_zero_missing` of one value."""
    return value if value == value else 0.0


def _max(a: float, b: float) -> float:
    """np.maximum of two floats: NaN if either is."""
    if a != a or b != b:
        return _NAN
    return a if a >= b else b


def _min(a: float, b: float) -> float:
    """np.minimum of two floats: NaN if either is."""
    if a != a or b != b:
        return _NAN
    return a if a <= b else b


def _fmin(a: float, b: float) -> float:
    """np.fmin of two floats: the other one where one is NaN."""
    if a != a:
        return b
    if b != b:
        return a
    return a if a <= b else b


def _floor(value: float) -> float:
    """np.floor of one float: NaN and infinities stay, a zero keeps its sign."""
    if not math.isfinite(value):
        return value
    down = float(math.floor(value))
    return down if down else math.copysign(0.0, value)


def _div(a: float, b: float) -> float:
    """numpy's float division: a zero divisor gives an infinity or NaN, not an error."""
    if b:
        return a / b
    if a == 0 or a != a:
        return _NAN
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _economics_one(
    p: float,
    judged: tuple[float, float, float],
    offered: tuple[float, float, float],
    econ: LendingEconomics,
) -> tuple[float, float, float]:
    """`pd_for_return` at the approve and the decline return for the judged loan and
    `expected_return` of the offered one, for one application: the same arithmetic in the
    same order, the three powers in one numpy call (numpy's pow may differ from Python's
    in the last bit)."""

    def parts(principal: float, tenor: float, rate: float) -> tuple[float, float]:
        earned = principal * (rate * tenor + econ.admin_fee_rate)
        funding = principal * econ.cost_of_funds_annual / 12.0 * (tenor + 1.0) / 2.0
        return earned, funding + econ.operating_cost_per_loan

    amount, tenor, _ = judged
    earned, cost = parts(*judged)
    qs = [
        _div(earned - cost - r * amount, earned + econ.loss_given_default * amount)
        for r in (econ.approve_min_return, econ.decline_below_return)
    ]
    exposure = _max(tenor, PD_HORIZON_MONTHS) / PD_HORIZON_MONTHS
    lifetime_exposure = _max(offered[1], PD_HORIZON_MONTHS)
    bases = [1.0 - _min(_max(q, 0.0), 1.0) for q in qs] + [1.0 - p]
    powers = [1.0 / exposure, 1.0 / exposure, lifetime_exposure / PD_HORIZON_MONTHS]
    raised: list[float] = np.power(bases, powers).tolist()
    approve, decline = (1.0 - raised[k] if 0 < q < 1 else q for k, q in enumerate(qs))
    lifetime = 1.0 - raised[2]
    principal = offered[0]
    earned, cost = parts(*offered)
    returns = (1 - lifetime) * earned - lifetime * econ.loss_given_default * principal - cost
    return approve, decline, returns
