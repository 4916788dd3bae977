"""The classifier: standardised features into a multinomial logistic regression, temperature-
calibrated, with a safety policy over its probabilities and exact per-feature contributions.

Inputs (`input_vector`): every registered feature (counts through log1p, area fractions through
sqrt: both compress long tails so one extreme photo does not dominate), the judged day since
treatment (unknown -> UNKNOWN_DAY_AS, with a 0/1 `day_unknown` indicator), and the product of
each redness feature with the day (`<feature>_x_day`): the policy's allowed redness falls with
the day, which a model additive in redness and day cannot express on its own.

Scores: z = (x - mean) / scale; s_k = (b_k + sum_j w_kj z_j) / T, with w and b centred over the
three classes (softmax is unchanged by a shift common to all classes, so centring makes s_k the
log-odds of class k against the average class). p = softmax(s). The contribution of input j to
class k is w_kj z_j / T; contributions plus b_k / T add up to s_k exactly.

Safety policy (`decide`): seek-care when p(seek-care) >= the threshold chosen on validation data
for seek-care recall >= SEEK_CARE_RECALL_TARGET, whatever the arg-max; a photo failing the
quality gate is never "normal" (at least "monitor"). The decision says when it overrode the
arg-max.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import config
from .features import FEATURE_NAMES

LEVELS = list(config.LEVELS)
DAY_INTERACTIONS = ("redness_delta_a", "redness_area_fraction", "erythema_index_delta", "redness_strong_area_fraction")


def transform_name(name: str) -> str:
    """How a feature enters the model: 'log1p', 'sqrt' or 'identity'."""
    if name.endswith("_count") or name == "track_aligned_dots":
        return "log1p"
    if name.endswith("_fraction"):
        return "sqrt"
    return "identity"


def input_names() -> list[str]:
    return list(FEATURE_NAMES) + ["days_since_treatment", "day_unknown"] + [f"{n}_x_day" for n in DAY_INTERACTIONS]


def input_vector(features: dict, days: int | float | None) -> np.ndarray:
    """The model's input row (NaN where a feature is missing; imputed by the model)."""
    vals = []
    for name in FEATURE_NAMES:
        v = features.get(name)
        if v is None:
            vals.append(np.nan)
            continue
        kind = transform_name(name)
        v = float(v)
        vals.append(math.log1p(max(v, 0.0)) if kind == "log1p" else math.sqrt(max(v, 0.0)) if kind == "sqrt" else v)
    unknown = days is None or (isinstance(days, float) and math.isnan(days))
    d = config.UNKNOWN_DAY_AS if unknown else float(min(max(days, 0), config.MAX_MODEL_DAY))
    vals += [d, 1.0 if unknown else 0.0]
    for name in DAY_INTERACTIONS:
        v = features.get(name)
        vals.append(np.nan if v is None else float(v) * d / config.MAX_MODEL_DAY)
    return np.array(vals, dtype=np.float64)


@dataclass
class Decision:
    label: str
    argmax: str
    probabilities: dict[str, float]
    override: str | None  #: why the policy changed the arg-max, or None
    scores: np.ndarray  #: s_k per level
    contributions: np.ndarray  #: (levels, inputs) w_kj z_j / T
    intercepts: np.ndarray  #: b_k / T


class TriageModel:
    """A fitted model: plain attributes, saved whole with skops (see `save` / `load`)."""

    def __init__(self):
        self.input_names_: list[str] = input_names()
        self.levels_: list[str] = LEVELS
        self.impute_: np.ndarray | None = None
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None  # centred over classes
        self.intercept_: np.ndarray | None = None
        self.temperature_: float = 1.0
        self.seek_care_threshold_: float = 0.5
        self.expected_ranges_: dict[str, dict[str, float]] = {}  # feature -> day band -> P95 among normal
        self.name: str = "model"
        self.version: str = "0"
        self.sha256: str = ""  # of the file it was loaded from; set by load()

    # --- fitting ---------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, *, seed: int = 0, C: float = 1.0) -> "TriageModel":
        from sklearn.linear_model import LogisticRegression

        self.impute_ = np.nanmedian(X, axis=0)
        self.impute_ = np.where(np.isnan(self.impute_), 0.0, self.impute_)
        Xi = self._impute(X)
        self.mean_ = Xi.mean(axis=0)
        self.scale_ = np.where(Xi.std(axis=0) > 1e-9, Xi.std(axis=0), 1.0)
        Z = (Xi - self.mean_) / self.scale_
        yi = np.array([self.levels_.index(v) for v in y])
        lr = LogisticRegression(C=C, max_iter=5000, random_state=seed)
        lr.fit(Z, yi)
        coef = np.zeros((len(self.levels_), Z.shape[1]))
        icpt = np.zeros(len(self.levels_))
        coef[lr.classes_] = lr.coef_
        icpt[lr.classes_] = lr.intercept_
        self.coef_ = coef - coef.mean(axis=0)
        self.intercept_ = icpt - icpt.mean()
        return self

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> "TriageModel":
        """Temperature scaling on held-out data (Guo et al. ICML 2017): the T minimising the
        negative log-likelihood; it keeps contributions exact (all divided by the same T)."""
        from scipy.optimize import minimize_scalar

        s = self._raw_scores(X)
        yi = np.array([self.levels_.index(v) for v in y])

        def nll(log_t):
            z = s / math.exp(log_t)
            z = z - z.max(axis=1, keepdims=True)
            return float(-(z[np.arange(len(yi)), yi] - np.log(np.exp(z).sum(axis=1))).mean())

        self.temperature_ = float(math.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))
        return self

    def choose_seek_care_threshold(self, X: np.ndarray, y: np.ndarray, target: float) -> float:
        """The highest threshold on p(seek-care) whose seek-care recall on (X, y) is >= target."""
        p_seek = self.predict_proba(X)[:, self.levels_.index("seek-care")]
        pos = np.sort(p_seek[np.asarray(y) == "seek-care"])
        if len(pos) == 0:
            self.seek_care_threshold_ = 0.5
            return self.seek_care_threshold_
        k = int(math.floor((1.0 - target) * len(pos)))  # this many positives may fall below
        self.seek_care_threshold_ = float(min(0.5, pos[k] - 1e-9))
        return self.seek_care_threshold_

    # --- predicting ------------------------------------------------------------------------
    def _impute(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=np.float64, copy=True)
        bad = ~np.isfinite(X)
        X[bad] = np.broadcast_to(self.impute_, X.shape)[bad]
        return X

    def standardise(self, X: np.ndarray) -> np.ndarray:
        return (self._impute(np.atleast_2d(X)) - self.mean_) / self.scale_

    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        return self.standardise(X) @ self.coef_.T + self.intercept_

    def scores(self, X: np.ndarray) -> np.ndarray:
        return self._raw_scores(X) / self.temperature_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        s = self.scores(X)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def decide(self, x: np.ndarray, quality_ok: bool = True) -> Decision:
        """The policy's level for one input row, with probabilities and contributions."""
        z = self.standardise(x)[0]
        contrib = self.coef_ * z / self.temperature_
        icpt = self.intercept_ / self.temperature_
        s = contrib.sum(axis=1) + icpt
        e = np.exp(s - s.max())
        p = e / e.sum()
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
        probs = {lvl: float(v) for lvl, v in zip(self.levels_, p)}
        return Decision(label, argmax, probs, override, s, contrib, icpt)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Policy labels for many rows (quality assumed ok)."""
        p = self.predict_proba(X)
        out = np.array(self.levels_, dtype=object)[np.argmax(p, axis=1)]
        out[p[:, self.levels_.index("seek-care")] >= self.seek_care_threshold_] = "seek-care"
        return out


# --- persistence ----------------------------------------------------------------------------
#: Every type a model file may hold. skops on its own trusts much more (all of scikit-learn,
#: for instance); this list is checked first, against every node of the file's schema.
TRUSTED_TYPES = frozenset({
    "triage.model.TriageModel", "numpy.ndarray", "builtins.dict", "builtins.list", "builtins.tuple",
    "builtins.str", "builtins.int", "builtins.float", "builtins.bool", "builtins.NoneType",
    "numpy.float64", "numpy.int64",
})  # fmt: skip


class ModelError(Exception):
    """A model file that is missing, unreadable or not trusted; str() is one line."""


def types_in(data: bytes) -> set[str]:
    """module.class of every object in a skops file (read from its schema, nothing loaded)."""
    import io as _io
    import json
    import zipfile

    with zipfile.ZipFile(_io.BytesIO(data)) as z:
        schema = json.loads(z.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node:
                found.add(f"{node.get('__module__')}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def save(model: TriageModel, path: str | Path) -> str:
    """Write the model with skops (atomically); returns its sha256."""
    import skops.io as sio

    from .fsutil import atomic_write_bytes

    data = sio.dumps(model)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def load(path: str | Path) -> TriageModel:
    """Load a skops model file, refusing it when any object in it is of a type outside
    TRUSTED_TYPES; the model's sha256 attribute is the file's."""
    import skops.io as sio

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path}") from None
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror or e}") from None
    try:
        found = types_in(data)
    except Exception as e:  # noqa: BLE001 - anything that is not a skops archive is not a model
        raise ModelError(f"not a triage model file ({type(e).__name__}): {path}") from None
    extra = sorted(found - TRUSTED_TYPES)
    if extra:
        raise ModelError(f"model file refused: it contains untrusted types ({', '.join(extra[:5])})")
    try:
        model = sio.loads(data, trusted=sorted(found))
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"cannot load model file {path} ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    if not isinstance(model, TriageModel):
        raise ModelError(f"model file refused: it holds a {type(model).__name__}, not a TriageModel")
    model.sha256 = hashlib.sha256(data).hexdigest()
    return model


#: The shipped model: models/default.skops beside the package (the project is installed in
#: editable mode, see README); TRIAGE_MODEL overrides it.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "default.skops"


def default_model_path() -> Path:
    import os

    return Path(os.environ.get("TRIAGE_MODEL", DEFAULT_MODEL_PATH))


_DEFAULT: TriageModel | None = None


def load_default() -> TriageModel:
    """The shipped model, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load(default_model_path())
    return _DEFAULT


def load_model(path: str | Path | None = None) -> TriageModel:
    """Public API: the shipped model (path None) or the model file at `path`; untrusted content
    is refused with ModelError."""
    return load_default() if path is None else load(path)
