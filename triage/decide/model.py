"""The classifier: a multinomial logistic regression over linear-spline terms of the features,
temperature-calibrated, with a safety policy over its probabilities and exact per-feature
contributions.

Inputs (`input_vector`, names from `input_names`): every registered feature (counts through
log1p, area fractions through sqrt: both compress long tails); the judged day since treatment
(unknown -> UNKNOWN_DAY_AS, with a 0/1 `day_unknown` indicator) and its hinges past days 1, 3 and
7 (where TRIAGE_POLICY's expected course steps down); each redness feature times the day and
times each hinge (the allowed redness falls with the day); pinpoint bleeding counted only after
day 0 (`bleeding_spot_count_after_day0`: the policy expects bleeding on day 0 only); and
`quality_failed` (the quality gate's verdict: a photo that cannot be assessed is "monitor", and
the model is trained on such photos too, so its probabilities for them are calibrated).

Each standardised input z_j enters through a linear spline: z_j and max(0, z_j - t) for its
knots t at the 50/80/95/99th percentiles of the training data (duplicates dropped), which lets a
finding matter only past a level, as the policy's thresholds do. Basis columns are standardised
(u) and fed to the regression:

    s_k = (b_k + sum_c w_kc u_c) / T,  p = softmax(s)

with w and b centred over the three classes (softmax ignores a shift common to all classes) and
T fitted on held-out data. The contribution of input j to class k is sum over j's columns of
w_kc u_c / T; contributions plus b_k / T add up to s_k exactly, and `input_feature` maps each
input to the feature it is computed from, so explanations can name features.

Inputs are clamped to the range seen in training before the basis (`lower_`, `upper_`): a
linear spline extrapolates its last slope without end, and a measurement far outside the
training data (a real photo with 200 "pustules") must not swing the scores to any level. A
finding beyond the training maximum is out of the model's experience: the decision names it and
is never "normal".

Safety policy (`decide`): seek-care when p(seek-care) >= the threshold chosen on held-out data
for seek-care recall >= SEEK_CARE_RECALL_TARGET, whatever the arg-max; a photo failing the
quality gate is never "normal" (at least "monitor"). The decision says when it overrode the
arg-max.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import config

LEVELS = list(config.LEVELS)
REDNESS_INPUTS = ("redness_delta_a", "redness_area_fraction", "erythema_index_delta", "redness_strong_area_fraction")
DAY_HINGES = (1, 3, 7)  # days where the policy's expected course changes
KNOT_QUANTILES = (0.5, 0.8, 0.95, 0.99)
CONTEXT_FEATURES = ("ita_deg", "skin_fraction")  # describe the photo, not a finding


def transform_name(name: str) -> str:
    """How a feature enters the model: 'log1p', 'sqrt' or 'identity'."""
    if name.endswith("_count") or name == "track_aligned_dots":
        return "log1p"
    if name.endswith("_fraction"):
        return "sqrt"
    return "identity"


def input_names(feature_names) -> list[str]:
    """The model's inputs for these features: the features, then the day and its terms."""
    names = list(feature_names) + ["days_since_treatment", "day_unknown"]
    names += [f"days_past_{h}" for h in DAY_HINGES]
    for r in REDNESS_INPUTS:
        names += [f"{r}_x_day"] + [f"{r}_x_days_past_{h}" for h in DAY_HINGES]
    return names + ["bleeding_spot_count_after_day0", "quality_failed"]


def input_feature(name: str) -> str:
    """The feature (or 'days_since_treatment') an input is computed from."""
    if name == "quality_failed":
        return "quality_failed"
    if name in ("day_unknown",) or name.startswith("days_past_"):
        return "days_since_treatment"
    if name == "bleeding_spot_count_after_day0":
        return "bleeding_spot_count"
    for r in REDNESS_INPUTS:
        if name.startswith(r + "_x_day"):
            return r
    return name


def _transformed(name: str, v) -> float:
    if v is None:
        return np.nan
    kind = transform_name(name)
    v = float(v)
    return math.log1p(max(v, 0.0)) if kind == "log1p" else math.sqrt(max(v, 0.0)) if kind == "sqrt" else v


def input_vector(feature_names, features: dict, days: int | float | None, quality_ok: bool = True) -> np.ndarray:
    """The model's input row in `input_names(feature_names)` order (NaN where a feature is missing)."""
    vals = [_transformed(name, features.get(name)) for name in feature_names]
    unknown = days is None or (isinstance(days, float) and math.isnan(days))
    d = config.UNKNOWN_DAY_AS if unknown else float(min(max(days, 0), config.MAX_MODEL_DAY))
    hinges = [max(0.0, d - h) for h in DAY_HINGES]
    vals += [d, 1.0 if unknown else 0.0, *hinges]
    for r in REDNESS_INPUTS:
        v = features.get(r)
        for scale in (d, *hinges):
            vals.append(np.nan if v is None else float(v) * scale / 7.0)
    bleed = features.get("bleeding_spot_count")
    vals.append(np.nan if bleed is None else math.log1p(max(float(bleed), 0.0)) * (1.0 if d > 0 else 0.0))
    vals.append(0.0 if quality_ok else 1.0)
    return np.array(vals, dtype=np.float64)


@dataclass
class Decision:
    label: str
    argmax: str
    probabilities: dict[str, float]
    override: str | None  #: why the policy changed the arg-max, or None
    beyond_training: list[str]  #: findings above anything seen in training (clamped)
    scores: np.ndarray  #: s_k per level
    contributions: np.ndarray  #: (levels, inputs) w_kj z_j / T
    intercepts: np.ndarray  #: b_k / T


class TriageModel:
    """A fitted model: plain attributes, saved whole with skops (triage.learn.train.save) and read
    back by the strict reader (triage.decide.modelfile)."""

    def __init__(self, feature_names=()):
        self.input_names_: list[str] = input_names(feature_names)
        self.levels_: list[str] = LEVELS
        self.impute_: np.ndarray | None = None  # per input: training median
        self.mean_: np.ndarray | None = None  # per input
        self.scale_: np.ndarray | None = None
        self.lower_: np.ndarray | None = None  # per input: training minimum (inputs are clamped)
        self.upper_: np.ndarray | None = None  # per input: training maximum
        self.knots_: list[np.ndarray] = []  # per input: spline knots on the standardised scale
        self.basis_mean_: np.ndarray | None = None  # per basis column
        self.basis_scale_: np.ndarray | None = None
        self.basis_input_: np.ndarray | None = None  # per basis column: index of its input
        self.coef_: np.ndarray | None = None  # (levels, basis columns), centred over levels
        self.intercept_: np.ndarray | None = None
        self.temperature_: float = 1.0
        self.seek_care_threshold_: float = 0.5
        self.expected_ranges_: dict[str, dict[str, float]] = {}  # feature -> day band -> P95 among normal
        self.name: str = "model"
        self.version: str = "0"
        self.sha256: str = ""  # of the file it was loaded from; set by load()

    @property
    def feature_names(self) -> list[str]:
        """The measured features the model reads, in input order (its inputs start with them)."""
        return self.input_names_[: self.input_names_.index("days_since_treatment")]

    def inputs(self, features: dict, days: int | float | None, quality_ok: bool = True) -> np.ndarray:
        """The model's input row for a photo's features (input_vector over its own features)."""
        return input_vector(self.feature_names, features, days, quality_ok)

    # --- fitting ---------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, *, seed: int = 0, C: float = 1.0) -> "TriageModel":
        from sklearn.linear_model import LogisticRegression

        med = np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0)
        self.impute_ = np.where(np.isnan(med), 0.0, med)
        Xi = self._impute(X)
        self.lower_, self.upper_ = Xi.min(axis=0), Xi.max(axis=0)
        self.mean_ = Xi.mean(axis=0)
        sd = Xi.std(axis=0)
        self.scale_ = np.where(sd > 1e-9, sd, 1.0)
        Z = (Xi - self.mean_) / self.scale_
        self.knots_ = [np.unique(np.quantile(Z[:, j], KNOT_QUANTILES)) for j in range(Z.shape[1])]
        B = self._basis(Z)
        self.basis_input_ = np.repeat(np.arange(Z.shape[1]), [1 + len(k) for k in self.knots_])
        self.basis_mean_ = B.mean(axis=0)
        bsd = B.std(axis=0)
        self.basis_scale_ = np.where(bsd > 1e-9, bsd, 1.0)
        U = (B - self.basis_mean_) / self.basis_scale_
        yi = np.array([self.levels_.index(v) for v in y])
        lr = LogisticRegression(C=C, max_iter=10000, random_state=seed)
        lr.fit(U, yi)
        coef = np.zeros((len(self.levels_), U.shape[1]))
        icpt = np.zeros(len(self.levels_))
        coef[lr.classes_] = lr.coef_
        icpt[lr.classes_] = lr.intercept_
        self.coef_ = coef - coef.mean(axis=0)
        self.intercept_ = icpt - icpt.mean()
        return self

    def _basis(self, Z: np.ndarray) -> np.ndarray:
        """Linear-spline basis: per input z and max(0, z - t) for each of its knots."""
        cols = []
        for j, knots in enumerate(self.knots_):
            cols.append(Z[:, j])
            cols.extend(np.maximum(0.0, Z[:, j] - t) for t in knots)
        return np.column_stack(cols)

    def calibrate_scores(self, raw_scores: np.ndarray, y) -> "TriageModel":
        """Temperature scaling (Guo et al. ICML 2017) on held-out raw scores, T minimising the
        Brier score (a proper scoring rule that, unlike the log-loss, is not dominated by the
        few confidently wrong photos whose label the pixels cannot show). It keeps contributions
        exact: all are divided by the same T."""
        from scipy.optimize import minimize_scalar

        onehot = np.eye(len(self.levels_))[[self.levels_.index(v) for v in y]]

        def brier(log_t):
            p = _softmax(raw_scores / math.exp(log_t))
            return float(((p - onehot) ** 2).sum(axis=1).mean())

        self.temperature_ = float(math.exp(minimize_scalar(brier, bounds=(-2, 2), method="bounded").x))
        return self

    def proba_from_raw(self, raw_scores: np.ndarray) -> np.ndarray:
        return _softmax(raw_scores / self.temperature_)

    def choose_seek_care_threshold(self, proba: np.ndarray, y, target: float) -> float:
        """The highest threshold on p(seek-care) whose seek-care recall on (proba, y) is >= target."""
        p_seek = proba[:, self.levels_.index("seek-care")]
        pos = np.sort(p_seek[np.asarray(y) == "seek-care"])
        if len(pos) == 0:
            self.seek_care_threshold_ = 0.5
            return self.seek_care_threshold_
        k = int(math.floor((1.0 - target) * len(pos)))  # this many positives may fall below
        self.seek_care_threshold_ = float(min(0.5, pos[k] - 1e-9))
        return self.seek_care_threshold_

    def policy_labels(self, proba: np.ndarray, never_normal: np.ndarray) -> np.ndarray:
        """The safety policy applied to many rows of probabilities (see `decide`); never_normal
        marks rows failing the quality gate or with findings beyond the training range."""
        out = np.array(self.levels_, dtype=object)[np.argmax(proba, axis=1)]
        out[proba[:, self.levels_.index("seek-care")] >= self.seek_care_threshold_] = "seek-care"
        out[np.asarray(never_normal, bool) & (out == "normal")] = "monitor"
        return out

    # --- predicting ------------------------------------------------------------------------
    def _impute(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=np.float64, copy=True)
        bad = ~np.isfinite(X)
        X[bad] = np.broadcast_to(self.impute_, X.shape)[bad]
        return X

    def beyond_training(self, x: np.ndarray) -> list[str]:
        """Findings (not ita_deg / skin_fraction, which describe the photo) whose input in row x
        is above the training maximum."""
        above = self._impute(np.atleast_2d(x))[0] > self.upper_
        names = {input_feature(n) for n, a in zip(self.input_names_, above) if a}
        return [n for n in self.feature_names if n in names and n not in CONTEXT_FEATURES]

    def design(self, X: np.ndarray) -> np.ndarray:
        """Standardised spline basis U of input rows X (clamped to the training range)."""
        Xi = np.clip(self._impute(np.atleast_2d(X)), self.lower_, self.upper_)
        Z = (Xi - self.mean_) / self.scale_
        return (self._basis(Z) - self.basis_mean_) / self.basis_scale_

    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        return self.design(X) @ self.coef_.T + self.intercept_

    def scores(self, X: np.ndarray) -> np.ndarray:
        return self._raw_scores(X) / self.temperature_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return _softmax(self.scores(X))

    def decide(self, x: np.ndarray, quality_ok: bool = True) -> Decision:
        """The policy's level for one input row, with probabilities and contributions."""
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # checked below
            u = self.design(x)[0]
            per_column = self.coef_ * u / self.temperature_
            contrib = np.zeros((len(self.levels_), len(self.input_names_)))
            for k in range(len(self.levels_)):
                contrib[k] = np.bincount(self.basis_input_, weights=per_column[k], minlength=len(self.input_names_))
            icpt = self.intercept_ / self.temperature_
            s = contrib.sum(axis=1) + icpt
            e = np.exp(s - s.max())
            p = e / e.sum()
        if not np.all(np.isfinite(p)):  # never let a broken model fall through to "normal"
            raise ValueError("the model gave non-finite probabilities")
        argmax = self.levels_[int(np.argmax(p))]
        label, override = argmax, None
        if p[self.levels_.index("seek-care")] >= self.seek_care_threshold_ and argmax != "seek-care":
            label = "seek-care"
            override = (
                f"the chance of a finding needing care ({p[2]:.0%}) is above the safety threshold "
                f"({self.seek_care_threshold_:.0%}), so it is raised to seek-care"
            )
        elif not quality_ok and label == "normal":
            label = "monitor"
            override = "the photo could not be assessed reliably, so it is never called normal"
        beyond = self.beyond_training(x)
        if beyond and label == "normal":
            label = "monitor"
            override = (
                "some findings are beyond anything the model was trained on "
                f"({', '.join(n.replace('_', ' ') for n in beyond[:3])}), so it is never called normal"
            )
        probs = {lvl: float(v) for lvl, v in zip(self.levels_, p)}
        return Decision(label, argmax, probs, override, beyond, s, contrib, icpt)


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
