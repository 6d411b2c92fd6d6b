"""What an applicant writes on the loan form: monthly income and household expenses, and
whether an officer verified them (ledger `loans`: `declared_monthly_income`,
`declared_household_expenses`, `income_verified`).

The truth is the simulator's own latent income, which the ledger shows only in part (the
`coop_share` of it sold through the cooperative, in `produce_sales`):

- true monthly income at application: the mean of the member's latent monthly business
  income (`_Simulator.income`: level x season x city x shock x noise) over the
  `INCOME_WINDOW_MONTHS` calendar months before the application month, what she has just
  seen;
- true household expenses: a share of her usual monthly income (`_Members.level`), the
  share drawn once per member (lognormal, median `HOUSEHOLD_SHARE_MEDIAN`, sigma
  `HOUSEHOLD_SHARE_SIGMA`, clipped to `HOUSEHOLD_SHARE_RANGE`): a household spends steadily
  whatever the month brought.

What she declares (every figure rounded to the nearest `ROUND_TO`, Rp 100.000):

- `NO_DECLARATION_SHARE` of the applications carry no declaration at all (the three columns
  empty, as an export from before the form asked); of the others `NO_EXPENSES_SHARE` give the
  income only;
- income: a member either tends to over-state (`OVERSTATE_SHARE` of members, a trait drawn
  once) and then writes her true income times a factor uniform in `OVERSTATE_RANGE` on each
  application, or writes it close to the truth (lognormal noise, sigma `HONEST_NOISE`);
- expenses: under-stated by a factor uniform in `UNDERSTATE_RANGE` by members who tend to
  (`UNDERSTATE_IF_OVERSTATE` of the over-staters, `UNDERSTATE_OTHERS` of the others, drawn
  once per member), else close to the truth (`HONEST_NOISE`);
- `VERIFIED_SHARE` of the declarations are verified by an officer (`income_verified` true),
  which corrects both figures to the truth (rounded); the others are recorded as declared
  (`income_verified` false).

These are assumptions of the generator, not statistics. Over-statement is independent of
the member's repayment discipline and of the loan's size and outcome: the declaration tells
about affordability only through the true income it scatters around (the hazard of
`simulate.py` is unchanged; the oracle PD does not use the declaration).

Every draw here comes from its own generator (`declaration_rng`, seeded in `run.py` from
the run seed, the cooperative's index and `DECLARATION_STREAM`), never from the
simulator's, so every other figure of a generated ledger is the same as before these
columns existed (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[Any]
FloatArray = npt.NDArray[Any]
BoolArray = npt.NDArray[Any]

DECLARATION_STREAM = 0xDEC1  # third word of the declarations' seed: [seed, coop index, this]
INCOME_WINDOW_MONTHS = 3
ROUND_TO = 100_000
NO_DECLARATION_SHARE = 0.10
NO_EXPENSES_SHARE = 0.05
HONEST_NOISE = 0.05
OVERSTATE_SHARE = 0.30
OVERSTATE_RANGE = (1.2, 1.8)
HOUSEHOLD_SHARE_MEDIAN = 0.55
HOUSEHOLD_SHARE_SIGMA = 0.25
HOUSEHOLD_SHARE_RANGE = (0.25, 1.10)
UNDERSTATE_IF_OVERSTATE = 0.70
UNDERSTATE_OTHERS = 0.15
UNDERSTATE_RANGE = (0.5, 0.8)
VERIFIED_SHARE = 0.40


@dataclass(frozen=True)
class Declarations:
    """One entry per application, in the order given.

    `income` and `expenses` are the recorded figures in whole Rupiah (-1 where empty);
    `verified` is meaningful where `declared`. The `true_*`, `overstates_income` and
    `understates_expenses` arrays are the oracle's."""

    declared: BoolArray
    income: IntArray
    has_expenses: BoolArray
    expenses: IntArray
    verified: BoolArray
    true_income: FloatArray
    true_expenses: FloatArray
    overstates_income: BoolArray
    understates_expenses: BoolArray


def _rounded(amount: FloatArray, minimum: int) -> IntArray:
    return np.asarray(np.maximum(np.round(amount / ROUND_TO) * ROUND_TO, minimum), dtype=np.int64)


def true_income_at(income: FloatArray, member: IntArray, month: IntArray) -> FloatArray:
    """Mean latent income of each member over the `INCOME_WINDOW_MONTHS` months before
    `month` (fewer at the start of the horizon; the month itself when it is the first)."""
    start = np.maximum(month - INCOME_WINDOW_MONTHS, 0)
    stop = np.maximum(month, start + 1)
    cum = np.concatenate([np.zeros((income.shape[0], 1)), np.cumsum(income, axis=1)], axis=1)
    total = cum[member, stop] - cum[member, start]
    return np.asarray(total / (stop - start), dtype=np.float64)


def declare(
    rng: np.random.Generator,
    member: IntArray,
    month: IntArray,
    income: FloatArray,
    level: FloatArray,
) -> Declarations:
    """The declarations of applications by `member` (indices) in `month` (month indices of
    the simulation), from the members x months latent `income` and the members' `level`.

    The draws are in a fixed order, per member first, then per application, so the same
    generator state gives the same declarations."""
    n_members, k = len(level), len(member)
    # per member: the traits
    share = np.clip(
        HOUSEHOLD_SHARE_MEDIAN * np.exp(rng.normal(0.0, HOUSEHOLD_SHARE_SIGMA, n_members)),
        *HOUSEHOLD_SHARE_RANGE,
    )
    overstater = rng.random(n_members) < OVERSTATE_SHARE
    understater = rng.random(n_members) < np.where(
        overstater, UNDERSTATE_IF_OVERSTATE, UNDERSTATE_OTHERS
    )
    # per application
    declared = rng.random(k) >= NO_DECLARATION_SHARE
    has_expenses = declared & (rng.random(k) >= NO_EXPENSES_SHARE)
    verified = declared & (rng.random(k) < VERIFIED_SHARE)
    honest = np.exp(rng.normal(0.0, HONEST_NOISE, (2, k)))
    over = rng.uniform(*OVERSTATE_RANGE, k)
    under = rng.uniform(*UNDERSTATE_RANGE, k)

    true_income = true_income_at(income, member, month)
    true_expenses = share[member] * level[member]
    income_factor = np.where(overstater[member], over, honest[0])
    expenses_factor = np.where(understater[member], under, honest[1])
    stated_income = np.where(verified, true_income, true_income * income_factor)
    stated_expenses = np.where(verified, true_expenses, true_expenses * expenses_factor)
    return Declarations(
        declared=declared,
        income=np.where(declared, _rounded(stated_income, ROUND_TO), -1),
        has_expenses=has_expenses,
        expenses=np.where(has_expenses, _rounded(stated_expenses, 0), -1),
        verified=verified,
        true_income=true_income,
        true_expenses=np.asarray(true_expenses, dtype=np.float64),
        overstates_income=overstater[member],
        understates_expenses=understater[member],
    )
