"""The generator: deterministic, policy-labelled, and its ground truth really in the pixels."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import replace

import numpy as np

from triage import synth
from triage.decide.bands import ita_band
from triage.decide.policy import level_from_truth
from triage.measure import color


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_byte_identical_different_seed_different(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synth.generate(a, 6, seed=5, size=(160, 120))
    synth.generate(b, 6, seed=5, size=(160, 120), workers=2)
    synth.generate(c, 6, seed=6, size=(160, 120))
    assert digest(a) == digest(b)
    images_a = {v for k, v in digest(a).items() if k.endswith(".jpg")}
    images_c = {v for k, v in digest(c).items() if k.endswith(".jpg")}
    assert len(images_a) == 6 and images_a.isdisjoint(images_c)
    assert (a / "labels.csv").read_text() != (c / "labels.csv").read_text()


def test_labels_follow_the_policy_function(small_dataset):
    rows = list(csv.DictReader((small_dataset / "labels.csv").read_text().splitlines()))
    assert len(rows) == 60
    for r in rows:
        from triage.decide.policy import Findings

        f = Findings(
            erythema_grade=int(r["erythema_grade"]),
            days_since_treatment=int(r["days_since_treatment"]) if r["days_since_treatment"] else None,
            pustules=int(r["pustules"]), crusts=int(r["crusts"]), papules=int(r["papules"]),
            track_marks=int(r["track_marks"]), bleeding_spots=int(r["bleeding_spots"]),
            pigment_area=float(r["pigment_area"]), bruise_area=float(r["bruise_area"]),
            quality_issue=r["quality_issue"],
        )  # fmt: skip
        assert r["label"] == level_from_truth(f)
        assert (small_dataset / r["file"]).is_file() and (small_dataset / r["mask"]).is_file()
    assert {r["label"] for r in rows} == {"normal", "monitor", "seek-care"}


def test_all_six_ita_bands_in_200_photos():
    """Bands of the untreated skin colour actually rendered (L*, b* of the optical model)."""
    bands = []
    for i in range(200):
        spec = synth.sample_spec(np.random.default_rng([9, i]), i)
        L, _a, b = synth.skin_lab(spec.melanin, spec.hemoglobin)
        bands.append(ita_band(float(color.ita_deg(L, b))))
    counts = {b: bands.count(b) for b in set(bands)}
    assert set(counts) == {"very_light", "light", "intermediate", "tan", "brown", "dark"}
    assert min(counts.values()) >= 200 / 6 * 0.5  # about equal shares


def _spec(grade=0, **kw):
    spec = synth.sample_spec(np.random.default_rng([3, 1]), 0)
    base = dict(scenario="expected_healing", erythema_grade=grade, erythema_pattern="diffuse", pustules=0, crusts=0,
                papules=0, track_marks=0, bleeding_spots=0, pigment_macules=0, bruise=False, flaking=False,
                quality_issue="", exposure=1.0, blur=0.0, noise=0.003, hair=False, clothing=False)  # fmt: skip
    base.update(kw)
    return replace(spec, **base)


def test_treated_region_a_star_rises_with_erythema_grade():
    for ita in (60.0, 20.0, -40.0):  # very light, tan, dark
        h0 = 0.25
        m = synth.melanin_for_ita(ita, h0)
        deltas = []
        for g in range(5):
            rgb, skin, treated = synth.render(_spec(g, melanin=m, hemoglobin=h0, ita_target=ita), (320, 240), np.random.default_rng(4))
            lab = color.rgb8_to_lab(rgb)
            deltas.append(np.median(lab[..., 1][treated]) - np.median(lab[..., 1][skin & ~treated]))
        assert all(b > a for a, b in zip(deltas, deltas[1:])), (ita, deltas)
        assert deltas[0] < 1.5 and deltas[4] > 5


def test_pustules_counted_by_a_simple_blob_detector():
    """Bright, yellow-white blobs on the skin: count connected components of very bright pixels."""
    import cv2

    for n in (0, 3, 8):
        spec = _spec(1, pustules=n, melanin=0.6, hemoglobin=0.25)
        rgb, skin, _t = synth.render(spec, (640, 480), np.random.default_rng(n))
        lab = color.rgb8_to_lab(rgb)
        L_ref = np.median(lab[..., 0][skin])
        bright = ((lab[..., 0] > L_ref + 12) & (lab[..., 2] > 15) & skin).astype(np.uint8)
        k, _l, stats, _c = cv2.connectedComponentsWithStats(bright)
        found = int((stats[1:, cv2.CC_STAT_AREA] >= 6).sum())
        assert abs(found - n) <= max(1, n // 4), (n, found)


def test_written_mask_is_the_skin_drawn(small_dataset):
    """Mask pixels are skin-coloured and the rest is not: check against the colour the optical
    model gives that photo's skin, on photos that passed no quality failure."""
    import cv2

    rows = [r for r in csv.DictReader((small_dataset / "labels.csv").read_text().splitlines()) if not r["quality_issue"]][:10]
    for r in rows:
        mask = cv2.imread(str(small_dataset / r["mask"]), cv2.IMREAD_GRAYSCALE) > 127
        data, drawn, _row = synth.make_photo(77, int(r["file"][-9:-4]), (480, 360))
        assert np.array_equal(mask, drawn)
        assert abs(mask.mean() - float(r["skin_fraction"])) < 0.01
