"""`triage evaluate`: metrics of a model on a labelled dataset, overall, per ITA band and per
days band, beside the plain policy rules applied to the same features; plots.

Metrics: per-class precision and recall, F1, macro-F1, confusion matrix (rows = truth, columns =
prediction, order normal/monitor/seek-care), expected calibration error (top-label, 10 equal-width
bins; Naeini et al. AAAI 2015).
"""

from __future__ import annotations

import csv
import io as _io
import json
from pathlib import Path

import numpy as np

from ..decide import config as decide_config
from ..decide import policy
from ..decide.bands import day_band, ita_band
from ..decide.model import TriageModel
from ..util.files import atomic_write_bytes, atomic_write_text
from . import config
from .dataset import MeasuredItem, measure_dataset, read_labels

LEVELS = list(decide_config.LEVELS)


def reliability(y_true, proba: np.ndarray, bins: int = 10) -> list[dict]:
    """Top-label reliability bins: for each non-empty confidence bin (lo, hi], its size, mean
    confidence and accuracy."""
    conf = proba.max(axis=1)
    correct = np.array(LEVELS, dtype=object)[proba.argmax(axis=1)] == np.asarray(y_true, dtype=object)
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            out.append({"bin": [float(lo), float(hi)], "n": int(sel.sum()), "confidence": float(conf[sel].mean()),
                        "accuracy": float(correct[sel].mean())})  # fmt: skip
    return out


def expected_calibration_error(y_true, proba: np.ndarray, bins: int = 10) -> float:
    """ECE = sum_b |B_b|/n * |accuracy(B_b) - confidence(B_b)| over the reliability bins."""
    if len(y_true) == 0:
        return float("nan")
    return float(sum(b["n"] * abs(b["accuracy"] - b["confidence"]) for b in reliability(y_true, proba, bins)) / len(y_true))


def metrics(y_true, y_pred, proba: np.ndarray | None = None) -> dict:
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    cm = [[int(((y_true == t) & (y_pred == p)).sum()) for p in LEVELS] for t in LEVELS]
    per = {}
    f1s = []
    for lvl in LEVELS:
        tp = int(((y_true == lvl) & (y_pred == lvl)).sum())
        npred, ntrue = int((y_pred == lvl).sum()), int((y_true == lvl).sum())
        prec = tp / npred if npred else None
        rec = tp / ntrue if ntrue else None
        f1 = 2 * prec * rec / (prec + rec) if prec and rec else 0.0
        if ntrue:
            f1s.append(f1)
        per[lvl] = {"precision": prec, "recall": rec, "f1": f1, "support": ntrue}
    out = {
        "n": int(len(y_true)),
        "accuracy": float((y_true == y_pred).mean()) if len(y_true) else None,
        "macro_f1": float(np.mean(f1s)) if f1s else None,
        "per_class": per,
        "confusion_matrix": {"labels": LEVELS, "rows_truth_cols_pred": cm},
    }
    if proba is not None:
        out["ece"] = expected_calibration_error(y_true, proba)
    return out


def rules_grade(redness_delta_a: float) -> int:
    """The erythema grade (0-4) the plain rules read from delta a*: the number of the bounds
    RULE_GRADE_DELTA_A it reaches."""
    return int(np.searchsorted(config.RULE_GRADE_DELTA_A, redness_delta_a, side="right"))


def rules_level(f: dict, days: int | None, quality_ok: bool) -> str:
    """The policy table applied to measured features with fixed thresholds, no learning: the
    baseline the model has to beat. The erythema grade is read from delta a* with the bounds
    RULE_GRADE_DELTA_A; lesion findings from their counts and areas."""
    if f.get("redness_delta_a") is None:
        return "monitor"
    findings = policy.Findings(
        erythema_grade=rules_grade(f["redness_delta_a"]),
        days_since_treatment=days,
        pustules=int(f["pustule_count"]),
        crusts=int(f["crust_area_fraction"] > 0.001),
        papules=int(f["papule_count"]),
        track_marks=int(f["track_aligned_dots"] >= 3),
        bleeding_spots=int(f["bleeding_spot_count"] >= 2),
        pigment_area=f["dark_macule_area_fraction"] * 2.5,  # of the skin -> of a treated area ~40% of it
        bruise_area=f["bruise_area_fraction"],
        quality_issue="" if quality_ok else "quality",
    )
    return policy.level_from_truth(findings)


def _group_metrics(keys, y, pred, proba) -> dict:
    out = {}
    for k in sorted(set(keys)):
        sel = np.array([kk == k for kk in keys])
        out[k] = metrics(y[sel], pred[sel], proba[sel] if proba is not None else None)
    return out


def evaluate(dataset: str | Path, model: TriageModel, out: str | Path, *, workers: int = 1, progress=None) -> dict:
    """Write metrics.json, predictions.csv, confusion_matrix.png and reliability.png to `out`."""
    dataset, out = Path(dataset), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = read_labels(dataset)
    measured, failed = measure_dataset(dataset, items, workers, progress)
    result = evaluate_measured(measured, model)
    result["unreadable"] = [{"file": it.file, "error": err} for it, err in failed]
    result["dataset"] = str(dataset)
    atomic_write_text(out / "predictions.csv", predictions_csv(result.pop("predictions")))
    atomic_write_text(out / "metrics.json", json.dumps(result, indent=2) + "\n")
    _write_plots(result, out)
    return result


def evaluate_measured(measured: list[MeasuredItem], model: TriageModel) -> dict:
    y = np.array([m.item.label for m in measured], dtype=object)
    X = np.array([model.inputs(m.features, m.item.days, m.quality_ok) for m in measured])
    decisions = [model.decide(x, quality_ok=m.quality_ok) for x, m in zip(X, measured)]
    pred = np.array([d.label for d in decisions], dtype=object)
    proba = np.array([[d.probabilities[lvl] for lvl in LEVELS] for d in decisions])
    rules = np.array([rules_level(m.features, m.item.days, m.quality_ok) for m in measured], dtype=object)
    bands = [m.item.meta.get("ita_band") or _band_of(m.features) for m in measured]
    days = [day_band(m.item.days) if m.item.days is not None else "unknown" for m in measured]
    overall = metrics(y, pred, proba)
    seek = overall["per_class"]["seek-care"]["recall"]
    per_band = _group_metrics(bands, y, pred, proba)
    return {
        "model": {"name": model.name, "version": model.version, "sha256": model.sha256},
        "overall": overall,
        "rules_baseline": metrics(y, rules),
        "per_ita_band": per_band,
        "per_days_band": _group_metrics(days, y, pred, proba),
        "seek_care_recall_gap_max": max(
            (abs(v["per_class"]["seek-care"]["recall"] - seek) for v in per_band.values()
             if v["per_class"]["seek-care"]["recall"] is not None and seek is not None),
            default=None,
        ),  # fmt: skip
        "reliability": reliability(y, proba),
        "predictions": [
            {"file": m.item.file, "label": t, "predicted": p, "rules": r, "p_seek_care": round(float(pp[2]), 4)}
            for m, t, p, r, pp in zip(measured, y, pred, rules, proba)
        ],
    }


def _band_of(features: dict) -> str:
    v = features.get("ita_deg")
    return ita_band(v) if v is not None else "unknown"


def _write_plots(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.array(result["overall"]["confusion_matrix"]["rows_truth_cols_pred"])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(cm, cmap="Blues")
    for i in range(3):
        for j in range(3):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color="black")
    ax.set_xticks(range(3), LEVELS)
    ax.set_yticks(range(3), LEVELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("truth")
    ax.set_title("Confusion matrix")
    fig.tight_layout()
    _save_fig(fig, out / "confusion_matrix.png")
    fig, ax = plt.subplots(figsize=(4.5, 4))
    rel = result["reliability"]
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.plot([r["confidence"] for r in rel], [r["accuracy"] for r in rel], "o-")
    ax.set_xlabel("confidence (top-label probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (ECE {result['overall'].get('ece', float('nan')):.3f})")
    fig.tight_layout()
    _save_fig(fig, out / "reliability.png")
    plt.close("all")


def _save_fig(fig, path: Path) -> None:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    atomic_write_bytes(path, buf.getvalue())


def predictions_csv(predictions: list[dict]) -> str:
    buf = _io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["file", "label", "predicted", "rules", "p_seek_care"], lineterminator="\n")
    w.writeheader()
    w.writerows(predictions)
    return buf.getvalue()
