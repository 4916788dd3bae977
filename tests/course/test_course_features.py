"""Course features against hand-made summaries: the formulas of triage.course.features, worked out
by hand, and None wherever there is nothing to compare with."""

from __future__ import annotations

import pytest

from triage.course.features import against_baseline, against_history, course_features, sentences
from triage.course.summary import History, PhotoSummary


def photo(day, redness=0.05, baseline=False, ok=True, level_a=12.0, regions=None, **features) -> PhotoSummary:
    base = {"redness_area_fraction": redness, "pustule_count": 0.0, "vesicle_count": 0.0, "papule_count": 0.0,
            "crust_area_fraction": 0.0, "dark_macule_area_fraction": 0.0, "bruise_area_fraction": 0.0,
            "bleeding_spot_count": 0.0}  # fmt: skip
    return PhotoSummary(day, baseline, ok, {**base, **features}, level_a, regions or {"left_cheek": 0.5, "nose": 1.0})


def test_redness_kept_is_the_share_of_the_early_redness_left():
    early, now = photo(1, redness=0.30), photo(5, redness=0.34)
    out = against_history(now, [early])
    assert out["redness_kept"] == pytest.approx((0.34 + 0.02) / (0.30 + 0.02))
    assert sentences(now, [early], None, out)["redness_kept"] == "redness has not faded since day 1: 30% -> 34% of the skin"
    faded = against_history(photo(5, redness=0.06), [early])
    assert faded["redness_kept"] == pytest.approx(0.08 / 0.32)


@pytest.mark.parametrize("earlier, now", [
    ([photo(1, redness=0.01)], photo(5)),  # no redness to fade early on
    ([photo(4, redness=0.3)], photo(6)),  # no photo of days 0-2
    ([photo(1, redness=0.3)], photo(2)),  # too early to judge the fading
    ([photo(1, redness=0.3, ok=False)], photo(5)),  # the early photo failed the quality gate
    ([photo(1, redness=0.3)], photo(5, ok=False)),  # this one did
    ([photo(1, redness=0.3)], photo(None)),  # day unknown
])  # fmt: skip
def test_redness_kept_needs_an_early_red_photo_and_a_late_one(earlier, now):
    assert against_history(now, earlier)["redness_kept"] is None


def test_new_findings_are_those_absent_on_the_previous_photo():
    before = photo(2, pustule_count=2.0)
    now = photo(5, pustule_count=4.0, crust_area_fraction=0.01, dark_macule_area_fraction=0.0005, bleeding_spot_count=3.0)
    out = against_history(now, [photo(0), before])
    assert out["new_finding_count"] == 2.0  # crusts and bleeding (after day 0); pustules were there, the patch is too small
    assert sentences(now, [photo(0), before], None, out)["new_finding_count"] == "new since day 2: crusts, bleeding spots"
    assert against_history(photo(0, bleeding_spot_count=9.0), [photo(None)])["new_finding_count"] == 0.0  # day 0 bleeds


def test_against_the_baseline():
    base = photo(None, baseline=True, redness=0.04, level_a=11.0, regions={"left_cheek": 0.5, "nose": 1.0, "chin": 0.2},
                 dark_macule_area_fraction=0.002, pustule_count=1.0)  # fmt: skip
    now = photo(3, redness=0.19, level_a=14.5, regions={"left_cheek": 6.5, "nose": 0.5}, dark_macule_area_fraction=0.001,
                pustule_count=4.0, papule_count=1.0)  # fmt: skip
    out = against_baseline(now, base)
    assert out == {
        "baseline_redness_change": pytest.approx(3.5),
        "baseline_region_redness_change": pytest.approx(6.0),  # the left cheek; the chin is not on both
        "baseline_redness_area_change": pytest.approx(0.15),
        "baseline_new_dark_area": 0.0,  # less than before: nothing new
        "baseline_new_spot_count": 4.0,
    }
    assert all(v is None for v in against_baseline(now, None).values())
    assert all(v is None for v in against_baseline(now, photo(None, baseline=True, ok=False)).values())


def test_a_photo_alone_has_every_course_feature_missing():
    assert all(v is None for v in course_features(photo(5), [], None).values())


def test_history_keeps_the_last_baseline_and_the_photos_in_order():
    h = History()
    for s in (photo(None, baseline=True, level_a=1.0), photo(None, baseline=True, level_a=2.0), photo(1), photo(3)):
        h.add(s)
    assert h.baseline.level_a == 2.0 and [s.day for s in h.earlier] == [1, 3]
    assert PhotoSummary.from_dict(photo(3).to_dict()) == photo(3)


def test_redness_that_has_not_faded_is_never_called_normal(monkeypatch):
    """A photo the model calls normal is monitor when its patient's redness has not faded as
    expected (redness_kept >= NOT_FADED, TRIAGE_POLICY: redness outside the expected course), and
    its summary says why in the course's words; below NOT_FADED the model's level stands."""
    from pathlib import Path

    import triage.pipeline as pipeline
    from triage.course import config
    from triage.decide.modelfile import load_model

    photo_file = Path(__file__).resolve().parents[2] / "sample_images" / "s424242_00010.jpg"  # normal, no redness
    model = load_model(None)
    alone = pipeline.analyze_bytes(photo_file.read_bytes(), "p.jpg", 5, model)
    assert alone["label"] == "normal"
    history = History(earlier=[photo(1, redness=0.30)])
    for kept, expect in ((config.NOT_FADED, "monitor"), (config.NOT_FADED - 0.01, "normal")):
        monkeypatch.setattr(pipeline, "course_features", lambda *a, k=kept: {"redness_kept": k})
        monkeypatch.setattr(pipeline, "sentences", lambda *a: {"redness_kept": "redness has not faded since day 1: 30% -> 30% of the skin"})
        row = pipeline.analyze_bytes(photo_file.read_bytes(), "p.jpg", 5, model, patient=pipeline.Patient("p1", history=history))
        assert row["label"] == expect
        assert "redness has not faded since day 1" in row["explanation"]["summary"]  # the course is said either way
        assert ("so it is not called normal" in row["explanation"]["summary"]) == (expect == "monitor")
