"""ColorChecker: how often a chart in a generated photo is found, how well its correction
restores the skin's colour, and how often a chart is 'found' where there is none.

    .venv/bin/python scripts/measure_chart.py [--n 100] [--data DIR]

For each of n generated photos (the generator's own scenes, casts and exposures) a chart is
drawn at a random place, size (pitch 2.5-7% of the long side) and angle. The photo is measured
three ways: as captured, normalised with the chart, normalised without it (the chart painted over
with the background, so shades-of-gray sees the same scene). Truth is the same scene rendered
with neutral white balance and exposure 1: Delta E*ab of the median skin colour against it.
False detections: photos of --data (generated labels.csv datasets) and ../shared/real-dev.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage import synth
from triage.measure import chart, color
from triage.measure.normalise import normalise
from triage.measure.io import decode


def render(spec, seed, index, size=(1024, 768)):
    rng = np.random.default_rng([seed, index, 1])
    rgb, skin, _ = synth.render(copy.deepcopy(spec), size, rng)
    return rgb, skin


def skin_lab(rgb, skin, gains=None):
    lin = color.srgb_to_linear(rgb / 255.0)
    if gains is not None:
        lin = gains(lin)
    return np.median(color.linear_to_lab(lin)[skin], axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--data", type=Path, default=Path("/tmp/triage-data/test-n1000-s3000"))
    args = ap.parse_args()

    found, de_chart, de_sog, de_none, centre_err, ms = 0, [], [], [], [], []
    for i in range(args.n):
        rng = np.random.default_rng([args.seed, i])
        spec = synth.sample_spec(rng, i)
        spec.quality_issue = ""
        spec.exposure = float(np.clip(spec.exposure, 0.7, 1.2))
        spec.blur = min(spec.blur, 1.5)  # a quality-failure blur (7-12 px) hides any chart
        pitch = float(rng.uniform(0.025, 0.07))
        m = 3.8 * pitch  # the chart's half-diagonal: the whole chart inside the 1024 x 768 frame
        spec.chart = (float(rng.uniform(m, 1 - m)), float(rng.uniform(m, 0.75 - m)), pitch, float(rng.uniform(-90, 90)))
        neutral = copy.deepcopy(spec)
        neutral.wb_gains, neutral.exposure, neutral.noise, neutral.blur = (1.0, 1.0, 1.0), 1.0, 0.0, 0.0
        rgb, skin = render(spec, args.seed, i)
        truth_rgb, _ = render(neutral, args.seed, i)
        truth = skin_lab(truth_rgb, skin)
        rgb_j = decode(synth_jpeg(rgb, spec.jpeg_quality)).rgb
        t = time.perf_counter()
        norm = normalise(rgb_j)
        ms.append(1000 * (time.perf_counter() - t))
        de_none.append(float(np.linalg.norm(skin_lab(rgb_j, skin) - truth)))
        if norm.method == "colorchecker":
            found += 1
            de_chart.append(float(np.linalg.norm(np.median(norm.lab[skin], axis=0) - truth)))
            c = chart.find(rgb_j, color.srgb_to_linear(rgb_j / 255.0))
            _, patches = synth.chart_layout(*spec.chart, 1024)
            centre_err.append(float(np.abs(c.centres - patches.mean(axis=1)).max() / (pitch * 1024)))
        spec_nochart = copy.deepcopy(spec)
        spec_nochart.chart = None
        rgb_n, _ = render(spec_nochart, args.seed, i)
        sog = normalise(decode(synth_jpeg(rgb_n, spec.jpeg_quality)).rgb)
        de_sog.append(float(np.linalg.norm(np.median(sog.lab[skin], axis=0) - truth)))

    print(f"charts found: {found}/{args.n}; worst patch-centre error {max(centre_err, default=0):.2f} pitch")
    print(f"skin Delta E*ab against the neutral render:  uncorrected {q(de_none)}")
    print(f"  with the chart (found ones):  {q(de_chart)}")
    print(f"  shades-of-gray, same scenes without the chart:  {q(de_sog)}")
    print(f"normalise with a chart: median {np.median(ms):.1f} ms")

    files = sorted((args.data / "images").glob("*.jpg"))[:300] if args.data.exists() else []
    real = ROOT.parent / "shared" / "real-dev" / "images"
    files += sorted(real.glob("*/*.jpg")) if real.exists() else []
    false, ms = 0, []
    for f in files:
        rgb = decode(f.read_bytes()).rgb
        t = time.perf_counter()
        false += chart.find(rgb, color.srgb_to_linear(rgb / 255.0)) is not None
        ms.append(1000 * (time.perf_counter() - t))
    if files:
        print(f"false charts: {false}/{len(files)} photos without one; chart.find median {np.median(ms):.1f} ms, max {np.max(ms):.1f}")


def q(v) -> str:
    return f"median {np.median(v):.2f}, p90 {np.percentile(v, 90):.2f}, max {np.max(v):.2f}"


def synth_jpeg(rgb, quality):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


if __name__ == "__main__":
    main()
