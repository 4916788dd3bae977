"""`triage train`: fit a model from a labelled dataset and write it with its model card.

Reproducible: the same data and seed give the same model and the same predictions, whatever
the number of workers (the split is seeded by patient, the solver is deterministic; only the
zip timestamps inside the skops file and the card's date differ). Photos that fail the quality gate are left out of the
fit: their level comes from the policy (never normal), not from features measured on a photo
that cannot be assessed.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import config
from .dataset import MeasuredItem, measure_dataset, read_labels
from .explain import DAY_BANDS, day_band
from .features import FEATURE_NAMES
from .fsutil import atomic_write_text
from .model import TriageModel, input_vector, save


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


def split_groups(items: list[MeasuredItem], share: float, seed: int) -> np.ndarray:
    """Boolean mask of the held-out part, split by patient (patient_id, else file) so that no
    person is on both sides."""
    keys = [it.item.meta.get("patient_id") or it.item.file for it in items]
    uniq = sorted(set(keys))
    rng = np.random.default_rng(seed)
    held = set(np.array(uniq, dtype=object)[rng.random(len(uniq)) < share])
    return np.array([k in held for k in keys])


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


def fit_model(measured: list[MeasuredItem], seed: int, name: str, version: str) -> tuple[TriageModel, np.ndarray]:
    """Fit, calibrate and set the seek-care threshold; returns the model and the held-out mask."""
    X = np.array([input_vector(m.features, m.item.days) for m in measured])
    y = np.array([m.item.label for m in measured], dtype=object)
    held = split_groups(measured, config.CALIBRATION_SHARE, seed)
    model = TriageModel()
    model.fit(X[~held], y[~held], seed=seed, C=config.LOGISTIC_C)
    model.calibrate(X[held], y[held])
    model.choose_seek_care_threshold(X[held], y[held], config.SEEK_CARE_RECALL_TARGET)
    model.expected_ranges_ = expected_ranges([m for m, h in zip(measured, held) if not h])
    model.name, model.version = name, version
    return model, held


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
    from .evaluate import metrics

    dataset, out = Path(dataset), Path(out)
    items = read_labels(dataset)
    measured, failed = measure_dataset(dataset, items, workers, progress)
    usable = [m for m in measured if m.quality_ok]
    if len({m.item.label for m in usable}) < 3:
        raise ValueError("training needs photos of all three levels that pass the quality gate")
    data_sha = dataset_hash(dataset)
    name = out.name.split(".")[0]
    model, held = fit_model(usable, seed, name, f"{data_sha[:12]}-s{seed}")
    out.parent.mkdir(parents=True, exist_ok=True)
    sha = save(model, out)
    X = np.array([input_vector(m.features, m.item.days) for m in usable])
    y = [m.item.label for m in usable]
    pred = model.predict(X[held])
    card = {
        "model": {"name": model.name, "version": model.version, "file": out.name, "sha256": sha},
        "intended_use": "Decision support for clinic staff triaging post-microneedling skin photos into "
        "normal / monitor / seek-care. Not a diagnosis.",
        "training_data": {
            "path": str(dataset),
            "sha256": data_sha,
            "description": f"{len(items)} labelled photos; {len(usable)} passed the quality gate and were used "
            f"({len(failed)} unreadable). Labels per TRIAGE_POLICY.md.",
            "labels": {lvl: int(sum(1 for m in usable if m.item.label == lvl)) for lvl in config.LEVELS},
            "seed": seed,
            "held_out_share": config.CALIBRATION_SHARE,
        },
        "inputs": model.input_names_,
        "features": list(FEATURE_NAMES),
        "temperature": model.temperature_,
        "seek_care_threshold": model.seek_care_threshold_,
        "validation_metrics": metrics(np.array(y, dtype=object)[held], pred, model.predict_proba(X[held])),
        "library_versions": library_versions(),
        "config_hash": config.config_hash(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_text(card_path(out), json.dumps(card, indent=2) + "\n")
    return card


def card_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.name.split(".")[0] + ".card.json")
