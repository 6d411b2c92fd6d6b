"""The decision policy: grade cut-offs, affordability, maximum amount and thin-file handling.

Policy is not the model (DESIGN decision 6). The model gives a PD and a grade; this versioned
policy, shipped with the model, turns them and the loan application into approve / refer /
decline. Every rule that fires is reported with its code and its officer text in Bahasa
Indonesia and English, so a decline always says which rule declined.

Rules and their decisions:

* ``GRADE_APPROVE`` / ``GRADE_REFER`` / ``GRADE_DECLINE``: by the member's grade. A thin
  file is never declined by grade: its decline grades are referred (``GRADE_REFER``).
* ``OUTSIDE_EXPERIENCE``: a feature value lies outside what the model saw in training
  (`models.experience`: beyond its range, an unseen category, a new value of a feature
  constant in training) -> refer, naming the features; the model's answer there is an
  extrapolation nobody checked. The caller passes, per row, each such feature by its
  officer label per language, or by its name.
* ``THIN_FILE``: fewer than ``thin_file_max_months`` months of history -> refer.
* ``NO_INCOME_DATA``: a loan is requested but there is no estimated income (missing or
  <= 0) -> refer; affordability is not assessed. Rows without loan terms skip it.
* ``AFFORDABILITY_REDUCE``: requested instalment + existing debt service exceeds
  ``max_debt_service_to_income`` x income, but an amount of at least ``min_loan`` fits ->
  refer with the recommended maximum.
* ``AFFORDABILITY_DECLINE``: as above, but not even ``min_loan`` fits -> decline.

The final decision is the most severe of the fired rules (decline > refer > approve): a
decline by one rule stays a decline when another refers, and still lists the referring
rule.

Instalments follow the cooperatives' flat rate (DOMAIN.md): ``P / tenor + P * rate`` a month,
rounded to the nearest Rupiah.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.wording import LANGS, Lang, format_percent, format_rupiah
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

# the application's terms and what the ledger says of the member: decide_arrays' arguments
TERM_COLUMNS: tuple[str, ...] = (
    "loan_amount",
    "tenor_months",
    "flat_monthly_rate",
    "estimated_monthly_income",
    "existing_debt_service",
    "months_of_history",
)
INPUT_COLUMNS: tuple[str, ...] = ("grade", *TERM_COLUMNS)
RUPIAH_COLUMNS: tuple[str, ...] = ("max_recommended_amount", "instalment")
OUTPUT_COLUMNS: tuple[str, ...] = (
    "decision",
    "rule_codes",
    "reason_id",
    "reason_en",
    "max_recommended_amount",
    "instalment",
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


# which of the application's values each placeholder reads (None: the policy's own figures)
_PLACEHOLDER_FIELDS: dict[str, str | None] = {
    "grade": "grade",
    "grade_label": "grade",
    "months": "months",
    "instalment": "instalment",
    "income": "income",
    "max_amount": "max_amount",
    "other_debt": "existing",
    "features": "outside",
    "dsti": None,
    "min_loan": None,
}


_AFFORD_ID = (
    "Angsuran yang diajukan ({instalment}/bulan){other_debt} melebihi {dsti} perkiraan "
    "pendapatan usaha ({income}/bulan); "
)
_AFFORD_EN = (
    "The requested instalment ({instalment}/month){other_debt} exceeds {dsti} of estimated "
    "business income ({income}/month); "
)

# Declared once, in precedence order: among rules with the same decision, an earlier rule is
# the more specific reason and is listed first.
RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "AFFORDABILITY_DECLINE",
            "decline",
            _AFFORD_ID + "jumlah yang terjangkau ({max_amount}) di bawah pinjaman minimum "
            "{min_loan}.",
            _AFFORD_EN + "the affordable amount ({max_amount}) is below the minimum loan "
            "{min_loan}.",
        ),
        Rule(
            "GRADE_DECLINE",
            "decline",
            "Tingkat risiko {grade} ({grade_label}) berada di atas batas risiko kebijakan "
            "pinjaman.",
            "Risk grade {grade} ({grade_label}) is above the risk limit of the lending policy.",
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
            "THIN_FILE",
            "refer",
            "Riwayat transaksi di koperasi baru {months} bulan; perlu ditinjau petugas.",
            "Only {months} months of transaction history at the cooperative; an officer "
            "should review.",
        ),
        Rule(
            "NO_INCOME_DATA",
            "refer",
            "Belum ada data pendapatan usaha untuk menilai kemampuan membayar; perlu ditinjau "
            "petugas.",
            "No business income data to assess the ability to repay; an officer should review.",
        ),
        Rule(
            "AFFORDABILITY_REDUCE",
            "refer",
            _AFFORD_ID + "jumlah maksimum yang disarankan {max_amount}.",
            _AFFORD_EN + "the recommended maximum is {max_amount}.",
        ),
        Rule(
            "GRADE_REFER",
            "refer",
            "Tingkat risiko {grade} ({grade_label}); perlu ditinjau petugas sebelum diputuskan.",
            "Risk grade {grade} ({grade_label}); an officer should review before deciding.",
        ),
        Rule(
            "GRADE_APPROVE",
            "approve",
            "Tingkat risiko {grade} ({grade_label}) memenuhi ketentuan untuk disetujui.",
            "Risk grade {grade} ({grade_label}) meets the policy for approval.",
        ),
    )
}


def _fields_used(template: str) -> tuple[str, ...]:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return tuple(sorted({f for n in names if (f := _PLACEHOLDER_FIELDS[n]) is not None}))


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


def _rupiah_array(values: npt.NDArray[np.float64]) -> pd.api.extensions.ExtensionArray:
    """Whole Rupiah as a nullable Int64 array, NaN as <NA>."""
    gone = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(gone, 0, values).astype(np.int64), gone)


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


@dataclass(frozen=True)
class DecisionPolicy:
    """A versioned lending policy applied after the model.

    Parameters
    ----------
    version:
        Policy version recorded with every decision.
    approve_grades, refer_grades, decline_grades:
        Grade cut-offs; together they hold every grade in GRADES exactly once.
    max_debt_service_to_income:
        Highest share of estimated monthly income that all instalments together may take,
        in (0, 1].
    thin_file_max_months:
        Members with fewer months of history than this are a thin file (referred).
    min_loan:
        Smallest loan in Rupiah; if less than this is affordable, affordability declines.
    amount_step:
        Recommended maximum amounts are rounded down to a multiple of this (Rupiah).
    """

    version: str = "2026.12-1"
    approve_grades: tuple[str, ...] = ("A", "B")
    refer_grades: tuple[str, ...] = ("C",)
    decline_grades: tuple[str, ...] = ("D", "E")
    max_debt_service_to_income: float = 0.35
    thin_file_max_months: float = 6.0
    min_loan: int = 1_000_000
    amount_step: int = 50_000

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise _invalid("version", "a non-empty str", self.version)
        cut_offs = (self.approve_grades, self.refer_grades, self.decline_grades)
        listed = [g for grades in cut_offs for g in grades]
        if sorted(listed) != sorted(GRADES):
            raise ValueError(
                "The 'approve_grades', 'refer_grades' and 'decline_grades' parameters of "
                f"DecisionPolicy must hold each of {list(GRADES)} exactly once; got "
                f"{self.approve_grades!r}, {self.refer_grades!r}, {self.decline_grades!r} "
                "instead."
            )
        dsti = self.max_debt_service_to_income
        if not 0 < dsti <= 1:
            raise _invalid("max_debt_service_to_income", "in (0, 1]", dsti)
        if not self.thin_file_max_months >= 0:
            raise _invalid("thin_file_max_months", ">= 0", self.thin_file_max_months)
        for name in ("min_loan", "amount_step"):
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

        ``frame`` has one row per application with the columns of INPUT_COLUMNS: grade
        ("A".."E"), loan_amount (requested principal, Rupiah, > 0), tenor_months (> 0),
        flat_monthly_rate (>= 0, 0.015 = 1,5% a month flat), estimated_monthly_income
        (Rupiah; missing or <= 0 means no income data), existing_debt_service (Rupiah a
        month; missing means none), months_of_history (missing means none). Other columns,
        such as pd, are ignored. A row without loan_amount, tenor_months or
        flat_monthly_rate (a score-only request) is decided by grade and thin file alone:
        no instalment, and no affordability rule can fire.

        ``outside_experience``: per row, the features outside the model's experience, by
        officer label or name (`models.experience.outside_labels`); a row with any is
        referred and its texts name them.

        Returns a frame with the same index and the columns of OUTPUT_COLUMNS: decision,
        rule_codes (list of the fired rule codes, most decisive first), reason_id and
        reason_en (the fired rules' texts joined with a space), max_recommended_amount
        (Int64 Rupiah for the requested tenor and rate, never negative; <NA> without income
        data or loan terms) and instalment (Int64 Rupiah a month for the requested loan;
        <NA> without loan terms).
        """
        missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"DecisionPolicy.decide needs the columns {missing}.")
        terms: dict[str, Any] = {c: self._numeric(frame, c) for c in TERM_COLUMNS}
        decided = self.decide_arrays(
            frame["grade"].to_numpy(dtype=object),
            **terms,
            outside_experience=outside_experience,
        )
        return decisions_frame(decided, frame.index)

    def decide_arrays(
        self,
        grade: npt.NDArray[np.object_],
        loan_amount: npt.NDArray[np.float64],
        tenor_months: npt.NDArray[np.float64],
        flat_monthly_rate: npt.NDArray[np.float64],
        estimated_monthly_income: npt.NDArray[np.float64],
        existing_debt_service: npt.NDArray[np.float64],
        months_of_history: npt.NDArray[np.float64],
        *,
        langs: Sequence[Lang] = LANGS,
        outside_experience: OutsideExperience | None = None,
    ) -> dict[str, Any]:
        """`decide` on plain arrays (NaN for missing), for the single-application path where
        pandas costs more than the rules: decision (object array), rule_codes (list of
        lists), reason_id and reason_en (lists of str), max_recommended_amount and
        instalment (float arrays, NaN where `decide` gives <NA>). ``outside_experience``
        as in `decide`."""
        unknown = sorted({str(g) for g in grade} - set(GRADES))
        if unknown:
            raise ValueError(f"Unknown grades {unknown}; expected one of {list(GRADES)}.")
        n = len(grade)
        if outside_experience is None:
            outside: list[tuple[tuple[str, str], ...]] = [()] * n
        elif len(outside_experience) != n:
            raise ValueError(
                f"outside_experience must hold one entry per application ({n}); got "
                f"{len(outside_experience)}."
            )
        else:
            # a row object (rows with the same features outside share one) is read once;
            # the memo holds the row too, so no id is reused while it is in use
            read: dict[int, tuple[object, tuple[tuple[str, str], ...]]] = {}
            outside = []
            for row in outside_experience:
                known = read.get(id(row))
                if known is None:
                    known = read[id(row)] = (row, tuple(map(_label_pair, row)))
                outside.append(known[1])
        principal, tenor, rate = loan_amount, tenor_months, flat_monthly_rate
        for name, values, ok in (
            ("loan_amount", principal, principal > 0),
            ("tenor_months", tenor, tenor > 0),
            ("flat_monthly_rate", rate, rate >= 0),
        ):
            if (~np.isnan(values) & ~ok).any():
                bound = ">= 0" if name == "flat_monthly_rate" else "> 0"
                raise ValueError(f"{name} must be {bound} where given.")
        income = estimated_monthly_income
        existing = np.nan_to_num(existing_debt_service, nan=0.0)
        months = np.nan_to_num(months_of_history, nan=0.0)

        # NaN propagates: a row without loan terms (a score-only request) gets no
        # instalment, and without tenor and rate no recommended amount either.
        per_rupiah = 1.0 / tenor + rate  # monthly instalment per Rupiah of principal
        instalment = np.floor(principal * per_rupiah + 0.5)

        has_income = income > 0  # False for NaN too
        limit = np.where(has_income, self.max_debt_service_to_income * income, np.nan)
        room = np.maximum(limit - existing, 0.0)
        steps = np.floor(room / per_rupiah / self.amount_step + _FLOOR_TOL)
        # the rounded instalment of the recommended amount must fit as well: one step less
        # where rounding half a Rupiah up would cross the limit
        steps_instalment = np.floor(steps * self.amount_step * per_rupiah + 0.5)
        steps -= (steps > 0) & (steps_instalment + existing > limit + _RUPIAH_TOL)
        max_amount = steps * self.amount_step
        over = has_income & (instalment + existing > limit + _RUPIAH_TOL)

        thin = months < self.thin_file_max_months
        in_decline = np.isin(grade, self.decline_grades)
        fired: dict[str, npt.NDArray[np.bool_]] = {
            "AFFORDABILITY_DECLINE": over & (max_amount < self.min_loan),
            "GRADE_DECLINE": in_decline & ~thin,
            "OUTSIDE_EXPERIENCE": np.fromiter((bool(o) for o in outside), bool, count=n),
            "THIN_FILE": thin,
            # nothing to afford without a loan request (score-only rows, own tables)
            "NO_INCOME_DATA": ~has_income & np.isfinite(instalment),
            "AFFORDABILITY_REDUCE": over & (max_amount >= self.min_loan),
            "GRADE_REFER": np.isin(grade, self.refer_grades) | (in_decline & thin),
            "GRADE_APPROVE": np.isin(grade, self.approve_grades),
        }

        severity = np.zeros(len(grade), dtype=np.int64)
        for code, mask in fired.items():
            severity = np.maximum(severity, mask * DECISIONS.index(RULES[code].decision))

        placeholders = {
            "grade": grade,
            "months": months,
            "instalment": instalment,
            "existing": existing,
            "income": income,
            "max_amount": max_amount,
        }
        codes: list[list[str]] = [[] for _ in range(n)]
        for code in _RULE_ORDER:
            for row in np.flatnonzero(fired[code]).tolist():
                codes[row].append(code)
        # the policy's own figures are the same on every row: formatted once; a rule's text
        # is formatted once per distinct value of the placeholders it uses (a grade rule
        # five times in a batch, not once per row)
        raw = {k: np.asarray(v).tolist() for k, v in placeholders.items()}
        raw["outside"] = outside
        texts: dict[str, list[str]] = {}
        for lang in langs:
            constant = self._constant_fill(lang)
            per_row: list[list[str]] = [[] for _ in range(n)]
            for code in _RULE_ORDER:
                template = RULES[code].text(lang)
                used = _USED_FIELDS[code][lang]
                done: dict[tuple[Any, ...], str] = {}
                for i in np.flatnonzero(fired[code]).tolist():
                    key = tuple(raw[f][i] for f in used)
                    text = done.get(key)
                    if text is None:
                        text = template.format(**self._fill(raw, i, lang, constant))
                        done[key] = text
                    per_row[i].append(text)
            texts[lang] = [" ".join(t) for t in per_row]

        return {
            "decision": np.asarray(DECISIONS, dtype=object)[severity],
            "rule_codes": codes,
            **{f"reason_{lang}": texts[lang] for lang in langs},
            "max_recommended_amount": max_amount,
            "instalment": instalment,
        }

    @staticmethod
    def _numeric(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
        values = pd.to_numeric(frame[column], errors="raise")
        return np.asarray(values.astype("float64").to_numpy(na_value=np.nan), dtype=np.float64)

    def _constant_fill(self, lang: Lang) -> dict[str, str]:
        return {
            "dsti": format_percent(self.max_debt_service_to_income, lang),
            "min_loan": format_rupiah(self.min_loan),
        }

    def _fill(
        self,
        values: Mapping[str, Any],
        i: int,
        lang: Lang,
        constant: Mapping[str, str],
    ) -> dict[str, str]:
        """Placeholder values of application ``i`` in language ``lang`` ("id" or "en")."""
        grade = str(values["grade"][i])
        months = float(values["months"][i])
        fill = {
            **constant,
            "grade": grade,
            "grade_label": GRADE_LABELS[grade][0 if lang == "id" else 1].lower(),
            # completed months: 5.9 months of history reads "5 bulan"
            "months": str(math.floor(max(months, 0.0))),
            "instalment": "",
            "income": "",
            "max_amount": "",
            "other_debt": "",
            # "; " between features: their labels hold commas
            "features": "; ".join(p[0 if lang == "id" else 1] for p in values["outside"][i]),
        }
        income = float(values["income"][i])
        if income > 0:
            fill["income"] = format_rupiah(math.floor(income + 0.5))
        instalment = float(values["instalment"][i])
        if instalment == instalment:  # not NaN
            fill["instalment"] = format_rupiah(int(instalment))
        max_amount = float(values["max_amount"][i])
        if max_amount == max_amount:
            fill["max_amount"] = format_rupiah(int(max_amount))
        existing = float(values["existing"][i])
        if existing > 0:
            amount = format_rupiah(math.floor(existing + 0.5))
            fill["other_debt"] = (
                f" ditambah angsuran lain ({amount}/bulan)"
                if lang == "id"
                else f" plus other instalments ({amount}/month)"
            )
        return fill

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain JSON-ready values (tuples as lists), for the model artifact."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in fields(self)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionPolicy:
        """Rebuild a policy from :meth:`to_dict` output. Every field is required, so a
        stored policy never silently takes a newer default."""
        exact_field_names(cls, data)
        return cls(
            version=str(data["version"]),
            approve_grades=tuple(str(g) for g in data["approve_grades"]),
            refer_grades=tuple(str(g) for g in data["refer_grades"]),
            decline_grades=tuple(str(g) for g in data["decline_grades"]),
            max_debt_service_to_income=float(data["max_debt_service_to_income"]),
            thin_file_max_months=float(data["thin_file_max_months"]),
            min_loan=int(data["min_loan"]),
            amount_step=int(data["amount_step"]),
        )
