#!/usr/bin/env python3
"""Each patient against their own baseline and course: the targets of the follow-up triage, on
patient sequences painted on real faces that no model was trained on (`triage synth --canvas
DIR --sequences`, on the evaluation canvases of scripts/train_on_canvases.py).

1. Per photo, the model with the course features (a photo compared with the patient's baseline
   and earlier photos, triage.course: the model's course inputs, when it has them, and the
   not-faded rule, triage.course.features.not_faded) against the same model without them (the
   same photos judged alone: the course inputs missing contribute nothing): seek-care recall
   and normal precision over all photos and over the photos from day 4 on.
2. Per patient, "not fading as expected" (truth: erythema above the policy's expected maximum on
   a photo from day 4 on): detected when a photo from day 4 on keeps at least
   triage.course.config.NOT_FADED of the early redness (redness_kept), with a baseline or
   without; precision and recall.
3. A baseline taken under another light: for unchanged patients (nothing painted, baseline and
   follow-up under white balances at the two ends of the generator's range, reframed), the share
   whose baseline change features exceed the normal range (their 95th percentile among the
   normal follow-up photos of the sequences of part 1).

    .venv/bin/python scripts/course_benchmark.py [--patients 300] [--seed 6000] [--model PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _metrics(y: list[str], pred: list[str]) -> tuple[float | None, float | None, int]:
    y, pred = np.array(y), np.array(pred)
    seek = y == "seek-care"
    called_normal = pred == "normal"
    recall = float((pred[seek] == "seek-care").mean()) if seek.any() else None
    precision = float((y[called_normal] == "normal").mean()) if called_normal.any() else None
    return recall, precision, len(y)


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _unchanged_pair(args):
    """Features of one unchanged patient's follow-up photo against a baseline under another light."""
    from triage.course.features import against_baseline
    from triage.course.summary import summarise
    from triage.measure.io import decode
    from triage.measure.photo import measure
    from triage.synth import canvas as cv
    from triage.synth.capture import capture, encode_jpeg
    from triage.synth.sequence import _reframe
    from triage.synth.spec import PhotoSpec, sample_camera

    entry, seed = args
    base = cv.cached_canvas(entry)
    summaries = []
    for k, temp in enumerate((-1.0, 1.0) if seed % 2 else (1.0, -1.0)):
        spec = PhotoSpec(index=0, scenario="unchanged", days_since_treatment=7, erythema_grade=0, erythema_pattern="diffuse")
        img, painted = cv.paint(spec, base, np.random.default_rng([seed, 1]))
        shot = np.random.default_rng([seed, 2, k])
        skin = painted["skin"]
        if k:
            img, skin = _reframe(img, skin, shot)
        sample_camera(shot, spec)
        spec.wb_gains = (1 + 0.12 * temp, 1.0, 1 - 0.14 * temp)  # the generator's warmest and coolest light
        data = encode_jpeg(capture(img, spec, shot), spec.jpeg_quality)
        d = decode(data)
        m = measure(d.rgb, (d.width, d.height))
        summaries.append(summarise(m, None if k == 0 else 7, k == 0))
    return against_baseline(summaries[1], summaries[0])


def main() -> int:
    from triage import synth
    from triage.course import config as course_config
    from triage.course.features import BASELINE_FEATURES, COURSE_FEATURES, not_faded
    from triage.decide.modelfile import load_model
    from triage.learn.dataset import measure_dataset, read_labels
    from triage.synth.canvas import list_canvases
    from triage.util.pool import default_workers, imap_unordered
    from triage.util.progress import Progress

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--seed", type=int, default=6000)
    ap.add_argument("--canvas", type=Path, default=Path("/tmp/triage-data/canvases-eval"),
                    help="canvases never trained on (scripts/train_on_canvases.py writes them)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/triage-data"))
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--unchanged", type=int, default=60, help="unchanged patients for part 3")
    args = ap.parse_args()
    workers = default_workers()
    model = load_model(args.model)
    tag = hashlib.sha256((args.canvas / "labels.csv").read_bytes()).hexdigest()[:8]
    folder = args.work / f"sequences-n{args.patients}-s{args.seed}-c{tag}"
    if not (folder / "labels.csv").is_file():
        with Progress("synth sequences") as show:
            synth.generate(folder, args.patients, args.seed, workers=workers, progress=show, canvas=args.canvas, sequences=True)
    with Progress("measuring") as show:
        measured, _failed = measure_dataset(folder, read_labels(folder), workers, show)
    print(f"{model.name} {model.version} on {len(measured)} photos of {args.patients} patients ({folder.name})")

    # 1. per photo, with and without the course features
    def predict(xs, with_course: bool) -> list[str]:
        out = []
        for x in xs:
            f = x.features if with_course else {**x.features, **dict.fromkeys(COURSE_FEATURES)}
            reason = not_faded(f, {}) if with_course else None  # as triage.pipeline.row_for decides
            out.append(model.decide(model.inputs(f, x.item.days, x.quality_ok), quality_ok=x.quality_ok, never_normal=reason).label)
        return out

    follow = [x for x in measured if x.item.meta.get("role") != "baseline"]
    late = [x for x in follow if x.item.days is not None and x.item.days >= 4]
    print("1. per photo (follow-up photos): seek-care recall, normal precision")
    for name, xs in (("all follow-up photos", follow), ("photos from day 4 on", late)):
        y = [x.item.label for x in xs]
        for label, with_course in (("with the course", True), ("alone", False)):
            r, p, n = _metrics(y, predict(xs, with_course))
            print(f"   {name:22s} {label:16s} n={n:4d} seek-care recall {_fmt(r)}  normal precision {_fmt(p)}")

    # 2. per patient: not fading as expected
    by_patient: dict[str, list] = {}
    for x in follow:
        by_patient.setdefault(x.item.meta["patient_id"], []).append(x)
    truth, found = [], []
    for pid, xs in by_patient.items():
        truth.append(xs[0].item.meta.get("not_fading") == "1")
        kept = [x.features.get("redness_kept") for x in xs if x.item.days is not None and x.item.days >= 4]
        found.append(any(k is not None and k >= course_config.NOT_FADED for k in kept))
    truth, found = np.array(truth), np.array(found)
    tp = int((truth & found).sum())
    print(f"2. not fading as expected, per patient (redness_kept >= {course_config.NOT_FADED} on a photo from day 4 on): "
          f"{int(truth.sum())} of {len(truth)} patients; precision {_fmt(tp / found.sum() if found.any() else None)}, "
          f"recall {_fmt(tp / truth.sum() if truth.any() else None)}")  # fmt: skip

    # 3. a baseline under another light, nothing changed
    normal = [x for x in follow if x.item.label == "normal" and x.quality_ok]
    p95 = {f: float(np.nanpercentile([np.nan if x.features.get(f) is None else x.features[f] for x in normal], 95))
           for f in BASELINE_FEATURES}  # fmt: skip
    canvases = list_canvases(args.canvas)
    jobs = [(canvases[i % len(canvases)], 9000 + i) for i in range(args.unchanged)]
    pairs = [p for p in imap_unordered(_unchanged_pair, jobs, workers)]
    above = {f: np.mean([p[f] is not None and p[f] > p95[f] for p in pairs]) for f in BASELINE_FEATURES}
    any_above = np.mean([any(p[f] is not None and p[f] > p95[f] for f in BASELINE_FEATURES) for p in pairs])
    print(f"3. {len(pairs)} unchanged patients, baseline and follow-up under the warmest and coolest light: share above "
          f"the normal range (95th percentile among normal follow-up photos)")  # fmt: skip
    for f in BASELINE_FEATURES:
        print(f"   {f:32s} normal P95 {p95[f]:+.3f}  unchanged above it {above[f]:.2f}")
    print(f"   any of them: {any_above:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
