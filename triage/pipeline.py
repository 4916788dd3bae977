"""One photo through the pipeline: measure (decode -> normalise -> skin + quality -> features),
compare with the patient's baseline and earlier photos when it has a patient (triage.course),
then decide (model -> policy -> explanation), then one results.jsonl row. Pure per photo: no
state but the model and, for a patient's photo, the summaries of their photos before it
(`Patient`), so that a process pool or a cluster can map it over files or patients.

May use: triage.course, triage.measure, triage.decide, triage.util.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .course.features import COURSE_FEATURES, course_features, not_faded, sentences
from .course.summary import History, summarise
from .decide.explain import explain
from .measure.io import DecodedImage, ImageError, decode, read_bytes, to_working_size
from .measure.photo import Measured, measure

#: Version of the row format (CONTRACT.md): 2 adds patient_id, role and course (the patient's
#: follow-up, triage.course) and the course features.
SCHEMA = 2


@dataclass
class Result:
    """One analysed photo; `to_dict()` is exactly one results.jsonl row."""

    row: dict

    def to_dict(self) -> dict:
        return copy.deepcopy(self.row)

    @property
    def label(self) -> str | None:
        return self.row["label"]


@dataclass
class Patient:
    """Whose photo this is (the manifest's patient_id), whether it was taken before the treatment,
    and the summaries of the patient's photos analysed before it."""

    id: str
    baseline: bool = False
    history: History | None = None


def config_hash() -> str:
    """sha256 (first 16 hex) of the measuring and deciding tunables (triage/measure/config.py and
    triage/decide/config.py): results with the same hash, software version and model are
    comparable."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for part in ("measure", "decide"):
        h.update((here / part / "config.py").read_bytes())
    return h.hexdigest()[:16]


def model_info(model) -> dict:
    return {"name": model.name, "version": model.version, "sha256": getattr(model, "sha256", "")}


def _clean_days(days) -> int | None:
    if days is None or (isinstance(days, float) and np.isnan(days)) or days == "":
        return None
    return int(days)


def error_row(path: str, sha256: str | None, message: str, days=None, model=None, patient: Patient | None = None) -> dict:
    return {
        "schema": SCHEMA,
        "path": path,
        "sha256": sha256,
        "status": "error",
        "error": message,
        "label": None,
        "probabilities": None,
        "quality": None,
        "days_since_treatment": _clean_days(days),
        "features": None,
        "explanation": None,
        "model": model_info(model) if model is not None else None,
        "image": None,
        **_patient_fields(patient, None),
    }


def _patient_fields(patient: Patient | None, course: dict | None) -> dict:
    return {
        "patient_id": None if patient is None else patient.id,
        "role": None if patient is None else ("baseline" if patient.baseline else "follow-up"),
        "course": course,
    }


def analyze_decoded(decoded: DecodedImage, *, path: str, sha256: str, days, model, then=None, patient: Patient | None = None) -> dict:
    """The full row for a decoded photo; then(decoded, measured), when given, is called with
    the measurements before the row is returned (the batch draws the report's previews)."""
    m = measure(decoded.rgb, (decoded.width, decoded.height))
    if then is not None:
        then(decoded, m)
    return row_for(decoded, m, path=path, sha256=sha256, days=days, model=model, patient=patient)


def row_for(decoded: DecodedImage, m: Measured, *, path: str, sha256: str, days, model, patient: Patient | None = None) -> dict:
    """The full row for a decoded photo and its measurements: the course features (with a
    patient), model, policy, explanation."""
    days = _clean_days(days)
    features = {**m.features, **dict.fromkeys(COURSE_FEATURES)}
    course, phrases = None, {}
    if patient is not None:
        summary = summarise(m, days, patient.baseline)
        history = patient.history or History()
        if not patient.baseline:
            features.update(course_features(summary, history.earlier, history.baseline))
            phrases = sentences(summary, history.earlier, history.baseline, features)
        course = {"summary": summary.to_dict(), "compared_with": {
            "baseline": history.baseline is not None, "earlier_days": [s.day for s in history.earlier]}}  # fmt: skip
    decision = model.decide(model.inputs(features, days, m.quality.ok), quality_ok=m.quality.ok,
                            never_normal=not_faded(features, phrases))  # fmt: skip
    return {
        "schema": SCHEMA,
        "path": path,
        "sha256": sha256,
        "status": "ok",
        "error": None,
        "label": decision.label,
        "probabilities": decision.probabilities,
        "quality": m.quality.to_dict(),
        "days_since_treatment": days,
        "features": features,
        "explanation": explain(model, decision, features, days, m.quality.issues, phrases),
        "model": model_info(model),
        "image": {
            "width": decoded.width,
            "height": decoded.height,
            "format": decoded.format,
            "normalisation": m.normalised.method,
            "face": m.face is not None,
            "head_box": m.head is not None,
        },
        **_patient_fields(patient, course),
    }


def analyze_file(path: str | Path, rel_path: str, days, model) -> dict:
    """Read, hash, decode and analyse one file; any unreadable input becomes an error row."""
    try:
        data = read_bytes(path)
    except ImageError as e:
        return error_row(rel_path, None, str(e), days, model)
    return analyze_bytes(data, rel_path, days, model)


def analyze_bytes(data: bytes, rel_path: str, days, model, sha256: str | None = None, then=None,
                  patient: Patient | None = None) -> dict:  # fmt: skip
    """Decode and analyse a file's bytes (sha256 computed unless given; `then` and `patient` as
    in analyze_decoded)."""
    sha = sha256 or hashlib.sha256(data).hexdigest()
    try:
        decoded = decode(data)
    except ImageError as e:
        return error_row(rel_path, sha, str(e), days, model, patient)
    return analyze_decoded(decoded, path=rel_path, sha256=sha, days=days, model=model, then=then, patient=patient)


def analyze(image, *, days_since_treatment=None, model=None) -> Result:
    """Public API: analyse a photo given as a path or an RGB uint8 array (H, W, 3).

    A path that cannot be decoded gives a Result with status "error" (as in results.jsonl)."""
    from .decide.modelfile import load_default

    model = model if model is not None else load_default()
    if isinstance(image, (str, Path)):
        return Result(analyze_file(image, Path(image).name, days_since_treatment, model))
    rgb = np.asarray(image)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("analyze expects a path or an RGB uint8 array of shape (H, W, 3)")
    sha = hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest()
    h, w = rgb.shape[:2]
    decoded = DecodedImage(to_working_size(rgb), w, h, "array")
    return Result(analyze_decoded(decoded, path="<array>", sha256=sha, days=days_since_treatment, model=model))
