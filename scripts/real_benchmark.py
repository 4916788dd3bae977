#!/usr/bin/env python3
"""The project's own measure of real-photo behaviour: the pipeline over ../shared/real-dev (or any
folder in its layout: labels.csv with file,label,group[,mask,extra]) and what it says.

Per group: n, quality failures by issue, level shares, the median of each finding, and the
share showing the group's own finding (crusts on impetigo, vesicles on herpes, pustules on
pustular acne, spreading redness on cellulitis, ...; OWN_FINDING below). Overall:
- AUROC of the severity score s = P(monitor) + 2 P(seek-care), seek-care vs normal and monitor vs
  normal (Mann-Whitney: the chance that a random photo of the first kind scores above one of
  the second, ties half);
- healthy faces (label normal) called normal, all and among those passing the quality gate; and
  called normal by the plain policy rules on their features alone (days 2-3), the measuring
  target that does not depend on the model; and, issue 18's wording of that target, with their
  redness and pigment findings in the range the policy calls normal for days 2-3 (erythema grade
  from redness_delta_a by the rules' bounds at most the day's expected maximum, no dark patch),
  beside the median of each lesion count over the healthy faces;
- seek-care stand-ins flagged (not normal) and called seek-care; monitor stand-ins flagged;
- how often the model's "beyond training" safety net fired, per label;
- among the healthy faces the model flagged, the features its explanation names (the leading
  reason, and any reason): why a healthy face is not called normal;
- skin-mask IoU against the hand-drawn masks (at the working size);
- per label, the share measured with a parsed face (`image.face`) and as a head in profile
  (`image.head_box`: skin and lesion search from the detector's box).
Rows whose `extra` says borderline belong to no level and are left out of rates. Photos the model
was fitted on are left out too: its card's training canvases (and, with --report-half, the real
photos its temperature and seek-care threshold were chosen on), so the figures are about photos
whose person it has not seen.

Outputs in --out: summary.json, rows.csv (one row per photo) and a contact sheet per group,
contact_<group>.png: its worst photos (healthy: the highest scores; stand-ins: the lowest) with
their findings overlays (the report's) and level, to look at before trusting any number.

    .venv/bin/python scripts/real_benchmark.py [--data ../shared/real-dev] [--out /tmp/real-benchmark]
        [--workers N] [--model PATH] [--worst 6] [--groups g1,g2] [--limit N]

It skips cleanly (exit 0) when the folder is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path

import contact_sheet
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "real-dev"
LEVELS = ("normal", "monitor", "seek-care")
#: the lesion counts whose median over the healthy faces is issue 18's target (0 each)
LESION_COUNTS = ("pustule_count", "vesicle_count", "bleeding_spot_count", "papule_count", "dark_macule_count", "track_aligned_dots")
#: findings whose medians are printed per group (absent features are skipped)
FINDINGS = (
    "redness_delta_a", "redness_area_fraction", "redness_strong_area_fraction", "pustule_count",
    "crust_area_fraction", "vesicle_count", "bleeding_spot_count", "papule_count",
    "dark_macule_area_fraction", "bruise_area_fraction",
)  # fmt: skip
#: ((feature, threshold), ...): a photo shows the finding when any of the features is at or above
#: its threshold
CRUSTS, VESICLES, PUSTULES = (("crust_area_fraction", 0.001),), (("vesicle_count", 1),), (("pustule_count", 1),)
MARKED_REDNESS = (("redness_delta_a", 7.1),)  # erythema grade >= 3 by the rules' bounds (learn/config.py)
DARK_PATCHES = (("dark_macule_area_fraction", 0.001),)
#: purpura: bruising, or petechiae, which are pinpoint bleeding under the skin
PURPURA = (("bruise_area_fraction", 0.001), ("bleeding_spot_count", 1))
#: the finding each group of stand-ins is expected to show (issue 18's targets)
OWN_FINDING = {
    "dermnet_impetigo": CRUSTS, "dermnet_herpes_simplex": VESICLES, "dermnet_eczema_herpeticum": VESICLES,
    "dermnet_zoster": VESICLES, "acne_purulent": PUSTULES, "dermnet_agep": PUSTULES,
    "dermnet_cellulitis": MARKED_REDNESS, "dermnet_erysipelas": MARKED_REDNESS, "dermnet_purpura": PURPURA,
    "dermnet_pih": DARK_PATCHES, "dermnet_melasma": DARK_PATCHES, "dermnet_admh": DARK_PATCHES,
}  # fmt: skip


def redness_and_pigment_normal(f: dict) -> bool:
    """Erythema grade (the plain rules' reading of redness_delta_a) within the expected maximum
    for days 2-3 (day unknown) and no dark patch: the policy's normal row for colour findings."""
    from triage.decide.policy import expected_max_grade
    from triage.learn.evaluate import rules_grade

    return rules_grade(f["redness_delta_a"]) <= expected_max_grade(None) and not f["dark_macule_area_fraction"]


def _job(args):
    """One photo: (result row, skin-mask IoU or None)."""
    import hashlib

    import cv2

    from triage.decide.modelfile import load_model
    from triage.measure.io import ImageError, decode, read_bytes
    from triage.measure.photo import measure
    from triage.pipeline import error_row, row_for

    folder, file, mask_file, model_path = args
    model = load_model(model_path)
    try:
        data = read_bytes(Path(folder) / file)
        img = decode(data)
    except ImageError as e:
        return error_row(file, None, str(e), None, model), None
    m = measure(img.rgb, (img.width, img.height))
    row = row_for(img, m, path=file, sha256=hashlib.sha256(data).hexdigest(), days=None, model=model)
    row["beyond_training"] = bool("beyond anything the model was trained on" in row["explanation"]["summary"])
    iou = None
    if mask_file:
        truth = cv2.imread(str(Path(folder) / mask_file), cv2.IMREAD_GRAYSCALE)
        if truth is not None:
            truth = cv2.resize(truth, (m.skin.shape[1], m.skin.shape[0]), interpolation=cv2.INTER_NEAREST) > 127
            union = np.count_nonzero(truth | m.skin)
            iou = np.count_nonzero(truth & m.skin) / union if union else 1.0
    return row, iou


def _tile(args):
    """A contact-sheet tile: the photo and its findings overlay side by side, with a caption."""
    import cv2

    from triage.measure.io import load_image
    from triage.measure.photo import measure
    from triage.run.previews import render_overlay

    folder, file, caption = args
    img = load_image(Path(folder) / file)
    m = measure(img.rgb, (img.width, img.height))
    h = 220
    size = (max(1, round(img.rgb.shape[1] * h / img.rgb.shape[0])), h)
    photo = cv2.resize(img.rgb, size, interpolation=cv2.INTER_AREA)
    return contact_sheet.tile(photo, render_overlay(img.rgb, m, size), caption.split("\n")[:2])


def auroc(pos: list[float], neg: list[float]) -> float | None:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney U / n1 n2)."""
    if not pos or not neg:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def score(row: dict) -> float:
    p = row["probabilities"]
    return p["monitor"] + 2 * p["seek-care"]


def flag_reasons(xs: list[dict], leading: bool, top: int = 5) -> dict[str, float]:
    """Among the photos of xs the model did not call normal, the share whose explanation names
    each feature (its leading reason only, or any of its reasons): the TOP most frequent. Says
    why healthy faces are flagged."""
    flagged = [x["row"] for x in xs if x["row"]["label"] != "normal"]
    seen: Counter = Counter()
    for row in flagged:
        reasons = [r["feature"] for r in ((row.get("explanation") or {}).get("reasons") or [])]
        seen.update(reasons[:1] if leading else set(reasons))
    return {f: n / len(flagged) for f, n in seen.most_common(top)}


def _share(flags) -> float | None:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else None


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.0f}%"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=Path("/tmp/real-benchmark"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--model", type=str, default=None, help="model file (default: the default model)")
    ap.add_argument("--worst", type=int, default=6, help="photos per contact sheet")
    ap.add_argument("--groups", type=str, default="", help="only these groups (comma-separated)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos per group (0: all)")
    ap.add_argument("--report-half", action="store_true",
                    help="also leave out the real photos the model was calibrated on (its card's calibration list)")
    args = ap.parse_args()
    if not (args.data / "labels.csv").is_file():
        print(f"real_benchmark: {args.data} is not present; nothing to measure")
        return 0

    from triage.learn.evaluate import rules_level
    from triage.util.files import atomic_write_bytes, atomic_write_text
    from triage.util.pool import default_workers, imap_unordered
    from triage.util.progress import Progress

    with open(args.data / "labels.csv", newline="") as f:
        items = [r for r in csv.DictReader(f) if "borderline" not in (r.get("extra") or "")]
    seen = fitted_on(args.model, args.report_half)
    if seen:
        items = [r for r in items if r["file"] not in seen]
        print(f"left out {len(seen)} photos the model was fitted on (its card)", file=sys.stderr)
    if args.groups:
        wanted = set(args.groups.split(","))
        items = [r for r in items if r["group"] in wanted]
    if args.limit:
        seen: Counter = Counter()
        items = [r for r in items if (seen.update([r["group"]]) or seen[r["group"]] <= args.limit)]
    workers = args.workers or default_workers()
    jobs = [(str(args.data), r["file"], r.get("mask") or "", args.model) for r in items]
    by_file = {r["file"]: r for r in items}
    results: dict[str, tuple[dict, float | None]] = {}
    show = Progress("real_benchmark", True)
    for k, (row, iou) in enumerate(imap_unordered(_job, jobs, workers), 1):
        results[row["path"]] = (row, iou)
        show(k, len(jobs), "")

    groups: dict[str, list[dict]] = defaultdict(list)
    for file, (row, iou) in sorted(results.items()):
        meta = by_file[file]
        groups[meta["group"]].append({"file": file, "truth": meta["label"], "row": row, "iou": iou})
    ok = [x for g in groups.values() for x in g if x["row"]["status"] == "ok"]

    # --- per group --------------------------------------------------------------------------
    present = [f for f in FINDINGS if any(f in (x["row"]["features"] or {}) for x in ok)]
    per_group = {}
    head = ["group", "label", "n", "quality fails", "normal", "monitor", "seek-care", "own finding"] + present
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in sorted(groups, key=lambda g: (LEVELS.index(groups[g][0]["truth"]), g)):
        xs = [x for x in groups[name] if x["row"]["status"] == "ok"]
        fails = Counter(i for x in xs for i in x["row"]["quality"]["issues"])
        levels = Counter(x["row"]["label"] for x in xs)
        med = {f: float(np.median([x["row"]["features"].get(f) or 0.0 for x in xs])) if xs else None for f in present}
        own = OWN_FINDING.get(name)
        own_share = _share(any((x["row"]["features"].get(f) or 0.0) >= t for f, t in own) for x in xs) if own else None
        per_group[name] = {
            "label": groups[name][0]["truth"], "n": len(groups[name]), "errors": len(groups[name]) - len(xs),
            "quality_failures": dict(fails), "levels": {lvl: levels.get(lvl, 0) for lvl in LEVELS},
            "medians": med, "own_finding": " or ".join(f for f, _t in own) if own else None, "own_finding_share": own_share,
            "beyond_training": _share(x["row"]["beyond_training"] for x in xs),
        }  # fmt: skip
        fail_text = ", ".join(f"{k} {v}" for k, v in fails.most_common(3)) or "-"
        cells = [name, groups[name][0]["truth"], str(len(xs)), fail_text]
        cells += [_pct(levels.get(lvl, 0) / len(xs) if xs else None) for lvl in LEVELS]
        cells += [f"{_pct(own_share)} ({'/'.join(f.split('_')[0] for f, _t in own)})" if own_share is not None else ""]
        cells += [f"{med[f]:.3g}" for f in present]
        lines.append("| " + " | ".join(cells) + " |")

    # --- overall ----------------------------------------------------------------------------
    def of(label):
        return [x for x in ok if x["truth"] == label]

    normal, monitor, seek = of("normal"), of("monitor"), of("seek-care")
    s = {lbl: [score(x["row"]) for x in xs] for lbl, xs in (("normal", normal), ("monitor", monitor), ("seek-care", seek))}
    normal_pass = [x for x in normal if x["row"]["quality"]["ok"]]
    ious = [x["iou"] for g in groups.values() for x in g if x["iou"] is not None]
    overall = {
        "photos": len(results), "errors": len(results) - len(ok),
        "auroc_seek_care_vs_normal": auroc(s["seek-care"], s["normal"]),
        "auroc_monitor_vs_normal": auroc(s["monitor"], s["normal"]),
        "healthy_called_normal": _share(x["row"]["label"] == "normal" for x in normal),
        "healthy_passing_quality": _share(x["row"]["quality"]["ok"] for x in normal),
        "healthy_passing_quality_called_normal": _share(x["row"]["label"] == "normal" for x in normal_pass),
        "healthy_normal_by_rules_days_2_3": _share(
            rules_level(x["row"]["features"], None, x["row"]["quality"]["ok"]) == "normal" for x in normal),
        "healthy_normal_by_rules_ignoring_quality": _share(
            rules_level(x["row"]["features"], None, True) == "normal" for x in normal),
        "healthy_redness_and_pigment_normal_days_2_3": _share(
            x["row"]["quality"]["ok"] and redness_and_pigment_normal(x["row"]["features"]) for x in normal),
        "healthy_lesion_count_medians": {k: float(np.median([x["row"]["features"][k] or 0 for x in normal])) if normal else None
                                         for k in LESION_COUNTS},
        "seek_care_flagged": _share(x["row"]["label"] != "normal" for x in seek),
        "seek_care_called_seek_care": _share(x["row"]["label"] == "seek-care" for x in seek),
        "monitor_flagged": _share(x["row"]["label"] != "normal" for x in monitor),
        "beyond_training": {lbl: _share(x["row"]["beyond_training"] for x in xs)
                            for lbl, xs in (("normal", normal), ("monitor", monitor), ("seek-care", seek))},
        "skin_mask_iou_mean": float(np.mean(ious)) if ious else None,
        "skin_mask_iou_median": float(np.median(ious)) if ious else None,
        "skin_mask_iou_n": len(ious),
        "face_parsed": {lbl: _share(bool(x["row"]["image"].get("face")) for x in xs)
                        for lbl, xs in (("normal", normal), ("monitor", monitor), ("seek-care", seek))},
        "head_box": {lbl: _share(bool(x["row"]["image"].get("head_box")) for x in xs)
                     for lbl, xs in (("normal", normal), ("monitor", monitor), ("seek-care", seek))},
        "healthy_flagged_leading_reason": flag_reasons(normal, leading=True),
        "healthy_flagged_any_reason": flag_reasons(normal, leading=False),
    }  # fmt: skip
    print("\n".join(lines))
    print()
    for k, v in overall.items():
        if isinstance(v, dict):
            fmt = (lambda x: "-" if x is None else f"{x:g}") if k.endswith("_medians") else _pct
            v = ", ".join(f"{kk} {fmt(vv)}" for kk, vv in v.items())
        elif isinstance(v, float) and not k.startswith("auroc") and not k.startswith("skin_mask"):
            v = _pct(v)
        elif isinstance(v, float):
            v = f"{v:.3f}"
        print(f"{k}: {v}")

    # --- outputs ----------------------------------------------------------------------------
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "summary.json", json.dumps({"overall": overall, "groups": per_group}, indent=2) + "\n")
    fields = ["file", "group", "truth", "label", "score", "quality_issues", "iou", *present]
    with open(args.out / "rows.csv.tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for name, xs in sorted(groups.items()):
            for x in xs:
                r = x["row"]
                if r["status"] != "ok":
                    continue
                w.writerow([x["file"], name, x["truth"], r["label"], f"{score(r):.3f}", ";".join(r["quality"]["issues"]),
                            "" if x["iou"] is None else f"{x['iou']:.3f}", *[r["features"].get(f) for f in present]])  # fmt: skip
    (args.out / "rows.csv.tmp").replace(args.out / "rows.csv")
    if args.worst > 0:
        import cv2

        tiles_of = {}
        for name, xs in groups.items():
            xs = [x for x in xs if x["row"]["status"] == "ok"]
            worst = sorted(xs, key=lambda x: score(x["row"]), reverse=xs and xs[0]["truth"] == "normal")[: args.worst]
            tiles_of[name] = [
                (str(args.data), x["file"], f"{Path(x['file']).name}: {x['row']['label']} (s={score(x['row']):.2f})"
                 + (f" q:{','.join(x['row']['quality']['issues'])}" if x["row"]["quality"]["issues"] else "")
                 + "\n" + _findings_text(x["row"]["features"]))
                for x in worst
            ]  # fmt: skip
        jobs = [(name, t) for name, ts in tiles_of.items() for t in ts]
        made = dict(imap_unordered(partial(contact_sheet.indexed, _tile), list(enumerate(t for _n, t in jobs)), workers))
        tiles = defaultdict(list)
        for i, (name, _t) in enumerate(jobs):
            tiles[name].append(made[i])
        for name, ts in tiles.items():
            ok_, buf = cv2.imencode(".png", contact_sheet.sheet(ts)[..., ::-1])
            atomic_write_bytes(args.out / f"contact_{name}.png", buf.tobytes())
    print(f"\nwritten to {args.out} (summary.json, rows.csv, contact_<group>.png)")
    return 0


def fitted_on(model: str | None, with_calibration: bool) -> set[str]:
    """real-dev files (relative) the model's card says it was fitted on: its training canvases,
    and its calibration photos when asked."""
    from triage.decide.modelfile import default_model_path
    from triage.learn.train import card_path

    try:
        card = json.loads(card_path(model or default_model_path()).read_text())
    except (OSError, ValueError):
        return set()
    out = set((card.get("training_data") or {}).get("canvases") or [])
    if with_calibration:
        out |= set((card.get("calibration") or {}).get("real_dev_files") or [])
    return out


def _findings_text(f: dict) -> str:
    short = {"redness_delta_a": "da", "redness_area_fraction": "red", "pustule_count": "pus", "crust_area_fraction": "crust",
             "vesicle_count": "ves", "bleeding_spot_count": "bleed", "papule_count": "pap",
             "dark_macule_area_fraction": "dark", "bruise_area_fraction": "bruise"}  # fmt: skip
    parts = []
    for k, name in short.items():
        v = f.get(k)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        parts.append(f"{name} {v:.2g}" if "fraction" in k else f"{name} {v:.3g}")
    return " ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
