"""On real photos (../shared/real-dev, with stand-in labels; absent on a user's fresh clone,
where these tests skip): the pipeline decodes them, finds skin, its redness and lesion features
are higher on purulent close-ups than on the mildest ACNE04 grade, and healthy faces show few
dark patches or bruise-like areas."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from conftest import REAL_DEV

pytestmark = pytest.mark.skipif(not (REAL_DEV / "labels.csv").exists(), reason="../shared/real-dev is not present")


def _rows():
    return list(csv.DictReader(io.StringIO((REAL_DEV / "labels.csv").read_text())))


@pytest.fixture(scope="module")
def measured():
    from triage.measure.io import load_image
    from triage.measure.photo import measure

    out = {}
    for group in ("acne04_grade0", "acne_purulent"):
        rows = [r for r in _rows() if r["group"] == group][:25]
        out[group] = []
        for r in rows:
            img = load_image(REAL_DEV / r["file"])
            out[group].append(measure(img.rgb, (img.width, img.height)))
    return out


def test_real_photos_decode_and_have_skin(measured):
    all_m = [m for ms in measured.values() for m in ms]
    skin = np.array([m.features["skin_fraction"] for m in all_m])
    assert np.mean(skin > 0.1) > 0.8
    for m in all_m:
        assert all(v is None or np.isfinite(v) for v in m.features.values())


def test_redness_and_lesions_higher_on_purulent_than_mild(measured):
    def med(group, name):
        return np.median([m.features[name] or 0.0 for m in measured[group]])

    for name in ("redness_delta_a", "redness_area_fraction"):
        assert med("acne_purulent", name) > med("acne04_grade0", name), name
    lesions = lambda g: np.mean([(m.features["pustule_count"] or 0) + (m.features["papule_count"] or 0) for m in measured[g]])  # noqa: E731
    assert lesions("acne_purulent") > lesions("acne04_grade0")


@pytest.fixture(scope="module")
def healthy_faces():
    """Every sixth healthy face of ../shared/real-dev (61 photos, all three sources)."""
    from triage.measure.io import load_image
    from triage.measure.photo import measure

    rows = [r for r in _rows() if r["label"] == "normal"][::6]
    return [measure(img.rgb, (img.width, img.height)) for img in (load_image(REAL_DEV / r["file"]) for r in rows)]


def test_healthy_faces_show_few_dark_patches_or_bruises(healthy_faces):
    """Healthy faces hold no hyperpigmentation and no bruise: freckles and common moles (lone
    spots under 5 mm), shadows and a beard's shade (no more blood than the face) are not
    findings. Before those rules 29% and 25% of the 362 faces had one (of these 61: 23% and
    18%); now 12% and 9% (8% and 7%)."""
    dark = np.mean([(m.features["dark_macule_area_fraction"] or 0) > 0 for m in healthy_faces])
    bruise = np.mean([(m.features["bruise_area_fraction"] or 0) > 0 for m in healthy_faces])
    assert dark < 0.2 and bruise < 0.16, (dark, bruise)
