"""The API's bodies, split by direction: `...Create` is what a partner sends (strict: an
unknown field is refused and named), `...Public` is what it gets back.

Amounts are whole Rupiah; `flat_monthly_rate` is a fraction a month (0.015 = 1.5% flat);
`pd` is a probability in [0, 1]. The loan's words (purpose, product) are checked by
`features.application.LoanRequest`, which also accepts Indonesian words.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from features.application import DEFAULT_PRODUCT, MAX_FLAT_MONTHLY_RATE, MAX_TENOR_MONTHS
from serving.security import COOPERATIVE_ID_MAX, MEMBER_NUMBER_MAX
from serving.store.repo import PURPOSE_PATTERN

DEFAULT_FLAT_MONTHLY_RATE = 0.015  # as `amanah score --rate`
DEFAULT_CONSENT_PURPOSE = "credit_scoring"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberByNumber(_Strict):
    """A member by cooperative and member number (nomor anggota): the ledger's number
    within the cooperative ("A00006") or the whole member id ("KMP-0026-A00006")."""

    cooperative_id: Annotated[Text, StringConstraints(max_length=COOPERATIVE_ID_MAX)]
    member_number: Annotated[Text, StringConstraints(max_length=MEMBER_NUMBER_MAX)]


class MemberByNik(_Strict):
    """A member by NIK (16 digits; spaces, dots and dashes between them allowed)."""

    nik: Annotated[str, StringConstraints(min_length=16, max_length=32)]


class LoanCreate(_Strict):
    amount: int = Field(gt=0, description="Principal in whole Rupiah.")
    tenor_months: int = Field(ge=1, le=MAX_TENOR_MONTHS, description="Monthly instalments.")
    purpose: Text = Field(description="A loan purpose: ledger value, label or Indonesian word.")
    product: Text = Field(default=DEFAULT_PRODUCT, description="A loan product.")
    flat_monthly_rate: float = Field(
        default=DEFAULT_FLAT_MONTHLY_RATE,
        ge=0,
        le=MAX_FLAT_MONTHLY_RATE,
        description="Flat rate as a fraction a month (0.015 = 1.5%).",
    )
    declared_monthly_income: int | None = Field(default=None, gt=0)
    declared_household_expenses: int | None = Field(default=None, ge=0)
    income_verified: bool | None = None


class ScoreCreate(_Strict):
    """One application to score: who, what loan, under which consent."""

    member: MemberByNumber | MemberByNik
    loan: LoanCreate
    consent_id: Annotated[Text, StringConstraints(max_length=40)] | None = Field(
        default=None,
        description="The consent reference; default: the member's active consent for `purpose`.",
    )
    purpose: Annotated[str, StringConstraints(pattern=PURPOSE_PATTERN.pattern)] = (
        DEFAULT_CONSENT_PURPOSE
    )


class ReasonPublic(BaseModel):
    """One reason for the score: its feature's effect, in both languages."""

    code: str
    feature: str
    group: str = Field(description="The 5C group: character, capacity, capital, ...")
    factor: str
    direction: str = Field(description="adverse or favourable")
    impact_logodds: float = Field(description="Effect on the log-odds of default.")
    impact_points: float = Field(description="Effect on the score, in points.")
    value: Any = Field(description="The member's value of the feature, as shown.")
    text_id: str
    text_en: str
    improve_id: str | None = None
    improve_en: str | None = None


class ModelPublic(BaseModel):
    name: str | None
    version: str | None
    alias: str | None


class ScorePublic(BaseModel):
    """A score as answered and stored."""

    id: str
    pd: float = Field(description="Probability of default, 0 to 1.")
    score: int
    grade: str
    decision: str
    approved_amount: int | None = Field(description="Rupiah; None when declined.")
    max_recommended_amount: int | None
    instalment: int | None = Field(description="Monthly instalment of the request, Rupiah.")
    reasons: list[ReasonPublic] = Field(description="Adverse first, then favourable.")
    rule_codes: list[str]
    decision_text_id: str | None = None
    decision_text_en: str | None = None
    thin_file: bool
    profile_as_of: date
    model: ModelPublic
    scored_at: datetime
    request_id: str
