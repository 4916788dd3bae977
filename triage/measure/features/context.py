"""Features that describe the photo rather than a finding: the person's skin tone and how much of
the frame is skin (always present in a row, contract)."""

from __future__ import annotations

from ..color import ita_deg
from .maps import Measurements
from .registry import feature


@feature("ita_deg", "degrees")
def f_ita(m: Measurements) -> float:
    """Individual typology angle of the untreated-looking skin.

    Formula: ITA = arctan((L*_ref - 50) / b*_ref) * 180/pi, with (L*_ref, b*_ref) the person's
    reference (maps.Measurements.reference: the face's level, or the median of the less-red half
    of the skin).
    Reference: Chardon A, Cretois I, Hourseau C. Int J Cosmet Sci 1991;13:191-208; bands per
    Del Bino S et al. Pigment Cell Res 2006;19:606-614."""
    L, _a, b = m.reference
    return float(ita_deg(L, b))


@feature("skin_fraction", "fraction of the image")
def f_skin_fraction(m: Measurements) -> float:
    """Share of the image's pixels that are skin.

    Formula: |S| / (H * W), S the skin mask of triage.measure.skin.
    Reference: contract (results.jsonl); the mask is evaluated by IoU against generated masks."""
    return float(m.skin.mean())
