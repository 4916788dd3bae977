"""Tunables of the batch runner and its report, each with the reason for its value."""

from __future__ import annotations

#: Extensions read as images (contract: case-insensitive).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".heic", ".heif"})

# --- report (triage.run.report, triage.run.previews) -----------------------------------------
#: Long side (px) of the report's thumbnail and overlay. Cards show them at up to 240 CSS px, so
#: 320 px stays sharp on a 1.3x screen while a 5,000-photo run's previews stay ~150 MB.
THUMB_LONG_SIDE = 320
#: JPEG quality of the previews: 80 keeps the redness wash and 1-px outlines free of visible
#: block artefacts at ~12-18 KB per image.
THUMB_JPEG_QUALITY = 80
#: The redness-trend plot of each patient (triage.run.trend): 3 x 1.5 in at 100 dpi is 300 x 150
#: px, as wide as two strip thumbnails, with 7-pt tick labels still readable.
TREND_SIZE_IN = (3.0, 1.5)
TREND_DPI = 100
#: Its PNG palette: this many greys for the text, axes and line, and per level colour the colour
#: itself and this many blends towards white for the anti-aliased marker edges. The colours stay
#: exact and a plot is ~2 KB (the 24-bit PNG is ~7 KB); the page embeds one per patient, in base64.
TREND_PNG_GREYS = 32
TREND_PNG_BLENDS = 8
#: Days labelled on its x axis: every day up to this many (a typical follow-up has 2-5 photos),
#: else this many spread over the course, so that even 3-digit days do not overlap at 7 pt in 300 px.
TREND_MAX_DAY_TICKS = 6

# --- inputs (triage.run.batch) -----------------------------------------------------------------
#: Largest days_since_treatment accepted (manifest, `triage explain --days`): ten years. The
#: policy's expected course ends at day 7 and the model treats every day after 14 alike, so a
#: larger number is a typo or a date in the wrong column, and quoting it in a summary misleads.
MAX_DAYS_SINCE_TREATMENT = 3650
#: Longest patient_id kept (characters): ids are references into the clinic's own records, not
#: free text; a longer one is cut, never an error.
MAX_PATIENT_ID_LENGTH = 100

# --- Dask (triage.run.cluster) -------------------------------------------------------------------
#: Seconds to wait for the scheduler to answer and for a first worker: a scheduler on the clinic's
#: network answers in milliseconds; a wrong address should fail while the user still watches.
CLUSTER_CONNECT_TIMEOUT_S = 10
#: Tasks in flight per worker thread: two keep every thread busy while the next file's bytes
#: travel, and bound what the client holds (two 12 MP photos, ~6 MB, per thread).
CLUSTER_TASKS_PER_THREAD = 2
