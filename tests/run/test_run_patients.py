"""A patient's photos through `triage run`: judged together, baseline first and then in day order,
each compared with the ones before it; the same rows whatever the number of workers; --resume
judges a patient again when a photo of theirs is new."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from triage import synth
from triage.run.batch import run
from triage.run.discover import UsageError
from triage.run.results import read_rows

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut_face.jpg"


@pytest.fixture(scope="module")
def sequences(tmp_path_factory) -> Path:
    """Three patients painted on one real face (triage synth --canvas --sequences)."""
    root = tmp_path_factory.mktemp("sequences")
    (root / "canvas").mkdir()
    shutil.copy(ASTRONAUT, root / "canvas" / "astronaut.jpg")
    synth.generate(root / "set", 3, seed=21, canvas=root / "canvas", sequences=True, workers=2)
    return root / "set"


def manifest_rows(folder: Path) -> list[dict]:
    return list(csv.DictReader((folder / "manifest.csv").read_text().splitlines()))


def test_a_patients_photos_are_compared_with_the_ones_before_them(sequences, tmp_path):
    run([sequences / "images"], tmp_path / "out", manifest=sequences / "manifest.csv", progress=False, report=False)
    rows = read_rows(tmp_path / "out" / "results.jsonl")
    plan = {r["path"]: r for r in manifest_rows(sequences)}
    assert len(rows) == len(plan) >= 9
    for r in rows:
        entry = plan[r["path"]]
        assert r["patient_id"] == entry["patient_id"]
        assert r["role"] == ("baseline" if entry["role"] == "baseline" else "follow-up")
        mine = [p for p in plan.values() if p["patient_id"] == entry["patient_id"]]
        if r["role"] == "baseline":
            assert r["days_since_treatment"] is None and r["features"]["redness_kept"] is None
            continue
        day = int(entry["days_since_treatment"])
        earlier = sorted(int(p["days_since_treatment"]) for p in mine if p["role"] != "baseline" and int(p["days_since_treatment"]) < day)
        assert r["course"]["compared_with"] == {"baseline": any(p["role"] == "baseline" for p in mine), "earlier_days": earlier}
        if r["course"]["compared_with"]["baseline"] and r["quality"]["ok"]:
            assert r["features"]["baseline_redness_area_change"] is not None
    # without the manifest the same photos are judged alone
    run([sequences / "images"], tmp_path / "alone", progress=False, report=False)
    for r in read_rows(tmp_path / "alone" / "results.jsonl"):
        assert r["patient_id"] is None and r["course"] is None
        assert all(r["features"][f] is None for f in ("redness_kept", "new_finding_count", "baseline_redness_change"))


def test_the_same_rows_with_one_or_two_workers(sequences, tmp_path):
    for w in (1, 2):
        run([sequences / "images"], tmp_path / f"w{w}", manifest=sequences / "manifest.csv", workers=w, progress=False, report=False)
    assert (tmp_path / "w1" / "results.jsonl").read_bytes() == (tmp_path / "w2" / "results.jsonl").read_bytes()


def test_resume_judges_a_patient_again_when_one_of_their_photos_is_new(sequences, tmp_path):
    photos = tmp_path / "photos"
    shutil.copytree(sequences / "images", photos)
    first = manifest_rows(sequences)[0]["patient_id"]
    last_of_first = [p["path"] for p in manifest_rows(sequences) if p["patient_id"] == first][-1]
    held_back = tmp_path / last_of_first
    shutil.move(photos / last_of_first, held_back)
    run([photos], tmp_path / "out", manifest=sequences / "manifest.csv", progress=False, report=False)
    shutil.move(held_back, photos / last_of_first)
    summary = run([photos], tmp_path / "out", manifest=sequences / "manifest.csv", resume=True, progress=False, report=False)
    n_first = sum(1 for p in manifest_rows(sequences) if p["patient_id"] == first)
    assert summary.reused == summary.total - n_first  # the other patients reused, this one judged again whole
    run([photos], tmp_path / "fresh", manifest=sequences / "manifest.csv", progress=False, report=False)
    assert (tmp_path / "out" / "results.jsonl").read_bytes() == (tmp_path / "fresh" / "results.jsonl").read_bytes()


@pytest.mark.parametrize("line, why", [
    ("a.jpg,,,baseline", "a baseline photo needs its patient_id"),
    ("a.jpg,-2,,", "a baseline photo needs its patient_id"),
    ("a.jpg,3,p1,before", "role 'before' is not baseline or follow-up"),
])  # fmt: skip
def test_manifest_roles(sequences, tmp_path, line, why):
    bad = tmp_path / "m.csv"
    bad.write_text("path,days_since_treatment,patient_id,role\n" + line + "\n")
    with pytest.raises(UsageError, match=why):
        run([sequences / "images"], tmp_path / "out", manifest=bad, progress=False, report=False)


def test_negative_days_make_a_baseline(sequences, tmp_path):
    entries = manifest_rows(sequences)
    patient = entries[0]["patient_id"]
    follow = [e for e in entries if e["patient_id"] == patient and e["role"] != "baseline"]
    m = tmp_path / "m.csv"
    m.write_text("path,days_since_treatment,patient_id\n" + f"{follow[0]['path']},-1,{patient}\n"
                 + "".join(f"{e['path']},{e['days_since_treatment']},{patient}\n" for e in follow[1:]))  # fmt: skip
    run([sequences / "images"], tmp_path / "out", manifest=m, progress=False, report=False)
    rows = {r["path"]: r for r in read_rows(tmp_path / "out" / "results.jsonl")}
    assert rows[follow[0]["path"]]["role"] == "baseline"
    assert rows[follow[1]["path"]]["course"]["compared_with"]["baseline"] is True


def test_a_run_with_patients_reads_back_in_the_report_and_the_review_app(sequences, tmp_path):
    """The rows `triage run` writes for patients (schema 2) are what the report groups and the
    review app imports: one block per patient in day order, every photo keeping its patient."""
    from triage.review import rows as review_rows
    from triage.run import report

    out = tmp_path / "out"
    run([sequences / "images"], out, manifest=sequences / "manifest.csv", progress=False)
    written = read_rows(out / "results.jsonl")
    triaged = review_rows.triaged((out / "results.jsonl").read_bytes())
    plan = {r["path"]: r for r in manifest_rows(sequences)}
    assert {t.path: t.patient_id for t in triaged} == {r["path"]: r["patient_id"] for r in written if r["status"] == "ok"}
    assert all(t.role == ("baseline" if plan[t.path]["role"] == "baseline" else "follow-up") for t in triaged)
    blocks = [b for b in report.grouped(written) if report.patient_of(b[0])]
    assert sorted(report.patient_of(b[0]) for b in blocks) == sorted({r["patient_id"] for r in plan.values()})
    for b in blocks:
        assert len({r["patient_id"] for r in b}) == 1
        keys = [(-1 if r["role"] == "baseline" else r["days_since_treatment"]) for r in b]
        assert keys == sorted(keys)
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(blocks)  # one trend plot per patient
