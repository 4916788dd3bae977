"""The feature cache: a photo measured once is not decoded again; changed bytes are."""

from __future__ import annotations

import shutil

import pytest


def test_second_measurement_comes_from_the_cache(small_dataset, tmp_path, monkeypatch):
    from triage.learn.dataset import measure_dataset, read_labels
    from triage.measure import io as tio

    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "ds"
    shutil.copytree(small_dataset, folder)
    items = read_labels(folder)[:5]
    first, failed = measure_dataset(folder, items, workers=1)
    assert len(first) == 5 and not failed

    def no_decoding(*a, **k):
        raise AssertionError("decoded a photo the cache knows")

    monkeypatch.setattr(tio, "decode", no_decoding)
    again, failed = measure_dataset(folder, items, workers=1)
    assert not failed and [m.features for m in again] == [m.features for m in first]

    (folder / items[0].file).write_bytes((folder / items[1].file).read_bytes() + b"\x00")  # new bytes
    with pytest.raises(AssertionError, match="cache knows"):
        measure_dataset(folder, items[:1], workers=1)


def test_cache_version_covers_every_module_that_measures(tmp_path):
    """Cached measurements are keyed by the source of triage.measure and the face models it runs
    (triage.measure.code_version): a module that decoding and measuring run outside it would
    serve stale values. triage.util is allowed: it only finds files, it measures nothing."""
    import subprocess
    import sys

    from triage import synth

    data, _mask, _row = synth.make_photo(5, 0, (320, 240))
    photo = tmp_path / "p.jpg"
    photo.write_bytes(data)
    probe = (
        "import sys; from pathlib import Path; from triage.measure.io import decode; from triage.measure.photo import measure; "
        f"d = decode(Path({str(photo)!r}).read_bytes()); measure(d.rgb, (d.width, d.height)); "
        "print(' '.join(sorted(n for n in sys.modules if n.startswith('triage.'))))"
    )
    used = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split())
    assert {"triage.measure.chart", "triage.measure.features.detect", "triage.measure.skin"} <= used  # it did measure
    assert all(name.split(".")[1] in ("measure", "util") for name in used), used
    from triage.measure import code_version, face

    assert {face.DETECTOR, face.LANDMARKER} == {"face_detection_short_range.tflite", "face_landmark.tflite"}
    assert len(code_version()) == 16
