"""What later photos of a patient need of an earlier one: its day, role and a few measured
numbers (a row's `course.summary`), small enough to keep in a row and independent of framing."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..measure.face import REGIONS

#: features a summary keeps (they are compared between photos)
KEPT = (
    "redness_area_fraction", "redness_delta_a", "hemoglobin_index", "pustule_count", "vesicle_count", "papule_count",
    "crust_area_fraction", "dark_macule_area_fraction", "bruise_area_fraction", "bleeding_spot_count",
)  # fmt: skip


@dataclass
class PhotoSummary:
    day: int | None  #: days since treatment; None unknown
    baseline: bool  #: taken before the treatment
    quality_ok: bool
    features: dict[str, float | None] = field(default_factory=dict)  #: the KEPT features
    level_a: float | None = None  #: a* of the person's reference skin: the face's level, else the less-red half
    #: per facial region: how much redder it is than usual on this face (its own a* minus its usual
    #: offset, minus the face's level: 0 for a region as red as it usually is), a* units
    region_a: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "PhotoSummary":
        return cls(**{k: d.get(k) for k in ("day", "baseline", "quality_ok")},
                   features=dict(d.get("features") or {}), level_a=d.get("level_a"),
                   region_a=dict(d.get("region_a") or {}))  # fmt: skip


def summarise(measured, day: int | None, baseline: bool) -> PhotoSummary:
    """The summary of one measured photo (triage.measure.photo.Measured)."""
    maps = measured.maps
    level_a = region_a = None
    if maps.n_skin >= 100:
        level_a = float(maps.reference[1])
        region_a = {}
        if maps.regional is not None:
            for k, lab in maps.region_levels.items():
                region_a[REGIONS[k]] = round(float(lab[1] - maps.regional[0][1]), 3)
    return PhotoSummary(
        day=day, baseline=baseline, quality_ok=bool(measured.quality.ok),
        features={k: measured.features.get(k) for k in KEPT},
        level_a=None if level_a is None else round(level_a, 3), region_a=region_a or {},
    )  # fmt: skip



@dataclass
class History:
    """A patient's photos analysed so far (the runner takes them in day order, the baseline
    first): what the next photo is compared with."""

    baseline: PhotoSummary | None = None
    earlier: list[PhotoSummary] = field(default_factory=list)

    def add(self, summary: PhotoSummary) -> None:
        if summary.baseline:
            self.baseline = summary  # the last one taken before the treatment
        else:
            self.earlier.append(summary)
