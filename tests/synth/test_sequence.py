"""Patient sequences on real skin: deterministic, each course doing what its name says, and the same
person (same skin, same treated region, same lesion places) from one day to the next."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from triage import synth
from triage.decide.policy import expected_max_grade
from triage.synth import canvas as cv
from triage.synth.sequence import _course, day_spec

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut_face.jpg"


@pytest.fixture(scope="module")
def canvas_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("canvas")
    shutil.copy(ASTRONAUT, d / "astronaut.jpg")
    return d


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_sequences_are_deterministic_and_in_day_order(canvas_dir, tmp_path):
    synth.generate(tmp_path / "a", 4, seed=3, canvas=canvas_dir, sequences=True)
    synth.generate(tmp_path / "b", 4, seed=3, canvas=canvas_dir, sequences=True, workers=2)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    rows = list(csv.DictReader((tmp_path / "a" / "labels.csv").read_text().splitlines()))
    by_patient: dict[str, list[dict]] = {}
    for r in rows:
        by_patient.setdefault(r["patient_id"], []).append(r)
    assert len(by_patient) == 4
    for photos in by_patient.values():
        follow = [int(r["days_since_treatment"]) for r in photos if r["role"] != "baseline"]
        assert follow == sorted(set(follow)) and follow[0] <= 2 and len(follow) >= 3
        assert {r["patient_label"] for r in photos} == {max((r["label"] for r in photos), key=["normal", "monitor", "seek-care"].index)}
    manifest = list(csv.DictReader((tmp_path / "a" / "manifest.csv").read_text().splitlines()))
    assert [m["path"] for m in manifest] == [r["file"].removeprefix("images/") for r in rows]
    assert all((tmp_path / "a" / "images" / m["path"]).is_file() for m in manifest)


@pytest.mark.parametrize("seed", range(40))
def test_each_course_runs_as_its_name_says(seed):
    course = _course(np.random.default_rng(seed))
    specs = {d: day_spec(course, d, 0) for d in course["days"]}
    late_red = [s.erythema_grade > expected_max_grade(d) for d, s in specs.items() if d >= 4]
    if course["kind"] == "expected":
        assert not any(late_red) and all(s.pustules == 0 and s.pigment_macules == 0 for s in specs.values())
    elif course["kind"] == "prolonged_redness":
        assert all(late_red) and any(d >= 4 for d in specs)
    elif course["kind"] == "infection":
        counts = [specs[d].pustules for d in sorted(specs)]
        assert counts[-1] >= 3 and counts == sorted(counts)  # appears, then stays or grows
        assert all(specs[d].pustules == 0 for d in specs if d < course["onset"])
    else:
        assert any(s.pigment_macules for s in specs.values()) and all(specs[d].pigment_macules == 0 for d in specs if d < course["onset"])


def test_the_same_person_from_day_to_day(canvas_dir):
    """Two days of one infection course, painted with the patient's one spatial rng: the same
    treated region and pustule places; only the amounts change. (Both days are painted on the
    one canvas, so its skin mask is the same by construction and not asserted.)"""
    base = cv.load_canvas({"file": str(canvas_dir / "astronaut.jpg"), "mask": "", "person": "a"})
    course = {"kind": "infection", "days": [1, 5, 7], "baseline": False, "g0": 2, "onset": 4, "pustules": 8, "crusts": 0,
              "marked": False, "macules": 1, "stuck": 2, "pattern": "diffuse"}  # fmt: skip
    a, pa = cv.paint(day_spec(course, 5, 0), base, np.random.default_rng([9, 1]))
    b, pb = cv.paint(day_spec(course, 7, 0), base, np.random.default_rng([9, 1]))
    assert pa["treated"].any() and np.array_equal(pa["treated"], pb["treated"])
    assert pa["melanin_step"] == pb["melanin_step"]
    spots_a = pa["hemoglobin"] > pa["hemoglobin"].max() * 0.8  # day 5's pustules: their halos' peaks
    assert day_spec(course, 5, 0).pustules < day_spec(course, 7, 0).pustules
    # still there on day 7: as much blood at those peaks (the erythema around them is ~0.2 lower;
    # not compared with day 7's own peaks, which two overlapping new pustules can raise)
    assert (pb["hemoglobin"][spots_a] >= 0.9 * pa["hemoglobin"][spots_a]).mean() >= 0.9
