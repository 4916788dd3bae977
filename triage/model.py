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

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import config
from .features import FEATURE_NAMES

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


def input_names() -> list[str]:
    names = list(FEATURE_NAMES) + ["days_since_treatment", "day_unknown"]
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


def input_vector(features: dict, days: int | float | None, quality_ok: bool = True) -> np.ndarray:
    """The model's input row in `input_names()` order (NaN where a feature is missing)."""
    vals = [_transformed(name, features.get(name)) for name in FEATURE_NAMES]
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
    """A fitted model: plain attributes, saved whole with skops (see `save` / `load`)."""

    def __init__(self):
        self.input_names_: list[str] = input_names()
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
        return [n for n in FEATURE_NAMES if n in names and n not in CONTEXT_FEATURES]

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
        u = self.design(x)[0]
        per_column = self.coef_ * u / self.temperature_
        contrib = np.zeros((len(self.levels_), len(self.input_names_)))
        for k in range(len(self.levels_)):
            contrib[k] = np.bincount(self.basis_input_, weights=per_column[k], minlength=len(self.input_names_))
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


def _read_node(node, files):
    """Rebuild one node of a skops schema whose types passed TRUSTED_TYPES: plain JSON values,
    lists, dicts with str keys, numpy arrays (np.load without pickle) and the TriageModel's
    attribute dict. Nothing is imported or called by name."""
    loader = node.get("__loader__")
    if loader == "JsonNode":
        return json.loads(node["content"])
    if loader == "ListNode":
        return [_read_node(n, files) for n in node["content"]]
    if loader == "TupleNode":
        return tuple(_read_node(n, files) for n in node["content"])
    if loader == "DictNode":
        key_types = {(t.get("__loader__"), t.get("__module__"), t.get("__class__")) for t in node["key_types"]["content"]}
        if key_types - {("TypeNode", "builtins", "str")}:
            raise ValueError("dict keys other than str")
        return {k: _read_node(v, files) for k, v in node["content"].items()}
    if loader == "NdArrayNode" and node.get("type") == "numpy":
        with files.open(node["file"]) as f:
            return np.load(f, allow_pickle=False)
    if loader == "ObjectNode" and f"{node['__module__']}.{node['__class__']}" == "triage.model.TriageModel":
        model = TriageModel.__new__(TriageModel)
        model.__dict__.update(_read_node(node["content"], files))
        return model
    raise ValueError(f"unexpected node {loader} {node.get('__class__')}")


def read_model_bytes(data: bytes) -> TriageModel:
    """A TriageModel from the bytes of a skops file written by `save`, read with our own strict
    reader (skops writes the file; reading it needs neither skops nor scikit-learn, which would
    cost every process of a batch 1.3 s and ~110 MB). Raises ModelError."""
    import io as _io
    import zipfile

    try:
        found = types_in(data)
    except Exception as e:  # noqa: BLE001 - anything that is not a skops archive is not a model
        raise ModelError(f"not a triage model file ({type(e).__name__})") from None
    extra = sorted(found - TRUSTED_TYPES)
    if extra:
        raise ModelError(f"model file refused: it contains untrusted types ({', '.join(extra[:5])})")
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as files:
            model = _read_node(json.loads(files.read("schema.json")), files)
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"cannot read model file ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if not isinstance(model, TriageModel):
        raise ModelError(f"model file refused: it holds a {type(model).__name__}, not a TriageModel")
    missing = sorted(set(TriageModel().__dict__) - set(model.__dict__))
    if missing:
        raise ModelError(f"model file is from an older triage: missing {', '.join(missing[:3])}; retrain it")
    model.sha256 = hashlib.sha256(data).hexdigest()
    return model


def load(path: str | Path) -> TriageModel:
    """Load a model file (see `read_model_bytes`); the model's sha256 attribute is the file's."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path}") from None
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror or e}") from None
    try:
        return read_model_bytes(data)
    except ModelError as e:
        raise ModelError(f"{e}: {path}" if str(e).startswith("not a triage model") else str(e)) from None


#: The shipped model: models/default.skops beside the package (the project is installed in
#: editable mode, see README).
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "default.skops"


def default_model_path() -> Path:
    """TRIAGE_MODEL when set, else the promoted default of the model history (triage.registry),
    else the shipped model."""
    import os

    if os.environ.get("TRIAGE_MODEL"):
        return Path(os.environ["TRIAGE_MODEL"])
    from .registry import current_default

    return current_default()


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
