"""Labelled datasets (contract layout: a folder with labels.csv) and their measured features."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..decide.config import LEVELS
from ..measure.io import ImageError
from ..util.pool import imap_unordered
from ..util.series import day_order


def generated_dir(n: int, seed: int, size: tuple[int, int] = (1024, 768)) -> Path:
    """Where generated photos for training and for the promotion gate are kept between runs: the
    cache folder ($TRIAGE_CACHE_DIR, else $XDG_CACHE_HOME/triage or ~/.cache/triage)."""
    import os

    base = os.environ.get("TRIAGE_CACHE_DIR")
    root = Path(base) if base and base != "off" else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "triage"
    tag = "" if size == (1024, 768) else f"-{size[0]}x{size[1]}"
    return root / "generated" / f"n{n}-s{seed}{tag}"


def generated_photos(n: int, seed: int, size: tuple[int, int], workers: int) -> Path:
    """A generated labelled dataset (triage synth) in generated_dir, made once."""
    from ..synth import generate

    folder = generated_dir(n, seed, size)
    if not (folder / "labels.csv").is_file():
        generate(folder, n, seed, size, workers=workers)
    return folder


class DatasetError(Exception):
    """A dataset folder that cannot be used; str() is one line."""


@dataclass
class Item:
    file: str  #: relative to the dataset folder
    label: str
    days: int | None
    meta: dict  #: every other column of labels.csv


def read_labels(folder: str | Path) -> list[Item]:
    folder = Path(folder)
    path = folder / "labels.csv"
    if not path.is_file():
        raise DatasetError(f"no labels.csv in {folder}")
    items = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"file", "label"} <= set(reader.fieldnames):
            raise DatasetError(f"{path} needs the columns file,label")
        for n, row in enumerate(reader, start=2):
            label = (row.get("label") or "").strip()
            if label not in LEVELS:
                continue  # unlabelled rows (e.g. between two levels) are not used
            d = (row.get("days_since_treatment") or "").strip()
            try:
                days = int(float(d)) if d else None
            except ValueError:
                raise DatasetError(f"{path}:{n}: days_since_treatment {d!r} is not a number") from None
            items.append(Item(row["file"], label, days, row))
    if not items:
        raise DatasetError(f"{path} has no rows labelled {', '.join(LEVELS)}")
    return items


@dataclass
class MeasuredItem:
    item: Item
    features: dict
    quality_ok: bool
    quality_issues: list[str]
    sha256: str = ""  #: of the file's bytes
    summary: dict | None = None  #: what later photos of the patient compare with (triage.course.summary)


def _measure_one(args) -> tuple[Item, str | None, dict | None, str | None, bool]:
    """(item, sha256, {features, quality_ok, quality_issues, summary} or None, error or None,
    from cache): the file is read once; it is decoded only when the cache does not know its
    sha256 (or, for a patient's photo, knows it from before summaries were kept)."""
    from ..course.summary import summarise
    from ..measure.io import decode, read_bytes
    from ..measure.photo import measure
    from ..run.cache import FeatureCache

    folder, item, cache_path, need_summary = args
    try:
        data = read_bytes(Path(folder) / item.file)
    except ImageError as e:
        return item, None, None, str(e), False
    sha = hashlib.sha256(data).hexdigest()
    hit = FeatureCache.at(cache_path).get(sha) if cache_path else None
    if hit is not None and (hit.get("summary") or not need_summary):
        return item, sha, hit, None, True
    try:
        img = decode(data)
    except ImageError as e:
        return item, sha, None, str(e), False
    m = measure(img.rgb, (img.width, img.height))
    summary = summarise(m, None, False).to_dict()
    value = {"features": m.features, "quality_ok": m.quality.ok, "quality_issues": m.quality.issues, "summary": summary}
    return item, sha, value, None, False


def measure_dataset(
    folder: str | Path, items: list[Item], workers: int, progress=None
) -> tuple[list[MeasuredItem], list[tuple[Item, str]]]:
    """Features and quality of every item (in the items' order), and the items that failed.
    Measurements are cached by file sha256 (see FeatureCache): a photo is decoded once per
    version of the measuring code."""
    from ..run.cache import FeatureCache

    cache = FeatureCache.default()
    cache_path = str(cache.path) if cache else None
    done: dict[str, MeasuredItem] = {}
    failed = []
    new = {}
    need_summary = any(is_patient_photo(it) for it in items)
    jobs = [(str(folder), it, cache_path, need_summary) for it in items]
    for k, (item, sha, value, err, cached) in enumerate(imap_unordered(_measure_one, jobs, workers), 1):
        if value is None:
            failed.append((item, err))
        else:
            done[item.file] = MeasuredItem(item, value["features"], value["quality_ok"], value["quality_issues"], sha,
                                           value.get("summary"))  # fmt: skip
            if not cached:
                new[sha] = value
        if progress:
            progress(k, len(items))
    if cache and new:
        cache.put_many(new)
    measured = [done[it.file] for it in items if it.file in done]
    return with_course(measured), failed


def is_patient_photo(item: Item) -> bool:
    """Whether a labelled photo belongs to a patient's series (labels.csv with a `role` column,
    as `triage synth --sequences` and export-labels write): only then are photos sharing a
    patient_id compared with each other (independent photos painted on one person's face share
    an id too, and are not a course)."""
    return "role" in item.meta and bool(item.meta.get("patient_id"))


def with_course(measured: list[MeasuredItem]) -> list[MeasuredItem]:
    """The items with the course features (triage.course) of each patient's photos, computed as
    `triage run` does: per patient, the baseline first, then in day order, each compared with
    the ones before it. Items that are not a patient's photo get them missing."""
    from ..course.features import COURSE_FEATURES, course_features
    from ..course.summary import History, PhotoSummary

    patients: dict[str, list[MeasuredItem]] = {}
    for m in measured:
        m.features = {**m.features, **dict.fromkeys(COURSE_FEATURES)}
        if is_patient_photo(m.item) and m.summary is not None:
            patients.setdefault(m.item.meta["patient_id"], []).append(m)

    def baseline(m: MeasuredItem) -> bool:
        return m.item.meta.get("role") == "baseline"

    for photos in patients.values():
        history = History()
        for m in sorted(photos, key=lambda m: (*day_order(baseline(m), m.item.days), m.item.file)):
            # measured without knowing the day or the role (the cache keeps one summary per file)
            s = PhotoSummary.from_dict({**m.summary, "day": m.item.days, "baseline": baseline(m)})
            if not baseline(m):
                m.features.update(course_features(s, history.earlier, history.baseline))
            history.add(s)
    return measured
