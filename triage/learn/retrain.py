"""`triage retrain`: a new model from staff-reviewed photos plus generated ones, compared with the
current default on the same held-out data before anyone promotes it.

1. The reviewed dataset (contract layout, e.g. from `triage export-labels`) and, with
   --generated N, N generated photos (`triage synth`, seed --generated-seed, kept in the cache
   folder and reused) are measured (features cached by file sha256: nothing is decoded twice).
2. Each is split by patient: HOLDOUT_FOLDS folds, one held out (no person on both sides).
3. The model is fitted on the rest (triage.train.fit_model: cross-validated calibration and
   seek-care threshold) and written with its card; it is also registered in the model history.
4. The candidate and the current default are evaluated on the same held-out photos: metrics side
   by side, per ITA band, and every photo whose level changed. The card keeps this comparison;
   `triage models promote` reads it.
Nothing is overwritten: an existing --out is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..decide.config import LEVELS
from ..decide.model import TriageModel
from ..decide.modelfile import load_model
from . import config
from .dataset import MeasuredItem, generated_photos, measure_dataset, read_labels
from .evaluate import evaluate_measured
from .train import fit_model, group_folds, write_model


def _measured(folder: Path, tag: str, workers: int, progress) -> tuple[list[MeasuredItem], int]:
    items = read_labels(folder)
    usable, failed = measure_dataset(folder, items, workers, progress)
    for m in usable:
        m.item.meta = {**m.item.meta, "source": tag, "patient_id": f"{tag}:{m.item.meta.get('patient_id') or m.item.file}"}
    return usable, len(failed)


def split(measured: list[MeasuredItem], seed: int) -> tuple[list[MeasuredItem], list[MeasuredItem]]:
    """(train, held out): one of HOLDOUT_FOLDS folds grouped by patient is held out."""
    if not measured:
        return [], []
    folds = group_folds(measured, config.HOLDOUT_FOLDS, seed)
    return [m for m, f in zip(measured, folds) if f != 0], [m for m, f in zip(measured, folds) if f == 0]


def _side_by_side(candidate: dict, baseline: dict) -> dict:
    def short(r):
        return {"overall": r["overall"], "per_ita_band": r["per_ita_band"], "model": r["model"]}

    return {"candidate": short(candidate), "baseline": short(baseline)}


def retrain(
    labels: str | Path,
    out: str | Path,
    *,
    generated: int = 0,
    generated_seed: int = 7000,
    seed: int = 0,
    workers: int = 1,
    baseline: TriageModel | None = None,
    progress=None,
) -> dict:
    """Fit, write, register and compare (see module docstring); returns the card."""
    from .registry import register

    labels, out = Path(labels), Path(out)
    if out.exists():
        raise ValueError(f"{out} exists: nothing is overwritten, choose a new --out")
    reviewed, bad = _measured(labels, "reviewed", workers, progress)
    sources = {"reviewed": {"path": str(labels), "photos": len(reviewed), "unreadable": bad}}
    gen: list[MeasuredItem] = []
    if generated > 0:
        folder = generated_photos(generated, generated_seed, (1024, 768), workers)
        gen, bad_gen = _measured(folder, "generated", workers, progress)
        sources["generated"] = {"path": str(folder), "photos": len(gen), "seed": generated_seed, "unreadable": bad_gen}
    rev_train, rev_held = split(reviewed, seed)
    gen_train, gen_held = split(gen, seed)
    train_set, held = rev_train + gen_train, rev_held + gen_held
    if len({m.item.label for m in train_set if m.quality_ok}) < 3:
        raise ValueError("training needs photos of all three levels that pass the quality gate")
    if not held:
        raise ValueError("too few photos to hold any out for the comparison")

    h = hashlib.sha256((labels / "labels.csv").read_bytes())
    for m in reviewed + gen:
        h.update(f"{m.item.meta['source']}:{m.item.file}:{m.sha256}\n".encode())
    data_sha = h.hexdigest()
    model, oof = fit_model(train_set, seed, out.name.split(".")[0], data_sha)
    baseline = baseline if baseline is not None else load_model()
    new_eval, old_eval = evaluate_measured(held, model), evaluate_measured(held, baseline)
    changed = [
        {"source": m.item.meta["source"], "file": m.item.file, "label": m.item.label, "baseline": b["predicted"], "candidate": c["predicted"]}
        for m, c, b in zip(held, new_eval["predictions"], old_eval["predictions"])
        if c["predicted"] != b["predicted"]
    ]  # fmt: skip
    training_data = {
        "sha256": data_sha,
        "sources": sources,
        "description": f"{len(train_set)} photos ({len(rev_train)} reviewed, {len(gen_train)} generated); "
        f"{len(held)} held out by patient ({len(rev_held)} reviewed, {len(gen_held)} generated)",
        "labels": {lvl: sum(1 for m in train_set if m.item.label == lvl) for lvl in LEVELS},
        "seed": seed,
        "cross_validation_folds": config.CV_FOLDS,
    }
    comparison = {
        "held_out": f"{len(held)} photos held out by patient ({len(rev_held)} reviewed, {len(gen_held)} generated), seed {seed}",
        **_side_by_side(new_eval, old_eval),
        "changed": changed,
    }
    comparison["baseline"]["sha256"] = baseline.sha256
    card = write_model(model, out, training_data, oof, comparison=comparison)
    card["registered_as"] = str(register(out))
    return card
