"""The API's bodies, split by direction: `...Create` is what a partner sends (strict: an
unknown field is refused and named), `...Public` is what it gets back.

Amounts are whole Rupiah; `flat_monthly_rate` is a fraction a month (0.015 = 1.5% flat);
`pd` is a probability in [0, 1]. The loan's words (purpose, product) are checked by
`features.application.LoanRequest`, which also accepts Indonesian words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

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


# --- consents ---------------------------------------------------------------------------

MAX_CONSENT_DAYS = 365  # a consent lasts at most a year; the member then consents again
ConsentStatus = Literal["active", "revoked", "expired"]


class ConsentCreate(_Strict):
    """A member's consent for the calling partner and one purpose, until `expires_at` or
    for `valid_days` days (exactly one of them, at most MAX_CONSENT_DAYS days ahead)."""

    member: MemberByNumber | MemberByNik
    purpose: Annotated[str, StringConstraints(pattern=PURPOSE_PATTERN.pattern)] = (
        DEFAULT_CONSENT_PURPOSE
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the consent ends: with a time zone, in the future."
    )
    valid_days: int | None = Field(
        default=None, ge=1, le=MAX_CONSENT_DAYS, description="Or: days from now it lasts."
    )

    @field_validator("expires_at")
    @classmethod
    def _ahead_within_max(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("must be in the future")
        if value > now + timedelta(days=MAX_CONSENT_DAYS):
            raise ValueError(f"must be at most {MAX_CONSENT_DAYS} days from now")
        return value

    @model_validator(mode="after")
    def _one_expiry(self) -> ConsentCreate:
        if (self.expires_at is None) == (self.valid_days is None):
            raise ValueError("give exactly one of expires_at and valid_days")
        return self

    def expiry(self, now: datetime) -> datetime:
        """When the consent ends, for a consent given at `now`."""
        if self.expires_at is not None:
            return self.expires_at
        return now + timedelta(days=self.valid_days or 0)


class ConsentPublic(BaseModel):
    """A consent as the partner sees it: never the member's number, NIK or keyed hash."""

    id: str = Field(description="The consent reference, sent as `consent_id` when scoring.")
    cooperative_id: str
    purpose: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: ConsentStatus


class ConsentList(BaseModel):
    """One page of the partner's consents, newest first."""

    items: list[ConsentPublic]
    next_cursor: str | None = Field(
        description="Send as `cursor` for the next page; None on the last page."
    )


class ScoreBatchCreate(_Strict):
    """Many applications to score at once, each as `POST /v1/scores` takes it; at most
    `AMANAH_MAX_BATCH_ITEMS` (default 1,000): larger files go to `amanah score-batch`."""

    items: list[ScoreCreate] = Field(min_length=1, description="The applications, in order.")


class ItemProblem(BaseModel):
    """Why one item of a batch was not scored, as the problem `POST /v1/scores` answers."""

    code: str
    title: str
    detail: str
    detail_id: str | None = None


class BatchItemPublic(BaseModel):
    """One item's outcome: status 201 with its `score`, or 404/422 with its `problem`."""

    index: int = Field(description="The item's position in `items`, from 0.")
    status: int
    score: ScorePublic | None = None
    problem: ItemProblem | None = None


class BatchCounts(BaseModel):
    received: int
    scored: int
    failed: int


class ScoreBatchPublic(BaseModel):
    """A batch as answered: every scored item is also readable at `GET /v1/scores/{id}`."""

    id: str
    counts: BatchCounts
    results: list[BatchItemPublic] = Field(description="One per item, in the items' order.")
    scored_at: datetime
    request_id: str
