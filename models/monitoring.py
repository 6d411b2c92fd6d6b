"""What happens to a model once it serves: drift of its inputs and scores, and its outcomes.

Pure functions of frames; reading the store, the features folder and MLflow is the
caller's job (the `amanah monitor` command).

Population stability index (PSI) of a recent sample against the training reference:
PSI = sum over bins of (r - e) * ln(r / e), with e the reference share and r the recent
share of a bin. Numeric features use up to ten bins at the reference's deciles (ties
merged) plus one bin for missing values; categorical features one bin per category seen
in either sample; a share of zero is floored so a bin that empties counts heavily but
finitely (`models.report.feature_psi`, the validation report's train-against-test PSI).
The usual reading: below 0.10 stable, 0.10 to 0.25 a shift worth
watching, 0.25 or more a shift to act on. PSI on a few dozen rows is noise: every figure
carries its counts, and one measured on fewer than `MIN_ROWS` recent rows is marked as a
small sample and never raises an alert on its own.

When the monitor alerts (`alerts`, the non-zero exit of `amanah monitor`):
- the score shifts (PSI of the score 0.25 or more): the population the model decides on
  has moved;
- a feature shifts (0.25 or more) while the score is at least worth watching (0.10): the
  feature is the likely cause. A feature that shifts while the score holds still is
  reported but does not alert on its own: a growing cooperative's tenure, savings and loan
  history drift every month by design, and the monotone model absorbs it (measured on a
  generated city: tenure PSI above 1.5 with a score PSI of 0.05);
- the decisions shift: the share of recent applications the policy would approve, as a
  ratio of the training sample's share, falls below 0.8 or rises above 1.25 (the
  four-fifths ratio the fairness screen uses), on at least `MIN_ROWS` applications. A
  downturn cuts the income the affordability rule reads before it moves the score much or
  before loans mature (measured: approvals 22% lower with a score PSI of 0.03);
- the book's calibration fails: on matured loans the observed defaults differ from the sum
  of their PDs by more than `CALIBRATION_Z` standard deviations (the binomial variance
  sum of p(1-p)), with at least `MIN_CALIBRATION_LOANS` loans;
- the scores served from the store shift (PSI 0.25 or more, not a small sample).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.metrics import auc
from models.report import PSI_SHIFTED, PSI_WATCH, feature_psi

__all__ = [
    "ALERT_PSI",
    "APPROVAL_RATIO",
    "CALIBRATION_Z",
    "MIN_ROWS",
    "WATCH_PSI",
    "Alert",
    "Calibration",
    "DecisionRates",
    "Drift",
    "GradeOutcome",
    "Vintage",
    "alerts",
    "approval_ratio",
    "calibration",
    "decision_rates",
    "drift",
    "outcomes_by_grade",
    "psi",
    "psi_status",
    "reason_frequencies",
    "vintages",
]

WATCH_PSI = PSI_WATCH
ALERT_PSI = PSI_SHIFTED
MIN_ROWS = 200  # recent rows below which a PSI is reported as a small sample
MIN_VINTAGE_EVENTS = 5  # defaults and repaid loans a month needs before its AUC means much


@dataclass(frozen=True)
class Drift:
    name: str
    psi: float
    reference_rows: int
    recent_rows: int

    @property
    def small_sample(self) -> bool:
        return self.recent_rows < MIN_ROWS

    @property
    def status(self) -> str:
        return psi_status(self.psi, self.small_sample)


def psi_status(value: float, small_sample: bool = False) -> str:
    """stable / watch / shift by the 0.10 and 0.25 thresholds; a shift measured on a small
    sample reads `watch`, since it is as likely noise as news."""
    if value >= ALERT_PSI and not small_sample:
        return "shift"
    if value >= WATCH_PSI:
        return "watch"
    return "stable"


def psi(reference: pd.Series, recent: pd.Series) -> float:
    """PSI of `recent` against `reference` (module docstring; the validation report's own
    `feature_psi`); 0.0 when either is empty."""
    if len(reference) == 0 or len(recent) == 0:
        return 0.0
    numeric = pd.api.types.is_numeric_dtype(reference) and not pd.api.types.is_bool_dtype(reference)
    return feature_psi(reference, recent, categorical=not numeric)


def drift(reference: pd.DataFrame, recent: pd.DataFrame, columns: Iterable[str]) -> list[Drift]:
    """PSI of every column both frames hold, largest first."""
    found = [
        Drift(c, psi(reference[c], recent[c]), len(reference), len(recent))
        for c in columns
        if c in reference.columns and c in recent.columns
    ]
    return sorted(found, key=lambda d: -d.psi)


@dataclass(frozen=True)
class GradeOutcome:
    grade: str
    loans: int
    predicted_pd: float  # mean PD the model gave these loans at application
    dpd30: float | None  # observed shares reaching 30+, 60+ and 90+ days past due
    dpd60: float | None
    dpd90: float | None  # the model's default

    @property
    def defaults(self) -> int:
        return round((self.dpd90 or 0.0) * self.loans)


OUTCOME_COLUMNS = {"dpd30": "dpd30_12m", "dpd60": "dpd60_12m", "dpd90": "default_12m"}


def _rate(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame.columns or frame[column].notna().sum() == 0:
        return None
    return float(pd.to_numeric(frame[column], errors="coerce").mean())


def outcomes_by_grade(matured: pd.DataFrame, grades: Sequence[str]) -> list[GradeOutcome]:
    """Observed 30+/60+/90+ DPD shares per grade against the mean predicted PD, for loans
    whose 12-month window has closed (`matured` has `grade`, `pd` and the label columns)."""
    out = []
    for grade in grades:
        part = matured[matured["grade"] == grade]
        if part.empty:
            continue
        rates = {k: _rate(part, c) for k, c in OUTCOME_COLUMNS.items()}
        out.append(GradeOutcome(grade, len(part), float(part["pd"].mean()), **rates))
    return out


@dataclass(frozen=True)
class Vintage:
    month: str
    loans: int
    defaults: int
    predicted_pd: float
    auc: float | None  # None where the month holds too few defaults or repaid loans
    ks: float | None


def _ks(y: npt.NDArray[np.int64], p: npt.NDArray[np.float64]) -> float:
    order = np.argsort(p, kind="stable")
    y_sorted = y[order]
    bad = np.cumsum(y_sorted) / max(int(y.sum()), 1)
    good = np.cumsum(1 - y_sorted) / max(int(len(y) - y.sum()), 1)
    return float(np.max(np.abs(bad - good)))


def vintages(matured: pd.DataFrame, date_column: str = "application_date") -> list[Vintage]:
    """AUC and KS of the PD against default by month of application."""
    months = pd.to_datetime(matured[date_column]).dt.strftime("%Y-%m")
    out = []
    for month in sorted(months.unique()):
        part = matured[(months == month).to_numpy()]
        y = pd.to_numeric(part["default_12m"]).to_numpy().astype("int64")
        p = part["pd"].to_numpy(dtype="float64")
        enough = min(int(y.sum()), int(len(y) - y.sum())) >= MIN_VINTAGE_EVENTS
        out.append(
            Vintage(
                month=str(month),
                loans=len(part),
                defaults=int(y.sum()),
                predicted_pd=float(p.mean()),
                auc=float(auc(y, p)) if enough else None,
                ks=_ks(y, p) if enough else None,
            )
        )
    return out


def reason_frequencies(
    answers: Iterable[Mapping[str, object]], top: int = 10
) -> list[tuple[str, int]]:
    """How often each adverse reason code was given, most frequent first."""
    counts: Counter[str] = Counter()
    for answer in answers:
        reasons = answer.get("reasons") or []
        for reason in reasons if isinstance(reasons, list) else []:
            if isinstance(reason, Mapping) and reason.get("direction") == "adverse":
                counts[str(reason.get("code"))] += 1
    return counts.most_common(top)


CALIBRATION_Z = 3.0
MIN_CALIBRATION_LOANS = 100
APPROVAL_RATIO = (0.8, 1.25)  # recent approve share / the reference's, outside: an alert


@dataclass(frozen=True)
class Calibration:
    loans: int
    observed: int  # defaults that happened
    expected: float  # sum of the PDs the model gave those loans
    variance: float  # sum of p(1-p)

    @property
    def z(self) -> float | None:
        if self.variance <= 0:
            return None
        return (self.observed - self.expected) / float(np.sqrt(self.variance))

    @property
    def ratio(self) -> float | None:
        return self.observed / self.expected if self.expected > 0 else None

    @property
    def alarm(self) -> bool:
        z = self.z
        return self.loans >= MIN_CALIBRATION_LOANS and z is not None and abs(z) > CALIBRATION_Z


def calibration(matured: pd.DataFrame) -> Calibration:
    """Observed defaults of matured loans against the sum of their PDs (the book's
    calibration, not a single loan's)."""
    p = matured["pd"].to_numpy(dtype="float64")
    y = pd.to_numeric(matured["default_12m"]).to_numpy(dtype="float64")
    return Calibration(len(p), int(y.sum()), float(p.sum()), float((p * (1 - p)).sum()))


@dataclass(frozen=True)
class DecisionRates:
    scored: int
    approve: float | None  # shares of the recommended decisions
    refer: float | None
    decline: float | None
    decided: int = 0  # decisions recorded by an officer or a partner
    overridden: int = 0

    @property
    def override_rate(self) -> float | None:
        return self.overridden / self.decided if self.decided else None


def approval_ratio(recent: DecisionRates, reference: DecisionRates) -> float | None:
    """Recent approve share over the reference's (None when either is undefined)."""
    if recent.approve is None or not reference.approve:
        return None
    return recent.approve / reference.approve


def decision_rates(
    recommended: Sequence[str], overridden: Sequence[bool] | None = None
) -> DecisionRates:
    """Shares of approve / refer / decline among recommendations, and how often a recorded
    decision went against the recommendation."""
    n = len(recommended)
    counts = Counter(recommended)
    share = {k: (counts[k] / n if n else None) for k in ("approve", "refer", "decline")}
    flags = list(overridden or [])
    return DecisionRates(n, share["approve"], share["refer"], share["decline"],
                         len(flags), int(sum(bool(f) for f in flags)))  # fmt: skip


@dataclass(frozen=True)
class Alert:
    code: str
    text_en: str
    text_id: str


def alerts(
    score: Drift,
    features: Sequence[Drift],
    book: Calibration | None,
    decisions: tuple[DecisionRates, DecisionRates] | None = None,
    served: Drift | None = None,
) -> list[Alert]:
    """What crossed a threshold (module docstring), each with an id/en text; `served` is
    the drift of the scores the API and console served, from the store."""
    found = []
    if score.status == "shift":
        found.append(Alert(
            "score_shift",
            f"The score's distribution shifted (PSI {score.psi:.2f} on {score.recent_rows} "
            "applications).",
            f"Sebaran skor bergeser (PSI {score.psi:.2f} pada {score.recent_rows} pengajuan).",
        ))  # fmt: skip
    shifted = [d for d in features if d.status == "shift"]
    if shifted and score.psi >= WATCH_PSI and not score.small_sample:
        names = ", ".join(f"{d.name} ({d.psi:.2f})" for d in shifted[:5])
        found.append(Alert(
            "feature_shift",
            f"Features shifted while the score moved: {names}.",
            f"Fitur bergeser sementara skor ikut berubah: {names}.",
        ))  # fmt: skip
    ratio = None if decisions is None else approval_ratio(*decisions)
    if (
        decisions is not None and ratio is not None and decisions[0].scored >= MIN_ROWS
        and not APPROVAL_RATIO[0] <= ratio <= APPROVAL_RATIO[1]
    ):  # fmt: skip
        recent, reference = decisions
        found.append(Alert(
            "decision_shift",
            f"The policy would approve {100 * (recent.approve or 0):.1f}% of recent "
            f"applications against {100 * (reference.approve or 0):.1f}% in training "
            f"(ratio {ratio:.2f}).",
            f"Kebijakan akan menyetujui {100 * (recent.approve or 0):.1f}% pengajuan terbaru, "
            f"dibanding {100 * (reference.approve or 0):.1f}% saat pelatihan "
            f"(rasio {ratio:.2f}).",
        ))  # fmt: skip
    if served is not None and served.status == "shift":
        found.append(Alert(
            "served_score_shift",
            f"Served scores shifted (PSI {served.psi:.2f} on {served.recent_rows} scores).",
            f"Skor yang dilayani bergeser (PSI {served.psi:.2f} pada {served.recent_rows} skor).",
        ))  # fmt: skip
    if book is not None and book.alarm:
        found.append(Alert(
            "calibration",
            f"Matured loans: {book.observed} defaults against {book.expected:.1f} expected "
            f"(z = {book.z:.1f}, {book.loans} loans).",
            f"Pinjaman yang jatuh tempo: {book.observed} gagal bayar, diperkirakan "
            f"{book.expected:.1f} (z = {book.z:.1f}, {book.loans} pinjaman).",
        ))  # fmt: skip
    return found
