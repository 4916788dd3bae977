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
(u) and fed to the regression, whose coefficients on the findings that can only raise the level
are ordered normal <= monitor <= seek-care (fit_monotone), so no finding ever argues for a lower
level:

    s_k = (b_k + sum_c w_kc u_c) / T,  p = softmax(s)

with w and b centred over the three classes (softmax ignores a shift common to all classes) and
T fitted on held-out data. The contribution of input j to class k is sum over j's columns of
w_kc u_c / T; contributions plus b_k / T add up to s_k exactly, and `input_feature` maps each
input to the feature it is computed from, so explanations can name features.

Inputs are clamped to the range seen in training before the basis (`lower_`, `upper_`): a
linear spline extrapolates its last slope without end, and a measurement far outside the
training data (a real photo with 200 "pustules") must not swing the scores to any level. A
finding beyond the training maximum is out of the model's experience: the decision names it and
is never "normal". An input that took one value in every training photo (a facial region's
measure when no training photo shows a face, a patient's course when none had one) has no learnt
effect, so nothing is cut off by its clamp: it is never "beyond training".

Safety policy (`decide`): seek-care when p(seek-care) >= the threshold chosen on held-out data
for seek-care recall >= SEEK_CARE_RECALL_TARGET, whatever the arg-max; a photo failing the
quality gate is never "normal" (at least "monitor"). The decision says when it overrode the
arg-max.
"""

from __future__ import annotations

import math
import warnings
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

    def __init__(self, feature_names=(), optional=()):
        self.input_names_: list[str] = input_names(feature_names)
        #: per input: computed from an optional feature (one comparing photos, triage.course): when
        #: it is missing its spline columns are 0, so it contributes nothing, not an imputed value
        self.optional_inputs_: list[bool] = [input_feature(n) in set(optional) for n in self.input_names_]
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
    def fit(self, X: np.ndarray, y: np.ndarray, *, C: float = 1.0) -> "TriageModel":
        """Fit on input rows X (input_names order) and levels y: impute, clamp range,
        standardise, spline basis, then the multinomial logistic regression with the findings'
        coefficients ordered (fit_monotone)."""
        with warnings.catch_warnings():  # an all-missing column has no median: 0 below
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0)
        self.impute_ = np.where(np.isnan(med), 0.0, med)
        Xi = self._impute(X)
        # an optional input's statistics are those of the photos that have it (its missing rows
        # are imputed with its median above, which leaves its quantiles and range as they are)
        present = np.isfinite(X)
        optional = np.asarray(self.optional_inputs_, bool)
        weights = np.where(optional[None, :], present, True).astype(float)
        self.lower_, self.upper_ = Xi.min(axis=0), Xi.max(axis=0)
        self.mean_ = _weighted_mean(Xi, weights)
        sd = np.sqrt(_weighted_mean((Xi - self.mean_) ** 2, weights))
        self.scale_ = np.where(sd > 1e-9, sd, 1.0)
        Z = (Xi - self.mean_) / self.scale_
        self.knots_ = [np.unique(np.quantile(Z[weights[:, j] > 0, j] if weights[:, j].any() else Z[:, j], KNOT_QUANTILES))
                       for j in range(Z.shape[1])]  # fmt: skip
        B = self._basis(Z)
        self.basis_input_ = np.repeat(np.arange(Z.shape[1]), [1 + len(k) for k in self.knots_])
        column_weights = weights[:, self.basis_input_]
        self.basis_mean_ = _weighted_mean(B, column_weights)
        bsd = np.sqrt(_weighted_mean((B - self.basis_mean_) ** 2, column_weights))
        self.basis_scale_ = np.where(bsd > 1e-9, bsd, 1.0)
        U = self._gate((B - self.basis_mean_) / self.basis_scale_, X)
        yi = np.array([self.levels_.index(v) for v in y])
        ordered = np.array([raises_level(self.input_names_[j]) for j in self.basis_input_])
        self.coef_, self.intercept_ = fit_monotone(U, yi, ordered, C)
        return self

    def _gate(self, U: np.ndarray, X: np.ndarray) -> np.ndarray:
        """U with the columns of optional inputs set to 0 in rows where that input is missing."""
        optional = np.asarray(getattr(self, "optional_inputs_", None) or [False] * len(self.input_names_), bool)
        if optional.any():
            missing = optional[None, :] & ~np.isfinite(np.atleast_2d(X))
            U = np.where(missing[:, self.basis_input_], 0.0, U)
        return U

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
        is above the training maximum, of the inputs that varied in training (module docstring)."""
        above = (self._impute(np.atleast_2d(x))[0] > self.upper_) & (self.upper_ > self.lower_)
        names = {input_feature(n) for n, a in zip(self.input_names_, above) if a}
        return [n for n in self.feature_names if n in names and n not in CONTEXT_FEATURES]

    def design(self, X: np.ndarray) -> np.ndarray:
        """Standardised spline basis U of input rows X (clamped to the training range)."""
        Xi = np.clip(self._impute(np.atleast_2d(X)), self.lower_, self.upper_)
        Z = (Xi - self.mean_) / self.scale_
        return self._gate((self._basis(Z) - self.basis_mean_) / self.basis_scale_, X)

    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        return self.design(X) @ self.coef_.T + self.intercept_

    def scores(self, X: np.ndarray) -> np.ndarray:
        return self._raw_scores(X) / self.temperature_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return _softmax(self.scores(X))

    def decide(self, x: np.ndarray, quality_ok: bool = True, never_normal: str | None = None) -> Decision:
        """The policy's level for one input row, with probabilities and contributions;
        `never_normal`, when given, is a reason outside the model (the patient's course) why the
        photo is not to be called normal."""
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
        if never_normal and label == "normal":
            label, override = "monitor", f"{never_normal}, so it is not called normal"
        beyond = self.beyond_training(x)
        if beyond and label == "normal":
            label = "monitor"
            override = (
                "some findings are beyond anything the model was trained on "
                f"({', '.join(n.replace('_', ' ') for n in beyond[:3])}), so it is never called normal"
            )
        probs = {lvl: float(v) for lvl, v in zip(self.levels_, p)}
        return Decision(label, argmax, probs, override, beyond, s, contrib, icpt)


#: inputs that describe the photo or the day rather than a finding, or whose finding is expected
#: on some days (bleeding on day 0: its after-day-0 input carries the finding; dryness and
#: flaking on days 2-5; redness spread over the whole skin is the expected course): they may
#: push either way
FREE_INPUTS = frozenset({"texture_roughness", "redness_spread", "bleeding_spot_count", "quality_failed"})


def raises_level(name: str) -> bool:
    """Whether a model input is a finding that the policy says can only raise the level (its
    coefficients are ordered, fit_monotone): every feature's input and day interaction but the
    context (CONTEXT_FEATURES), the day and FREE_INPUTS."""
    feature = input_feature(name)
    if name in FREE_INPUTS or feature in CONTEXT_FEATURES or feature in ("days_since_treatment", "quality_failed"):
        return False
    return name == "bleeding_spot_count_after_day0" or feature != "bleeding_spot_count"


def fit_monotone(U: np.ndarray, y: np.ndarray, ordered: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression over three ordered levels with L2 penalty, minimising

        C * sum_i -log p(y_i | u_i) + 1/2 ||W - mean_k W_k||^2,   p = softmax(W u + b)

    (scikit-learn's objective), where for the `ordered` columns w_normal <= w_monitor <=
    w_seek-care: the level's score can only rise with such a column. Parametrised by w_normal = 0,
    w_monitor = d1, w_seek = d1 + d2 with d1, d2 >= 0 on ordered columns (w_monitor = d1, w_seek = d2
    free elsewhere) and solved by L-BFGS-B (bounds), deterministic. Each basis column is monotone
    increasing in its input (linear and hinge terms of a standardised, monotone transform), so a
    finding can never lower the urgency: no spline that bends back at large counts. Returns the
    coefficients (3, p) and intercepts (3,), centred over the levels."""
    from scipy.optimize import minimize

    n, p = U.shape
    Y = np.eye(3)[y]

    def unpack(theta):
        d1, d2, b = theta[:p], theta[p: 2 * p], np.concatenate([[0.0], theta[2 * p:]])
        W = np.stack([np.zeros(p), d1, np.where(ordered, d1 + d2, d2)])
        return W, b

    def objective(theta):
        W, b = unpack(theta)
        s = U @ W.T + b
        s -= s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        P = np.exp(logp)
        Wc = W - W.mean(axis=0)
        value = -C * float((Y * logp).sum()) + 0.5 * float((Wc**2).sum())
        G = C * ((P - Y).T @ U) + Wc  # d/dW, (3, p)
        g1 = G[1] + np.where(ordered, G[2], 0.0)
        g2 = G[2]
        gb = C * (P - Y).sum(axis=0)[1:]
        return value, np.concatenate([g1, g2, gb])

    bounds = [(0.0, None) if o else (None, None) for o in ordered] * 2 + [(None, None)] * 2
    res = minimize(objective, np.zeros(2 * p + 2), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-12, "gtol": 1e-7})  # fmt: skip
    W, b = unpack(res.x)
    return W - W.mean(axis=0), b - b.mean()


def _weighted_mean(A: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Column means of A weighted by W (0/1); 0 where a column has no weight."""
    total = W.sum(axis=0)
    return np.where(total > 0, (A * W).sum(axis=0) / np.maximum(total, 1e-12), 0.0)


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
