"""The portfolio page's figures: the book by kolektibilitas, its expected loss, scores,
observed defaults by grade and decisions over time, for one cooperative.

Expected loss = sum over active loans of PD x outstanding principal x the policy's loss
given default. A loan already non-performing (kolektibilitas 3-5: more than 90 days past
due, the model's definition of default) counts with PD 1; every other loan with the
current model's PD for its borrower's current profile and the loan's own terms. The same
book under the stress scenarios, against the cooperative's bank instalment, comes from
`models.portfolio` (as `amanah portfolio` prints it). Observed
default rates by grade use the cooperative's loans whose 12-month outcome window has
closed (the features folder's training table), graded by the current model on the
profile as of each application; the analyst's out-of-time figures are in the validation
report, and the note on the page says these include loans the model learned from.

The model-based parts are computed once per (cooperative, model, book) and kept.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from features.book import PortfolioBook, portfolio_book
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from models.grades import GRADES
from models.portfolio import Portfolio, stressed_book
from serving.console.books import LoadedBook
from serving.store.tables import Application, Decision, Score

__all__ = ["DecisionMonth", "GradeOutcome", "ModelFigures", "PortfolioFigures", "figures"]

SCORE_BUCKET = 25  # points per bar of the score distribution


@dataclass(frozen=True)
class GradeOutcome:
    grade: str
    loans: int
    defaults: int

    @property
    def rate(self) -> float | None:
        return self.defaults / self.loans if self.loans else None


@dataclass(frozen=True)
class ModelFigures:
    book: Portfolio  # the book as it stands and under stress (models.portfolio)
    by_grade: list[GradeOutcome]

    @property
    def expected_loss(self) -> int:
        return round(self.book.base.expected_loss)

    @property
    def loss_given_default(self) -> float:
        return self.book.loss_given_default


@dataclass(frozen=True)
class DecisionMonth:
    month: str
    applications: int
    approved: int
    overridden: int


@dataclass(frozen=True)
class PortfolioFigures:
    book: PortfolioBook
    model: ModelFigures | None
    score_buckets: list[tuple[int, int]]  # (lowest score of the bucket, applications)
    grades: list[tuple[str, int]]
    months: list[DecisionMonth]


def _by_grade(model: AmanahModel, training: Path) -> list[GradeOutcome]:
    if not training.is_file():
        return [GradeOutcome(g, 0, 0) for g in GRADES]
    table = pd.read_parquet(training)
    target = str(model.metadata.get("target", "default_12m"))
    labelled = table[table[target].notna()] if target in table.columns else table.iloc[:0]
    if labelled.empty:
        return [GradeOutcome(g, 0, 0) for g in GRADES]
    grades = model.predict(labelled, reasons=False)["grade"].astype("str").to_numpy()
    defaults = labelled[target].to_numpy(dtype=float) > 0
    return [
        GradeOutcome(g, int((grades == g).sum()), int(((grades == g) & defaults).sum()))
        for g in GRADES
    ]


@dataclass
class ModelFiguresCache:
    _held: dict[tuple[str, int, int], ModelFigures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(
        self, model: AmanahModel, profiles: ProfileStore, loaded: LoadedBook, features: Path
    ) -> ModelFigures:
        key = (loaded.book.cooperative_id, id(model), id(loaded))
        with self._lock:
            if key not in self._held:
                book = stressed_book(model, profiles, loaded.book, loaded.positions)
                training = features / "training" / f"{loaded.book.cooperative_id}.parquet"
                figures = ModelFigures(book, _by_grade(model, training))
                self._held = {key: figures} | {
                    k: v for k, v in self._held.items() if k[0] != key[0]
                }
            return self._held[key]


def _store_figures(
    session: Session, cooperative_id: str
) -> tuple[list[tuple[int, int]], list[tuple[str, int]], list[DecisionMonth]]:
    scores = session.execute(
        select(Score.score, Score.grade)
        .join(Application, Score.application_id == Application.id)
        .where(Score.cooperative_id == cooperative_id, Score.partner_id.is_(None))
    ).all()
    buckets = Counter((int(s) // SCORE_BUCKET) * SCORE_BUCKET for s, _ in scores)
    low = min(buckets, default=0)
    high = max(buckets, default=-SCORE_BUCKET)
    score_buckets = [(b, buckets.get(b, 0)) for b in range(low, high + 1, SCORE_BUCKET)]
    by_grade = Counter(str(g) for _, g in scores)
    grades = [(g, by_grade.get(g, 0)) for g in GRADES]
    decided = session.execute(
        select(Decision.decided_at, Decision.decision, Decision.overridden)
        .join(Score, Decision.score_id == Score.id)
        .where(Score.cooperative_id == cooperative_id, Score.partner_id.is_(None))
    ).all()
    months: dict[str, list[int]] = {}
    for at, decision, overridden in decided:
        month = months.setdefault(at.strftime("%Y-%m"), [0, 0, 0])
        month[0] += 1
        month[1] += int(decision == "approve")
        month[2] += int(bool(overridden))
    ordered = [DecisionMonth(m, *months[m]) for m in sorted(months)][-12:]
    return score_buckets, grades, ordered


def figures(
    session: Session,
    loaded: LoadedBook,
    model: AmanahModel | None,
    profiles: ProfileStore | None,
    features: Path,
    cache: ModelFiguresCache,
) -> PortfolioFigures:
    """Everything the portfolio page shows for the cooperative of `loaded`."""
    modelled = (
        cache.get(model, profiles, loaded, features)
        if model is not None and profiles is not None
        else None
    )
    buckets, grades, months = _store_figures(session, loaded.book.cooperative_id)
    return PortfolioFigures(portfolio_book(loaded.positions), modelled, buckets, grades, months)
