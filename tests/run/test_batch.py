"""`triage run` end to end on real files the tests make: every format and bad input, sorting,
hidden files, symlink loops, exit codes, manifest, read-only sources, resume after SIGKILL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import triage.measure.io  # noqa: F401 - registers the HEIF codec with Pillow, used to write test files
from triage.cli import app
from triage.run.batch import run
from triage.run.discover import discover

CONTRACT_KEYS = ["schema", "path", "sha256", "status", "error", "label", "probabilities", "quality",
                 "days_since_treatment", "features", "explanation", "model", "image", "patient_id", "role", "course"]  # fmt: skip


def jpeg(rgb, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90, **kw)
    return buf.getvalue()


def make_tree(root: Path, photo: np.ndarray) -> dict[str, str]:
    """A clinic-like folder: good photos in several formats, bad inputs, hidden files, a symlink
    loop. Returns {row path: expected status or error fragment}."""
    (root / "clinic-a" / "p01").mkdir(parents=True)
    (root / "clinic-b").mkdir()
    im = Image.fromarray(photo)
    (root / "clinic-a" / "p01" / "day1.jpg").write_bytes(jpeg(photo))
    im.save(root / "clinic-a" / "p01" / "day3.PNG")
    im.save(root / "clinic-b" / "a.webp", quality=90)
    im.save(root / "clinic-b" / "b.tiff")
    im.save(root / "clinic-b" / "c.heic", quality=90)
    im.convert("L").save(root / "clinic-b" / "gray.jpg")
    (root / "clinic-b" / "empty.jpg").write_bytes(b"")
    data = jpeg(photo)
    (root / "clinic-b" / "cut.jpg").write_bytes(data[: len(data) // 3])
    (root / "clinic-b" / "notes.png").write_text("not a picture\n")
    Image.new("1", (20000, 20000)).save(root / "clinic-b" / "bomb.png")
    (root / "clinic-b" / "readme.txt").write_text("ignored: not an image extension")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.jpg").write_bytes(jpeg(photo))
    (root / "clinic-b" / ".thumb.jpg").write_bytes(jpeg(photo))
    os.symlink(root, root / "clinic-b" / "loop")  # a symlink loop back to the root
    return {
        "clinic-a/p01/day1.jpg": "ok",
        "clinic-a/p01/day3.PNG": "ok",
        "clinic-b/a.webp": "ok",
        "clinic-b/b.tiff": "ok",
        "clinic-b/bomb.png": "pixel limit",
        "clinic-b/c.heic": "ok",
        "clinic-b/cut.jpg": "truncated",
        "clinic-b/empty.jpg": "empty",
        "clinic-b/gray.jpg": "ok",
        "clinic-b/notes.png": "not an image",
    }


def read_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def tree_digest(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() + oct(p.stat().st_mode) + str(p.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory, photo):
    root = tmp_path_factory.mktemp("photos")
    expected = make_tree(root, photo)
    return root, expected


@pytest.fixture(scope="module")
def tree_run(tree, tmp_path_factory):
    root, expected = tree
    before = tree_digest(root)
    out = tmp_path_factory.mktemp("out")
    summary = run([root], out, workers=1, progress=False)
    return root, expected, out, summary, before


def test_discovery_sorted_hidden_skipped_loop_harmless(tree):
    root, expected = tree
    assert [s.rel for s in discover([root])] == sorted(expected)


def test_one_row_per_image_file_sorted_with_reasons(tree_run):
    root, expected, out, summary, _ = tree_run
    rows = read_rows(out)
    assert [r["path"] for r in rows] == sorted(expected)
    for r in rows:
        assert list(r) == CONTRACT_KEYS
        want = expected[r["path"]]
        if want == "ok":
            assert r["status"] == "ok" and r["error"] is None, r
            assert r["label"] in ("normal", "monitor", "seek-care")
            assert abs(sum(r["probabilities"].values()) - 1) < 1e-6
            assert "ita_deg" in r["features"] and "skin_fraction" in r["features"]
            if r["path"] != "clinic-b/gray.jpg":  # no colour, no skin: ita_deg is rightly null
                assert r["features"]["ita_deg"] is not None and 0 < r["features"]["skin_fraction"] <= 1
            assert all(v is None or np.isfinite(v) for v in r["features"].values())
            assert r["sha256"] == hashlib.sha256((root / r["path"]).read_bytes()).hexdigest()
            assert not (not r["quality"]["ok"] and r["label"] == "normal")
        else:
            assert r["status"] == "error" and want in r["error"] and "\n" not in r["error"], r
            assert r["label"] is None and r["probabilities"] is None
    gray = next(r for r in rows if r["path"] == "clinic-b/gray.jpg")
    assert "grayscale" in gray["quality"]["issues"] and gray["label"] != "normal"
    assert summary.errors == 4 and summary.total == 10


def test_csv_and_run_json(tree_run):
    _root, expected, out, summary, _ = tree_run
    rows = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
    assert [r["path"] for r in rows] == sorted(expected)
    from triage.course.features import COURSE_FEATURES
    from triage.measure.features import FEATURE_NAMES

    assert list(rows[0])[:10] == ["path", "status", "error", "label", "p_normal", "p_monitor", "p_seek_care",
                                  "quality_ok", "quality_issues", "summary"]  # fmt: skip
    assert list(rows[0])[10:] == [*FEATURE_NAMES, *COURSE_FEATURES, "patient_id", "role", "days_since_treatment"]
    info = json.loads((out / "run.json").read_text())
    assert info["counts"]["total"] == 10 and info["counts"]["errors"] == 4
    assert info["model"]["sha256"] and info["software"]["version"]
    assert not (out / "results.partial.jsonl").exists()


def test_source_tree_unchanged(tree_run):
    root, _e, _out, _s, before = tree_run
    assert tree_digest(root) == before


def test_exit_codes_and_summary(tree, tmp_path, photo):
    from typer.testing import CliRunner

    root, _ = tree
    r = CliRunner().invoke(app, ["run", str(root), "--out", str(tmp_path / "o1"), "--workers", "1", "--quiet"])
    assert r.exit_code == 1 and "4 errors" in r.output
    good = tmp_path / "good"
    good.mkdir()
    (good / "x.jpg").write_bytes(jpeg(photo))
    r = CliRunner().invoke(app, ["run", str(good), "--out", str(tmp_path / "o2"), "--workers", "1", "--quiet"])
    assert r.exit_code == 0 and "triaged 1 photos" in r.output
    empty = tmp_path / "nothing"
    empty.mkdir()
    r = CliRunner().invoke(app, ["run", str(empty), "--out", str(tmp_path / "o3")])
    assert r.exit_code == 2 and "no images found" in r.output
    r = CliRunner().invoke(app, ["run", str(tmp_path / "missing"), "--out", str(tmp_path / "o4")])
    assert r.exit_code == 2 and "input not found" in r.output
    r = CliRunner().invoke(app, ["run", str(good), "--out", str(tmp_path / "o5"), "--workers", "0"])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["run", str(good), "--out", str(tmp_path / "o6"), "--model", str(tmp_path / "nope.skops")])
    assert r.exit_code == 2 and "model file not found" in r.output


def test_manifest_days_and_direct_file(tmp_path, photo):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg(photo))
    (src / "b.jpg").write_bytes(jpeg(photo))
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,days_since_treatment,patient_id\na.jpg,9,p1\n")
    run([src, src / "b.jpg"], tmp_path / "out", workers=1, manifest=manifest, progress=False)
    rows = read_rows(tmp_path / "out")
    assert [(r["path"], r["days_since_treatment"]) for r in rows] == [("a.jpg", 9), ("b.jpg", None), ("b.jpg", None)]
    assert "not given" in rows[1]["explanation"]["summary"]
    bad = tmp_path / "bad.csv"
    bad.write_text("path,days_since_treatment\na.jpg,soon\n")
    from triage.run.discover import UsageError

    with pytest.raises(UsageError, match="not a number"):
        run([src], tmp_path / "out2", workers=1, manifest=bad, progress=False)


def test_read_only_source_and_vanishing_and_unreadable_files(tmp_path, photo):
    """As an unprivileged user: a read-only source tree is only read; a chmod-000 file and a file
    deleted between discovery and decoding get error rows; the batch goes on."""
    from conftest import open_dir, run_unprivileged

    d = open_dir(tmp_path)
    src = d / "src"
    src.mkdir()
    for name in ("a.jpg", "b.jpg", "locked.jpg", "zz_vanish.jpg"):
        (src / name).write_bytes(jpeg(photo))
    (src / "locked.jpg").chmod(0)
    out = d / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    for p in [src, *src.iterdir()]:
        if p.name != "locked.jpg":
            p.chmod(0o555 if p.is_dir() else 0o444)
    before = tree_digest(src)
    code = f"""
import triage.run.batch as b
from pathlib import Path
orig = b.discover
def discover_then_vanish(inputs):
    found = orig(inputs)
    import os, shutil
    # simulate another program moving the file away after discovery: we cannot delete in a
    # read-only folder, so the job is pointed at a path that no longer exists
    return [b.Source(s.path + ".moved" if s.rel == "zz_vanish.jpg" else s.path, s.rel) for s in found]
b.discover = discover_then_vanish
s = b.run([{str(src)!r}], {str(out)!r}, workers=1, progress=False)
print(s.errors, s.total)
"""
    res = run_unprivileged(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["2", "4"]
    rows = {r["path"]: r for r in read_rows(out)}
    assert rows["locked.jpg"]["error"] == "permission denied"
    assert "not found" in rows["zz_vanish.jpg"]["error"]
    assert rows["a.jpg"]["status"] == rows["b.jpg"]["status"] == "ok"
    assert tree_digest(src) == before


def test_workers_1_and_2_give_identical_results(tmp_path, photo):
    src = tmp_path / "src"
    src.mkdir()
    from conftest import skin_photo

    for i in range(4):
        (src / f"{i}.jpg").write_bytes(jpeg(skin_photo(seed=i)))
    run([src], tmp_path / "w1", workers=1, progress=False)
    run([src], tmp_path / "w2", workers=2, progress=False)
    assert (tmp_path / "w1" / "results.jsonl").read_bytes() == (tmp_path / "w2" / "results.jsonl").read_bytes()


def test_kill_and_resume_every_file_exactly_once(tmp_path):
    """SIGKILL a run mid-way, then --resume: each file once, finished rows reused."""
    from conftest import skin_photo

    src = tmp_path / "src"
    src.mkdir()
    n = 12
    for i in range(n):
        (src / f"{i:02d}.jpg").write_bytes(jpeg(skin_photo(seed=100 + i, size=(200, 150))))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = out / "results.partial.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if partial.exists() and len(partial.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(partial.read_text().splitlines())
    assert 3 <= done_before < n and not (out / "results.jsonl").exists()
    with open(partial, "a") as f:
        f.write('{"schema": 1, "path": "torn')  # a line cut by the kill
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "reused" in res.stderr
    rows = read_rows(out)
    assert [r["path"] for r in rows] == [f"{i:02d}.jpg" for i in range(n)]
    assert not partial.exists()
    # and a second resume reuses everything
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert f"({n} reused" in res.stderr
    assert read_rows(out) == rows


def test_special_files_get_error_rows_and_the_run_ends(tmp_path, photo):
    """A symlink to /dev/zero and a FIFO named like photos (issue 3): the run ends, each has
    its error row, the photo beside them is triaged."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg(photo))
    os.symlink("/dev/zero", src / "zero.jpg")
    os.mkfifo(src / "pipe.jpg")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "2", "--quiet", "--no-report"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 1, res.stderr
    rows = {r["path"]: r for r in read_rows(out)}
    assert rows["a.jpg"]["status"] == "ok"
    assert rows["zero.jpg"]["error"] == "not a regular file (character device)"
    assert rows["pipe.jpg"]["error"].startswith("not a regular file (FIFO")


def test_any_exception_in_a_worker_is_that_files_error_row(tmp_path, photo, monkeypatch):
    """MemoryError (or any exception) while reading one file is its error row, not the end of
    the run (issue 3)."""
    import triage.measure.io as tio

    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (src / name).write_bytes(jpeg(photo))
    real = tio.read_bytes

    def read_bytes(path):
        if str(path).endswith("b.jpg"):
            raise MemoryError()
        return real(path)

    monkeypatch.setattr(tio, "read_bytes", read_bytes)
    summary = run([src], tmp_path / "out", workers=1, progress=False, report=False)
    rows = {r["path"]: r for r in read_rows(tmp_path / "out")}
    assert summary.errors == 1 and rows["a.jpg"]["status"] == "ok"
    assert rows["b.jpg"]["status"] == "error" and rows["b.jpg"]["error"].startswith("internal error: MemoryError")


def test_file_names_that_are_not_utf8(tmp_path, photo):
    """`bad\\xff.jpg` (issue 2) made the run crash after analysing every photo, with no
    results.csv, run.json or report, and --resume the same: its row shows the byte escaped, the
    file is read by its real name, and a resumed run finds it again."""
    src = tmp_path / "src"
    src.mkdir()
    bad = src / os.fsdecode(b"bad\xff.jpg")
    bad.write_bytes(jpeg(photo))
    (src / "good.jpg").write_bytes(jpeg(photo))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "1"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    rows = read_rows(out)
    assert [r["path"] for r in rows] == ["bad\\xff.jpg", "good.jpg"]
    assert rows[0]["status"] == "ok" and rows[0]["sha256"] == hashlib.sha256(bad.read_bytes()).hexdigest()
    assert "bad\\xff.jpg" in (out / "results.csv").read_text(encoding="utf-8")
    assert (out / "run.json").is_file() and "bad\\xff.jpg" in (out / "report.html").read_text(encoding="utf-8")
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "(2 reused" in res.stderr, res.stderr


def test_control_characters_in_names_are_escaped_on_the_terminal(tmp_path, photo):
    """A name with a newline was printed raw in progress lines and could forge a summary line
    (issue 23): everything printed has its control characters escaped."""
    src = tmp_path / "src"
    src.mkdir()
    forged = "evil\ntriaged 9 photos: 0 seek-care, 0 monitor, 9 normal, 0 errors\n\x1b[2Jx.jpg"
    (src / forged).write_bytes(jpeg(photo))
    (src / "z.jpg").write_bytes(b"not a photo")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "1", "--no-report"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 1, res.stderr
    lines = res.stderr.splitlines()
    assert not any(line.startswith("triaged 9 photos") for line in lines), res.stderr
    assert "\x1b" not in res.stderr
    assert any("evil\\ntriaged 9 photos" in line and "\\x1b[2Jx.jpg" in line for line in lines), res.stderr
    assert [r["path"] for r in read_rows(out)][0] == forged  # the row keeps the name (JSON escapes it)
    res = subprocess.run([sys.executable, "-m", "triage", "explain", str(src / forged)], capture_output=True, text=True, timeout=300)
    assert res.stdout.splitlines()[0].startswith("evil\\ntriaged 9 photos") and "\x1b" not in res.stdout, res.stdout
    res = subprocess.run([sys.executable, "-m", "triage", "run", str(src / "gone\n\x1b[2J"), "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 2 and "gone\\n\\x1b[2J" in res.stderr and "\x1b" not in res.stderr


def test_unreadable_subfolder_is_an_error_row(tmp_path, photo):
    """An unreadable sub-folder was skipped in silence and the run exited 0 (issue 14): it is an
    error row (path 'locked/'), so the run counts an error and exits 1."""
    from conftest import open_dir, run_unprivileged

    d = open_dir(tmp_path)
    src = d / "src"
    (src / "locked").mkdir(parents=True)
    (src / "a.jpg").write_bytes(jpeg(photo))
    (src / "locked" / "b.jpg").write_bytes(jpeg(photo))
    for p in (src, src / "locked"):
        p.chmod(0o755)
    (src / "a.jpg").chmod(0o644)
    (src / "locked").chmod(0)
    out = d / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    code = f"""
import triage.run.batch as b
s = b.run([{str(src)!r}], {str(out)!r}, workers=1, progress=False, report=False)
print(s.errors, s.total)
"""
    res = run_unprivileged(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1", "2"]
    rows = {r["path"]: r for r in read_rows(out)}
    assert rows["a.jpg"]["status"] == "ok"
    assert rows["locked/"]["status"] == "error" and rows["locked/"]["error"] == "cannot read folder: permission denied"


def test_output_folder_inside_an_input_is_never_discovered(tmp_path, photo):
    """--out inside an input folder: the next run triaged its own previews, 5 photos became 15
    rows (issue 22). The output folder is skipped; an output folder that is an input is refused."""
    from typer.testing import CliRunner

    src = tmp_path / "src"
    src.mkdir()
    for i in range(2):
        (src / f"{i}.jpg").write_bytes(jpeg(photo))
    out = src / "triage-out"
    for _ in range(2):
        summary = run([src], out, workers=1, progress=False)
        assert summary.total == 2
    assert [r["path"] for r in read_rows(out)] == ["0.jpg", "1.jpg"]
    assert any((out / "overlays").iterdir())
    r = CliRunner().invoke(app, ["run", str(src), "--out", str(src), "--workers", "1", "--quiet"])
    assert r.exit_code == 2 and "is an input folder" in r.output, r.output


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"path,days_since_treatment\na.jpg,inf\n", "not a number"),
        (b"path,days_since_treatment\na.jpg,nan\n", "not a number"),
        (b"path,days_since_treatment\na.jpg,1e20\n", "at most 3650"),
        (b"path,days_since_treatment\na.jpg,3651\n", "at most 3650"),
        (b"path,days_since_treatment\na.jpg,-1\n", "a baseline photo needs its patient_id"),  # before the treatment: whose?
        (b"path,days_since_treatment\n\xff\xfe.jpg,3\n", "not UTF-8"),
        (b"path,days_since_treatment\n" + b"a" * 200_000 + b".jpg,3\n", "cannot be read as CSV"),
    ],
)
def test_bad_manifests_are_one_line_usage_errors(tmp_path, photo, content, reason):
    """`inf` gave an OverflowError traceback, a non-UTF-8 manifest a UnicodeDecodeError
    traceback, and 1e20 days was accepted and quoted in summaries (issue 18): exit 2, one line."""
    from typer.testing import CliRunner

    from triage.run import config

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg(photo))
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(content)
    r = CliRunner().invoke(app, ["run", str(src), "--out", str(tmp_path / "out"), "--manifest", str(manifest), "--workers", "1", "--quiet"])
    assert r.exit_code == 2, r.output
    assert reason in r.output and r.output.count("\n") == 1 and "Traceback" not in r.output, r.output
    assert config.MAX_DAYS_SINCE_TREATMENT == 3650


def test_explain_refuses_days_beyond_the_cap(tmp_path, photo):
    from typer.testing import CliRunner

    (tmp_path / "a.jpg").write_bytes(jpeg(photo))
    r = CliRunner().invoke(app, ["explain", str(tmp_path / "a.jpg"), "--days", "100000000000000000000"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["explain", str(tmp_path / "a.jpg"), "--days", "3651"])
    assert r.exit_code == 2


def test_csv_cells_cannot_start_a_formula(tmp_path, photo):
    """A file named =1+2.jpg or =HYPERLINK(...) was written to results.csv as a live formula
    (issue 11): text cells starting with = + - @, a tab or a CR get a leading single quote (OWASP
    CSV injection); numbers stay numbers."""
    from triage.measure.features import FEATURE_NAMES
    from triage.run.results import csv_text

    src = tmp_path / "src"
    src.mkdir()
    names = ['=1+2.jpg', '=HYPERLINK("x","y").jpg', "+a.jpg", "-b.jpg", "@c.jpg", "\td.jpg", "\re.jpg", "ok.jpg"]
    for name in names:
        (src / name).write_bytes(jpeg(photo))
    out = tmp_path / "out"
    run([src], out, workers=1, progress=False, report=False)
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_bytes().decode("utf-8"), newline="")))
    assert sorted(r["path"] for r in rows) == sorted("'" + n if n[0] in "=+-@\t\r" else n for n in names)
    row = {"path": "x.jpg", "status": "error", "error": "-oops", "label": None, "probabilities": None, "quality": None,
           "explanation": {"summary": "=cmd|' /C calc'!A0"}, "features": {FEATURE_NAMES[0]: -0.5}}  # fmt: skip
    cells = next(csv.DictReader(io.StringIO(csv_text([row], FEATURE_NAMES), newline="")))
    assert cells["error"] == "'-oops" and cells["summary"] == "'=cmd|' /C calc'!A0"
    assert cells[FEATURE_NAMES[0]] == "-0.5"


def _lines(stderr: str) -> int:
    """Lines on stderr, not counting LiteRT's own 'INFO: Created TensorFlow Lite XNNPACK delegate'."""
    return len([line for line in stderr.splitlines() if not line.startswith("INFO: ")])


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_disk_full_while_writing_the_results_is_exit_3_with_the_previous_results_intact(tmp_path, photo, monkeypatch):
    """ENOSPC on the final files ended in a traceback and exit 1, the code for unreadable photos
    (issue 16): one line, exit 3, the previous results.jsonl/csv/run.json as they were, no .tmp
    file left."""
    from typer.testing import CliRunner

    import triage.util.files as files

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg(photo))
    out = tmp_path / "out"
    run([src], out, workers=1, progress=False, report=False)
    before = _outputs(out)
    (src / "b.jpg").write_bytes(jpeg(photo))
    real_write = os.write

    def write(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp") and ".results.csv." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(files.os, "write", write)
    r = CliRunner().invoke(app, ["run", str(src), "--out", str(out), "--workers", "1", "--quiet", "--no-report"])
    assert r.exit_code == 3, r.output
    assert r.output.count("\n") == 1 and "No space left on device" in r.output and "Traceback" not in r.output, r.output
    after = _outputs(out)
    assert {k: v for k, v in after.items() if k != "results.partial.jsonl"} == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (as root; skipped where mounting is not allowed)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {res.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def test_a_really_full_disk_is_exit_3_for_run_and_report(tmp_path, small_disk, photo):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg(photo))
    out = small_disk / "out"
    cmd = [sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "1", "--quiet"]
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    before = _outputs(out)
    (src / "b.jpg").write_bytes(jpeg(photo))
    _fill(small_disk)
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 3, res.stderr
    assert _lines(res.stderr) == 1 and "No space left on device" in res.stderr, res.stderr
    assert {k: v for k, v in _outputs(out).items() if k != "results.partial.jsonl"} == before
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    (out / "report.html").unlink()
    _fill(small_disk)  # again, over the report's bytes
    res = subprocess.run([sys.executable, "-m", "triage", "report", str(out), "--quiet"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 3 and _lines(res.stderr) == 1 and "No space left on device" in res.stderr, res.stderr
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_kill_between_the_final_renames_is_detected(tmp_path, photo):
    """A kill between the renames of results.jsonl, results.csv and run.json left two runs' files
    side by side with no marker (issue 17): run.finishing says so until a run completes;
    triage report refuses in one line, --resume says so and replaces them all."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg(photo))
    out = tmp_path / "out"
    run([src], out, workers=1, progress=False, report=False)
    first = json.loads((out / "run.json").read_text())["run_id"]
    (src / "b.jpg").write_bytes(jpeg(photo))
    code = f"""
import os, signal
import triage.util.files as files
real = os.replace
def replace(a, b):
    if str(b).endswith("results.csv"):  # results.jsonl is replaced already
        os.kill(os.getpid(), signal.SIGKILL)
    return real(a, b)
files.os.replace = replace
from triage.run.batch import run
run([{str(src)!r}], {str(out)!r}, workers=1, progress=False, report=False)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert (out / "run.finishing").is_file()
    assert len(read_rows(out)) == 2 and json.loads((out / "run.json").read_text())["run_id"] == first  # two runs' files
    res = subprocess.run([sys.executable, "-m", "triage", "report", str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and _lines(res.stderr) == 1 and "stopped while replacing" in res.stderr, res.stderr
    cmd = [sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "1", "--resume", "--no-report"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "stopped while replacing" in res.stderr, res.stderr
    assert not (out / "run.finishing").exists()
    csv_paths = [r["path"] for r in csv.DictReader(io.StringIO((out / "results.csv").read_text()))]
    assert csv_paths == [r["path"] for r in read_rows(out)] == ["a.jpg", "b.jpg"]
    assert json.loads((out / "run.json").read_text())["run_id"] != first


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_of_a_killed_run_end_quietly(tmp_path):
    """Killing the parent of a running `triage run --workers 2` left workers that finished their
    photo and printed BrokenPipeError tracebacks (issue 25): they end with it, silently."""
    from conftest import skin_photo

    src = tmp_path / "src"
    src.mkdir()
    for i in range(8):
        (src / f"{i}.jpg").write_bytes(jpeg(skin_photo(seed=200 + i, size=(1600, 1200))))
    out = tmp_path / "out"
    err = tmp_path / "stderr.txt"
    with open(err, "w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "2", "--no-report"],
                                stdout=subprocess.DEVNULL, stderr=f)  # fmt: skip
    partial = out / "results.partial.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (partial.exists() and partial.read_text().strip()):
        time.sleep(0.05)
    family = [c for c in _children(proc.pid)]
    proc.kill()
    proc.wait()
    deadline = time.time() + 60
    while time.time() < deadline and any(_alive(c) for c in family):
        time.sleep(0.1)
    assert not any(_alive(c) for c in family), "workers outlived their run"
    time.sleep(0.5)
    text = err.read_text()
    assert "Traceback" not in text and "BrokenPipeError" not in text and "leaked" not in text, text


def test_ctrl_c_stops_a_run_in_one_line(tmp_path):
    """Ctrl-C (SIGINT to the run) ends it with one line and exit 130, no traceback from it or its
    workers; the partial log is kept for --resume."""
    from conftest import skin_photo

    src = tmp_path / "src"
    src.mkdir()
    for i in range(8):
        (src / f"{i}.jpg").write_bytes(jpeg(skin_photo(seed=300 + i, size=(1600, 1200))))
    out = tmp_path / "out"
    # a suite started in the background (`cmd &`) inherits SIGINT ignored, and Python then installs
    # no Ctrl-C handler: the run gets the default disposition, as from a terminal
    proc = subprocess.Popen([sys.executable, "-m", "triage", "run", str(src), "--out", str(out), "--workers", "2", "--no-report"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    partial = out / "results.partial.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (partial.exists() and partial.read_text().strip()):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err, err
    assert partial.read_text().strip()


def test_a_jpeg_cut_in_its_header_is_one_line_everywhere(tmp_path, photo):
    """`head -c 100 sample.jpg > t.jpg; triage explain t.jpg` gave a traceback, triage.analyze
    an exception and batch rows 'internal error' (issue 6): one line, the same everywhere."""
    from typer.testing import CliRunner

    import triage

    t = tmp_path / "t.jpg"
    t.write_bytes(jpeg(photo)[:100])
    row = triage.analyze(t).to_dict()
    assert row["status"] == "error" and "\n" not in row["error"] and "internal" not in row["error"]
    r = CliRunner().invoke(app, ["explain", str(t)])
    assert r.exit_code == 1 and r.output == f"t.jpg: cannot be triaged: {row['error']}\n"
    run([t], tmp_path / "out", workers=1, progress=False, report=False)
    assert read_rows(tmp_path / "out")[0]["error"] == row["error"]
