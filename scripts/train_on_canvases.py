#!/usr/bin/env python3
"""Train a candidate model on generated photos painted on real skin (and, with --mix, the plain
generated photos) and patient sequences, calibrate it on held-out photos that include real ones,
and evaluate it; everything it used is named in the model card. Not the shipped model (that is
scripts/train_default_model.py): the candidates it made rank real photos far better but fail the
generated-set targets once calibrated (README, "Generated on real skin").

1. Canvases: the healthy faces of ../shared/real-dev, grouped by person (Pointing'04 "personneNN"
   in the name; SFA portraits by runs of consecutive source indices with gaps of at most 5, since
   the AR and FERET photos of one person are numbered together; each FASSEG frontal photo its own
   person), persons split --canvas-train-share / the rest into training and evaluation canvases.
2. Generated: `triage synth --canvas` on the training canvases (--canvas-n, --canvas-seed) and on
   the evaluation canvases (--canvas-eval-n, --canvas-eval-seed); plain `triage synth`
   (--train-n/--train-seed, the test set --test-n/--test-seed). Kept in --work, reused.
3. Fit on the generated-on-real training set (+ the plain one with --mix plain), CV_FOLDS folds
   grouped by person for the out-of-fold figures.
4. Calibration (temperature and the seek-care threshold for recall >= SEEK_CARE_RECALL_TARGET) on
   held-out photos: half the evaluation-canvas photos (by person) and half the real-dev photos
   that are not of a training-canvas person (by file hash, every group halved: the stand-in
   clinical photos and the remaining healthy faces).
5. Reported: the other half of each (real-dev "report half"), all real-dev photos not of a
   training-canvas person, and the plain generated test set, beside the plain policy rules.

    .venv/bin/python scripts/train_on_canvases.py [--work /tmp/triage-data] [--mix canvas|plain] [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REAL_DEV = ROOT.parent / "shared" / "real-dev"
LICENCES = {
    "fasseg": "FASSEG (Khan et al. ICIP 2015, ICME 2017): faces from the FEI, MIT-CBCL and Pointing'04 databases; research use",
    "sfa": "SFA skin database (from the FERET and AR face databases); research use",
    "dermnet": "DermNet NZ images (Te Whatu Ora), historically CC BY-NC-ND 3.0 NZ: non-commercial",
    "acne": "Roboflow Acne Dataset v3 (CC BY 4.0), including ACNE04 (Wu et al. ICCV 2019; research use)",
}


def persons(rows: list[dict]) -> dict[str, str]:
    """file -> person of the healthy real-dev photos (see module docstring)."""
    out, sfa = {}, []
    for r in rows:
        stem = Path(r["file"]).stem
        m = re.search(r"personne(\d\d)", stem)
        if m:
            out[r["file"]] = f"pointing04-{m.group(1)}"
        elif r["group"] == "sfa_portrait":
            sfa.append((int(stem.rsplit("_", 1)[1]), r["file"]))
        else:
            out[r["file"]] = f"{r['group']}-{stem}"
    run = None
    last = -100
    for index, file in sorted(sfa):
        if index - last > 5:
            run = f"sfa-{index}"
        out[file], last = run, index
    return out


def _half(key: str) -> int:
    """0 or 1 by the sha256 of a key: a fixed split that does not depend on order."""
    return hashlib.sha256(key.encode()).digest()[0] & 1


def write_canvases(folder: Path, rows: list[dict], person: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["file", "mask", "label", "person"])
        w.writeheader()
        for r in rows:
            w.writerow({"file": str(REAL_DEV / r["file"]), "mask": str(REAL_DEV / r["mask"]) if r["mask"] else "",
                        "label": "normal", "person": person[r["file"]]})  # fmt: skip


def measured_set(folder: Path, workers: int, items=None):
    """The photos of a folder measured (each decoded once per measuring code version: the
    feature cache, triage.run.cache)."""
    from triage.learn.dataset import measure_dataset, read_labels
    from triage.util.progress import Progress

    items = items if items is not None else read_labels(folder)
    done, _failed = measure_dataset(folder, items, workers, Progress(f"measuring {folder.name}"))
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/triage-data"))
    ap.add_argument("--canvas-n", type=int, default=4000)
    ap.add_argument("--canvas-seed", type=int, default=4000)
    ap.add_argument("--canvas-eval-n", type=int, default=1500)
    ap.add_argument("--canvas-eval-seed", type=int, default=5000)
    ap.add_argument("--canvas-train-share", type=float, default=0.7)
    ap.add_argument("--train-n", type=int, default=3000)
    ap.add_argument("--train-seed", type=int, default=1000)
    ap.add_argument("--test-n", type=int, default=1000)
    ap.add_argument("--test-seed", type=int, default=3000)
    ap.add_argument("--sequences-n", type=int, default=600, help="patients photographed over their course (0: none)")
    ap.add_argument("--sequences-seed", type=int, default=7000)
    ap.add_argument("--mix", choices=["canvas", "plain"], default="plain",
                    help="train on the generated-on-real photos alone, or with the plain generated ones too")
    ap.add_argument("--seed", type=int, default=0, help="split and solver seed")
    ap.add_argument("--out", type=Path, default=Path("/tmp/triage-data/candidate.skops"))
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    if not (REAL_DEV / "labels.csv").is_file():
        print(f"{REAL_DEV} is needed: its healthy faces are the canvases", file=sys.stderr)
        return 1

    from triage import synth
    from triage.learn.dataset import Item
    from triage.learn.evaluate import evaluate_measured
    from triage.learn import config
    from triage.learn.train import fit_model, write_model
    from triage.util.pool import default_workers
    from triage.util.progress import Progress

    workers = args.workers or default_workers()
    with open(REAL_DEV / "labels.csv", newline="") as f:
        real_rows = [r for r in csv.DictReader(f) if "borderline" not in (r.get("extra") or "")]
    healthy = [r for r in real_rows if r["label"] == "normal"]
    person = persons(healthy)
    people = sorted(set(person.values()))
    order = np.random.default_rng(args.seed).permutation(len(people))
    train_people = {people[i] for i in order[: round(args.canvas_train_share * len(people))]}
    canvas_train = [r for r in healthy if person[r["file"]] in train_people]
    canvas_eval = [r for r in healthy if person[r["file"]] not in train_people]
    write_canvases(args.work / "canvases-train", canvas_train, person)
    write_canvases(args.work / "canvases-eval", canvas_eval, person)
    print(f"canvases: {len(canvas_train)} photos of {len(train_people)} people for training, "
          f"{len(canvas_eval)} of {len(people) - len(train_people)} for evaluation", file=sys.stderr)  # fmt: skip

    sets = {
        "canvas-train": (args.canvas_n, args.canvas_seed, args.work / "canvases-train", False),
        "canvas-eval": (args.canvas_eval_n, args.canvas_eval_seed, args.work / "canvases-eval", False),
        "train": (args.train_n, args.train_seed, None, False),
        "test": (args.test_n, args.test_seed, None, False),
    }
    if args.sequences_n:
        sets["sequences"] = (args.sequences_n, args.sequences_seed, args.work / "canvases-train", True)
    folders = {}
    for name, (n, seed, canvas, sequences) in sets.items():
        tag = f"-c{dataset_hash_of_canvases(canvas)}" if canvas else ""
        folders[name] = args.work / f"{name}-n{n}-s{seed}{tag}"
        if (folders[name] / "labels.csv").exists() and not still_current(folders[name], seed, canvas, sequences):
            print(f"{folders[name]} is not what this code makes: made again", file=sys.stderr)
            shutil.rmtree(folders[name])
        if not (folders[name] / "labels.csv").exists():
            print(f"generating {name}: {n} {'patients' if sequences else 'photos'}, seed {seed} -> {folders[name]}", file=sys.stderr)
            with Progress(f"synth {name}") as show:
                synth.generate(folders[name], n, seed, workers=workers, progress=show, canvas=canvas, sequences=sequences)
    m = {name: measured_set(folder, workers) for name, folder in folders.items()}
    for name in m:
        for x in m[name]:
            x.item.meta = {**x.item.meta, "source": name}
    real_items = [Item(r["file"], r["label"], None, {**r, "patient_id": r["file"], "source": "real-dev"})
                  for r in real_rows if r["file"] not in person or person[r["file"]] not in train_people]  # fmt: skip
    real = measured_set(REAL_DEV, workers, real_items)

    calibration = [x for x in m["canvas-eval"] if _half(x.item.meta["patient_id"]) == 0]
    calibration += [x for x in real if _half(x.item.file) == 0]
    train_set = m["canvas-train"] + (m["train"] if args.mix == "plain" else []) + m.get("sequences", [])
    h = hashlib.sha256()
    for x in train_set:
        h.update(f"{x.item.meta['source']}:{x.item.file}:{x.sha256}\n".encode())
    model, oof = fit_model(train_set, args.seed, args.out.name.split(".")[0], h.hexdigest(), calibration=calibration)

    reports = {
        "canvas_eval_report_half": [x for x in m["canvas-eval"] if _half(x.item.meta["patient_id"]) == 1],
        "generated_test": m["test"],
        "real_dev_report_half": [x for x in real if _half(x.item.file) == 1],
        "real_dev_calibration_half": [x for x in real if _half(x.item.file) == 0],
    }
    results = {name: evaluate_measured(xs, model) for name, xs in reports.items()}
    training_data = {
        "sha256": h.hexdigest(),
        "description": (
            f"{len(train_set)} photos: {len(m['canvas-train'])} generated on real photos of healthy skin "
            f"(`triage synth --canvas`, seed {args.canvas_seed}, on {len(canvas_train)} photos of {len(train_people)} "
            "people of ../shared/real-dev: FASSEG and SFA faces)"
            + (f", {len(m['train'])} plain generated (`triage synth --n {args.train_n} --seed {args.train_seed}`)" if args.mix == "plain" else "")
            + (f" and {len(m.get('sequences', []))} photos of {args.sequences_n} patient sequences on the same canvases "
               f"(`triage synth --canvas --sequences`, seed {args.sequences_seed}; baseline and course features)" if args.sequences_n else "")
            + ". Labels per TRIAGE_POLICY.md from the painted ground truth."
        ),
        "sources": {
            "generated_on_real": {"photos": len(m["canvas-train"]), "seed": args.canvas_seed, "canvases": len(canvas_train),
                                  "canvas_people": len(train_people), "licence": f"{LICENCES['fasseg']}; {LICENCES['sfa']}"},
            "plain_generated": {"photos": len(m["train"]) if args.mix == "plain" else 0, "seed": args.train_seed,
                                "licence": "generated by this project"},
            "patient_sequences_on_real": {"photos": len(m.get("sequences", [])), "patients": args.sequences_n,
                                          "seed": args.sequences_seed, "licence": f"{LICENCES['fasseg']}; {LICENCES['sfa']}"},
        },  # fmt: skip
        "canvases": sorted(r["file"] for r in canvas_train),
        "labels": {lvl: int(sum(1 for x in train_set if x.item.label == lvl)) for lvl in ("normal", "monitor", "seek-care")},
        "seed": args.seed,
        "cross_validation_folds": config.CV_FOLDS,
    }
    calibration_desc = {
        "description": (
            f"{len(calibration)} held-out photos: {sum(1 for x in calibration if x.item.meta['source'] == 'canvas-eval')} "
            "generated on the evaluation canvases (half of their people) and "
            f"{sum(1 for x in calibration if x.item.meta['source'] == 'real-dev')} real photos of ../shared/real-dev not of a "
            "training-canvas person (half of each group by file hash; stand-in labels)"
        ),
        "real_dev_files": sorted(x.item.file for x in calibration if x.item.meta["source"] == "real-dev"),
        "licence": f"{LICENCES['dermnet']}; {LICENCES['acne']}; {LICENCES['fasseg']}; {LICENCES['sfa']}",
    }
    card = write_model(
        model, args.out, training_data, oof,
        calibration=calibration_desc,
        use_restrictions=(
            "Fitted on generated photos painted on research-use face photographs and calibrated on research-use "
            "clinical photographs (FASSEG, SFA, DermNet NZ, ACNE04): for research and evaluation only, not for "
            "clinical use. A clinic's production model is retrained on its own reviewed photos (`triage retrain`)."
        ),
        test_metrics={name: {k: r[k] for k in ("overall", "rules_baseline", "per_ita_band", "per_days_band", "seek_care_recall_gap_max")}
                      | {"n": len(reports[name])} for name, r in results.items()},
    )  # fmt: skip
    print(summary(card))
    return 0


def dataset_hash_of_canvases(folder: Path) -> str:
    """Names a generated-on-real set by its canvases (which photos of which people)."""
    return hashlib.sha256((folder / "labels.csv").read_bytes()).hexdigest()[:8]


def still_current(folder: Path, seed: int, canvas: Path | None, sequences: bool, k: int = 3) -> bool:
    """Whether a generated set on disk is what this code makes: its first k photos made again are
    byte-identical and have the same labels (a change to the generator, to the measuring it uses
    on canvases or to how it labels makes them differ, and the set is made again)."""
    import importlib

    from triage.synth.canvas import list_canvases

    generate = importlib.import_module("triage.synth.generate")
    canvases = list_canvases(canvas) if canvas else None
    with open(folder / "labels.csv", newline="") as f:
        stored = {r["file"]: r for r in csv.DictReader(f)}
    for i in range(k):
        if sequences:
            from triage.synth.sequence import make_sequence

            made = [(f"images/{name}.jpg", data, row) for name, data, _skin, row in make_sequence(seed, i, canvases)]
        else:
            data, _skin, row = generate.make_canvas_photo(seed, i, canvases) if canvases else generate.make_photo(seed, i, (1024, 768))
            made = [(f"images/s{seed}_{i:05d}.jpg", data, row)]
        for name, data, row in made:
            path = folder / name
            if not path.is_file() or path.read_bytes() != data or stored.get(name, {}).get("label") != row["label"]:
                return False
    return True


def summary(card: dict) -> str:
    lines = [f"temperature {card['temperature']:.3f}, seek-care threshold {card['seek_care_threshold']:.3f}"]
    v = card["validation_metrics"]
    lines.append(line("out-of-fold (training)", v))
    for name, res in card["test_metrics"].items():
        lines.append(line(name, res["overall"], res["rules_baseline"]))
        if name.startswith(("canvas", "generated")):
            gap = res["seek_care_recall_gap_max"]
            bands = ", ".join(f"{b} {fmt(x['per_class']['seek-care']['recall'])}" for b, x in res["per_ita_band"].items())
            lines.append(f"    seek-care recall per ITA band: {bands} (largest gap {fmt(gap)})")
    return "\n".join(lines)


def line(name: str, m: dict, rules: dict | None = None) -> str:
    pc = m["per_class"]
    out = (f"{name:28s} n={m['n']:5d} macro-F1 {fmt(m['macro_f1'])}  seek-care recall {fmt(pc['seek-care']['recall'])}  "
           f"normal precision {fmt(pc['normal']['precision'])}  ECE {fmt(m.get('ece'))}")  # fmt: skip
    if rules:
        out += f"  | rules macro-F1 {fmt(rules['macro_f1'])}"
    return out


def fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


if __name__ == "__main__":
    sys.exit(main())
