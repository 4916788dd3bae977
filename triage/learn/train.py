"""`triage train`: fit a model from a labelled dataset and write it with its model card.

Reproducible: the same data and seed give the same model and the same predictions, whatever
the number of workers (the split is seeded by patient, the solver is deterministic; only the
zip timestamps inside the skops file and the card's date differ). Photos that fail the quality gate are part of the fit, with the gate's verdict as an input
(`quality_failed`), so that the probabilities reported for them are calibrated too; the policy
still never calls them normal. The expected ranges quoted in explanations come from assessable
photos only.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..course.features import COURSE_FEATURES
from ..decide import config as decide_config
from ..decide.bands import DAY_BANDS, day_band
from ..decide.model import TriageModel, input_vector
from ..measure import code_version
from ..measure.features import FEATURE_NAMES
from ..pipeline import config_hash
from ..util.files import atomic_write_bytes, atomic_write_text
from . import config
from .dataset import MeasuredItem, measure_dataset, read_labels

#: What the model reads: every measured feature but config.NOT_MODEL_INPUTS, then the optional
#: ones comparing a patient's photos (triage.course), which contribute nothing when missing.
MODEL_FEATURES = [f for f in FEATURE_NAMES if f not in config.NOT_MODEL_INPUTS] + list(COURSE_FEATURES)


def dataset_hash(folder: Path) -> str:
    """sha256 over labels.csv and every labelled file's bytes (in labels.csv order)."""
    h = hashlib.sha256((folder / "labels.csv").read_bytes())
    for item in read_labels(folder):
        p = folder / item.file
        h.update(item.file.encode())
        if p.is_file():
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def group_folds(items: list[MeasuredItem], k: int, seed: int) -> np.ndarray:
    """Fold number (0..k-1) of every item, by patient (patient_id, else file): no person is in
    two folds."""
    keys = [it.item.meta.get("patient_id") or it.item.file for it in items]
    uniq = sorted(set(keys))
    order = np.random.default_rng(seed).permutation(len(uniq))
    fold_of = {uniq[i]: n % k for n, i in enumerate(order)}
    return np.array([fold_of[key] for key in keys])


def expected_ranges(items: list[MeasuredItem]) -> dict[str, dict[str, float]]:
    """Per feature and policy day band: the 95th percentile among photos labelled normal."""
    out: dict[str, dict[str, float]] = {}
    for name in FEATURE_NAMES:
        out[name] = {}
        for band, _lo, _hi in DAY_BANDS:
            vals = [
                it.features[name]
                for it in items
                if it.item.label == "normal" and day_band(it.item.days) == band and it.features.get(name) is not None
            ]
            if len(vals) >= 5:
                out[name][band] = round(float(np.percentile(vals, 95)), 4)
    return out


def fit_model(
    measured: list[MeasuredItem], seed: int, name: str, data_sha: str, calibration: list[MeasuredItem] | None = None
) -> tuple[TriageModel, dict]:
    """Fit on all photos; temperature and seek-care threshold chosen on `calibration` (held-out
    photos, e.g. real ones beside generated) when given, else on out-of-fold predictions
    (CV_FOLDS folds grouped by patient). Returns the model and its out-of-fold metrics.

    Its version names what it was made from: "<data sha256[:12]>-m<measuring code[:8]>-s<seed>"
    (triage.measure.code_version), so the same photos measured by other code make another version."""
    from .evaluate import metrics

    X = np.array([input_vector(MODEL_FEATURES, m.features, m.item.days, m.quality_ok) for m in measured])
    y = np.array([m.item.label for m in measured], dtype=object)
    folds = group_folds(measured, config.CV_FOLDS, seed)
    oof_scores = np.zeros((len(y), len(decide_config.LEVELS)))
    never_normal = np.array([not m.quality_ok for m in measured])
    for f in range(config.CV_FOLDS):
        part = TriageModel(MODEL_FEATURES, COURSE_FEATURES).fit(X[folds != f], y[folds != f], C=config.LOGISTIC_C)
        oof_scores[folds == f] = part.scores(X[folds == f])
        never_normal[folds == f] |= [bool(part.beyond_training(x)) for x in X[folds == f]]
    model = TriageModel(MODEL_FEATURES, COURSE_FEATURES).fit(X, y, C=config.LOGISTIC_C)
    if calibration:
        Xc = np.array([model.inputs(m.features, m.item.days, m.quality_ok) for m in calibration])
        yc = np.array([m.item.label for m in calibration], dtype=object)
        raw = model.scores(Xc)  # temperature 1: the raw scores
        model.calibrate_scores(raw, yc)
        model.choose_seek_care_threshold(model.proba_from_raw(raw), yc, config.SEEK_CARE_RECALL_TARGET)
    else:
        model.calibrate_scores(oof_scores, y)
        model.choose_seek_care_threshold(model.proba_from_raw(oof_scores), y, config.SEEK_CARE_RECALL_TARGET)
    oof_proba = model.proba_from_raw(oof_scores)
    model.expected_ranges_ = expected_ranges([m for m in measured if m.quality_ok])
    model.name, model.version = name, f"{data_sha[:12]}-m{code_version()[:8]}-s{seed}"
    oof_pred = model.policy_labels(oof_proba, never_normal)
    return model, metrics(y, oof_pred, oof_proba)


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("triage", "numpy", "scipy", "scikit-learn", "opencv-python-headless", "pillow", "skops"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - a missing distribution is reported, not fatal
            out[pkg] = "unknown"
    return out


def train(dataset: str | Path, out: str | Path, *, seed: int = 0, workers: int = 1, progress=None) -> dict:
    """Train on `dataset`, write the model to `out` and its card to `<out>.card.json`."""
    dataset, out = Path(dataset), Path(out)
    items = read_labels(dataset)
    usable, failed = measure_dataset(dataset, items, workers, progress)
    if len({m.item.label for m in usable if m.quality_ok}) < 3:
        raise ValueError("training needs photos of all three levels that pass the quality gate")
    data_sha = dataset_hash(dataset)
    name = out.name.split(".")[0]
    model, oof_metrics = fit_model(usable, seed, name, data_sha)
    training_data = {
        "path": str(dataset),
        "sha256": data_sha,
        "description": f"{len(items)} labelled photos, {len(usable)} used ({sum(m.quality_ok for m in usable)} "
        f"passed the quality gate; {len(failed)} unreadable). Labels per TRIAGE_POLICY.md.",
        "labels": {lvl: int(sum(1 for m in usable if m.item.label == lvl)) for lvl in decide_config.LEVELS},
        "seed": seed,
        "cross_validation_folds": config.CV_FOLDS,
    }
    return write_model(model, out, training_data, oof_metrics)


def save(model: TriageModel, path: str | Path) -> str:
    """Write the model with skops (atomically); returns its sha256."""
    import skops.io as sio

    data = sio.dumps(model)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def write_model(model: TriageModel, out: Path, training_data: dict, oof_metrics: dict, **extra) -> dict:
    """Save the model and write its card (with any extra sections); returns the card."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sha = save(model, out)
    card = {
        "model": {"name": model.name, "version": model.version, "file": out.name, "sha256": sha},
        "intended_use": "Decision support for clinic staff triaging post-microneedling skin photos into "
        "normal / monitor / seek-care. Not a diagnosis.",
        "training_data": training_data,
        "inputs": model.input_names_,
        "features": list(MODEL_FEATURES),
        "temperature": model.temperature_,
        "seek_care_threshold": model.seek_care_threshold_,
        "validation_metrics": oof_metrics,
        "validation": f"out-of-fold predictions, {config.CV_FOLDS} folds grouped by patient, policy applied",
        "library_versions": library_versions(),
        "config_hash": config_hash(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }
    atomic_write_text(card_path(out), json.dumps(card, indent=2) + "\n")
    return card


def card_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.name.split(".")[0] + ".card.json")
