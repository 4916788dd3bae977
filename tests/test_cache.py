"""The feature cache: a photo measured once is not decoded again; changed bytes are."""

from __future__ import annotations

import shutil

import pytest


def test_second_measurement_comes_from_the_cache(small_dataset, tmp_path, monkeypatch):
    from triage import io as tio
    from triage.dataset import measure_dataset, read_labels

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
    """Cached measurements are keyed by the source of the modules that make them: a module that
    decoding and measuring run but that the key leaves out would serve stale values."""
    import subprocess
    import sys

    from triage import cache, synth

    data, _mask, _row = synth.make_photo(5, 0, (320, 240))
    photo = tmp_path / "p.jpg"
    photo.write_bytes(data)
    probe = (
        "import sys; from pathlib import Path; from triage.io import decode; from triage.pipeline import measure; "
        f"d = decode(Path({str(photo)!r}).read_bytes()); measure(d.rgb, (d.width, d.height)); "
        "print(' '.join(sorted(n.split('.')[1] for n in sys.modules if n.startswith('triage.'))))"
    )
    used = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert {"chart", "features", "skin"} <= set(used)  # the probe did measure
    assert {f"{name}.py" for name in used} <= set(cache._MEASURING_MODULES)
