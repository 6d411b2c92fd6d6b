"""Probability-of-default calibration: map a model's raw log-odds to a calibrated PD.

The booster's raw margin is trained to rank, not to be a probability; the calibrator is fitted on
the out-of-time validation period so that a PD of 0.08 means "8 in 100 such members default".

Two mappings are offered:

* ``platt``: a logistic regression of the default flag on the margin,
  ``PD = 1 / (1 + exp(-(a * margin + b)))``; two numbers, smooth, strictly monotone.
* ``isotonic``: a non-decreasing step-wise linear map (scikit-learn's ``IsotonicRegression``),
  stored as its thresholds and evaluated with linear interpolation, flat beyond the ends.

``auto`` chooses between them on a stratified half split of the data (fit on one half, Brier
score on the other) and then refits the winner on all rows. The fitted calibrator serialises to
plain JSON (:meth:`PDCalibrator.to_dict`) so the model artifact needs no pickle.
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

__all__ = ["CalibrationMethod", "FittedMethod", "PDCalibrator"]

CalibrationMethod = Literal["auto", "isotonic", "platt"]
FittedMethod = Literal["isotonic", "platt"]

_METHODS: tuple[CalibrationMethod, ...] = get_args(CalibrationMethod)
_FITTED_METHODS: tuple[FittedMethod, ...] = get_args(FittedMethod)

# Platt scaling wants an (almost) unpenalised fit; a finite C keeps the slope finite when the
# margin separates the classes perfectly.
_PLATT_C = 1e4
_SERIAL_FORMAT = "amanah.pd_calibrator"
_SERIAL_VERSION = 1


def _one_of(owner: str, name: str, value: object, allowed: tuple[str, ...]) -> ValueError:
    choices = "{" + ", ".join(repr(a) for a in sorted(allowed)) + "}"
    return ValueError(
        f"The {name!r} parameter of {owner} must be one of {choices}; got {value!r} instead."
    )


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    # tanh form: no overflow warning for large |z|, exact 0.5 at z = 0
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def _as_margin(margin: ArrayLike) -> NDArray[np.float64]:
    m = np.asarray(margin, dtype=np.float64)
    if m.ndim != 1:
        raise ValueError(f"margin must be 1-D (one log-odds per row); got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError("margin contains NaN or infinite values")
    return m


def _as_binary_target(y: ArrayLike, n: int) -> NDArray[np.float64]:
    t = np.asarray(y, dtype=np.float64)
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"y must be 1-D with one label per margin ({n}); got shape {t.shape}")
    if not np.all((t == 0.0) | (t == 1.0)):
        raise ValueError("y must contain only 0 (repaid) and 1 (default)")
    return t


class PDCalibrator:
    """Calibrate raw log-odds into a probability of default.

    Parameters
    ----------
    method:
        ``"platt"``, ``"isotonic"`` or ``"auto"`` (choose by holdout Brier score).
    clip:
        ``(low, high)`` bounds for the returned PD, ``0 <= low < high <= 1``. The floor keeps a
        PD of exactly 0 out of pricing and expected-loss figures; the ceiling keeps the top band
        from claiming certainty.
    random_state:
        Seed of the stratified half split used by ``auto``.

    Attributes (after ``fit``)
    --------------------------
    method_:
        The mapping in use, ``"isotonic"`` or ``"platt"``.
    brier_holdout_:
        ``{method: Brier score of its clipped PD on the held-out half}`` for both candidates
        when ``method="auto"`` (a tie goes to Platt); empty when the method was fixed.
    x_thresholds_, y_thresholds_:
        Isotonic mapping (margins, non-decreasing PDs); set only when ``method_ == "isotonic"``.
    a_, b_:
        Platt slope and intercept, ``PD = sigmoid(a_ * margin + b_)``; set only for Platt.
    n_samples_fit_:
        Rows the final mapping was fitted on.
    """

    method_: FittedMethod
    brier_holdout_: dict[str, float]
    x_thresholds_: NDArray[np.float64]
    y_thresholds_: NDArray[np.float64]
    a_: float
    b_: float
    n_samples_fit_: int

    def __init__(
        self,
        method: CalibrationMethod = "auto",
        clip: tuple[float, float] = (0.0005, 0.95),
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.clip = clip
        self.random_state = random_state

    # -- parameters ---------------------------------------------------------------------------

    def _validated_clip(self) -> tuple[float, float]:
        try:
            low, high = (float(v) for v in self.clip)
        except (TypeError, ValueError):
            low, high = math.nan, math.nan
        if not (0.0 <= low < high <= 1.0):
            raise ValueError(
                "The 'clip' parameter of PDCalibrator must be a pair (low, high) with "
                f"0 <= low < high <= 1; got {self.clip!r} instead."
            )
        return low, high

    def _validate_params(self) -> None:
        if self.method not in _METHODS:
            raise _one_of("PDCalibrator", "method", self.method, _METHODS)
        self._validated_clip()
        if not isinstance(self.random_state, int | np.integer) or isinstance(
            self.random_state, bool
        ):
            raise ValueError(
                "The 'random_state' parameter of PDCalibrator must be an int; "
                f"got {self.random_state!r} instead."
            )

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, margin: ArrayLike, y: ArrayLike) -> PDCalibrator:
        """Fit on validation-period margins (log-odds, shape ``(n,)``) and 0/1 default flags."""
        self._validate_params()
        m = _as_margin(margin)
        t = _as_binary_target(y, m.shape[0])
        n_bad = int(t.sum())
        n_good = t.shape[0] - n_bad
        if n_bad == 0 or n_good == 0:
            raise ValueError(
                f"PDCalibrator needs both classes in y; got {n_bad} defaults and {n_good} repaid"
            )

        chosen: FittedMethod
        if self.method == "auto":
            if n_bad < 2 or n_good < 2:
                raise ValueError(
                    "method='auto' needs at least 2 defaults and 2 repaid rows to split; "
                    f"got {n_bad} defaults and {n_good} repaid"
                )
            fit_idx, hold_idx = self._stratified_halves(t)
            brier: dict[str, float] = {}
            for candidate in _FITTED_METHODS:
                probe = PDCalibrator(method=candidate, clip=self.clip)
                probe.fit(m[fit_idx], t[fit_idx])
                p = probe.predict(m[hold_idx])
                brier[candidate] = float(np.mean((p - t[hold_idx]) ** 2))
            # a tie goes to Platt: two parameters, smooth, and strictly monotone
            chosen = "isotonic" if brier["isotonic"] < brier["platt"] else "platt"
            self.brier_holdout_ = brier
        else:
            chosen = self.method
            self.brier_holdout_ = {}

        self._fit_mapping(chosen, m, t)
        return self

    def _stratified_halves(
        self, t: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        rng = np.random.default_rng(self.random_state)
        fit_parts: list[NDArray[np.intp]] = []
        hold_parts: list[NDArray[np.intp]] = []
        for label in (0.0, 1.0):
            idx = rng.permutation(np.flatnonzero(t == label))
            half = idx.shape[0] // 2
            fit_parts.append(idx[:half])
            hold_parts.append(idx[half:])
        return np.sort(np.concatenate(fit_parts)), np.sort(np.concatenate(hold_parts))

    def _fit_mapping(
        self, method: FittedMethod, m: NDArray[np.float64], t: NDArray[np.float64]
    ) -> None:
        for attr in ("x_thresholds_", "y_thresholds_", "a_", "b_"):
            self.__dict__.pop(attr, None)
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", increasing=True, y_min=0.0, y_max=1.0)
            iso.fit(m, t)
            self.x_thresholds_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.y_thresholds_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        else:
            lr = LogisticRegression(C=_PLATT_C, max_iter=1000)
            lr.fit(m.reshape(-1, 1), t.astype(np.int64))
            self.a_ = float(lr.coef_[0, 0])
            self.b_ = float(lr.intercept_[0])
        self.method_ = method
        self.n_samples_fit_ = int(m.shape[0])

    # -- prediction ---------------------------------------------------------------------------

    def predict(self, margin: ArrayLike) -> NDArray[np.float64]:
        """Calibrated PD for each margin, shape ``(n,)``, clipped to ``clip``."""
        if not hasattr(self, "method_"):
            raise RuntimeError("This PDCalibrator is not fitted yet; call fit() first.")
        m = _as_margin(margin)
        low, high = self._validated_clip()
        if self.method_ == "isotonic":
            p = np.interp(m, self.x_thresholds_, self.y_thresholds_)
        else:
            p = _sigmoid(self.a_ * m + self.b_)
        return np.clip(np.asarray(p, dtype=np.float64), low, high)

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: parameters plus the fitted mapping (no pickle needed).

        Floats are stored as Python floats, whose JSON form round-trips exactly, so a calibrator
        restored with :meth:`from_dict` predicts bit-for-bit the same PDs.
        """
        if not hasattr(self, "method_"):
            raise RuntimeError("This PDCalibrator is not fitted yet; call fit() first.")
        low, high = self._validated_clip()
        mapping: dict[str, Any]
        if self.method_ == "isotonic":
            mapping = {
                "x_thresholds": [float(v) for v in self.x_thresholds_],
                "y_thresholds": [float(v) for v in self.y_thresholds_],
            }
        else:
            mapping = {"a": self.a_, "b": self.b_}
        return {
            "format": _SERIAL_FORMAT,
            "version": _SERIAL_VERSION,
            "params": {
                "method": self.method,
                "clip": [low, high],
                "random_state": self.random_state,
            },
            "method_": self.method_,
            "brier_holdout_": dict(self.brier_holdout_),
            "n_samples_fit_": self.n_samples_fit_,
            "mapping": mapping,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PDCalibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` output (e.g. after ``json.loads``)."""
        if d.get("format") != _SERIAL_FORMAT or d.get("version") != _SERIAL_VERSION:
            raise ValueError(
                f"not a serialised PDCalibrator (expected format {_SERIAL_FORMAT!r} version "
                f"{_SERIAL_VERSION}); got format {d.get('format')!r} version {d.get('version')!r}"
            )
        params = d["params"]
        low, high = params["clip"]
        cal = cls(method=params["method"], clip=(low, high), random_state=params["random_state"])
        cal._validate_params()
        fitted = d["method_"]
        if fitted not in _FITTED_METHODS:
            raise _one_of("PDCalibrator", "method_", fitted, _FITTED_METHODS)
        mapping = d["mapping"]
        if fitted == "isotonic":
            x = np.asarray(mapping["x_thresholds"], dtype=np.float64)
            yt = np.asarray(mapping["y_thresholds"], dtype=np.float64)
            if x.ndim != 1 or x.shape != yt.shape or x.shape[0] == 0 or np.any(np.diff(x) < 0):
                raise ValueError("isotonic thresholds must be two equal-length, sorted 1-D lists")
            cal.x_thresholds_ = x
            cal.y_thresholds_ = yt
        else:
            cal.a_ = float(mapping["a"])
            cal.b_ = float(mapping["b"])
        cal.method_ = fitted
        cal.brier_holdout_ = {str(k): float(v) for k, v in d["brier_holdout_"].items()}
        cal.n_samples_fit_ = int(d["n_samples_fit_"])
        return cal

    def __repr__(self) -> str:
        return (
            f"PDCalibrator(method={self.method!r}, clip={self.clip!r}, "
            f"random_state={self.random_state!r})"
        )
