"""Numbers to a level and words: nothing about pixels.

model (a logistic regression over spline terms of the features, temperature-calibrated, exact
contributions) -> policy (TRIAGE_POLICY.md as code) -> explain (the reasons in plain words, read
from the model that decided); bands (ITA and day bands); modelfile (the strict model-file reader
and which file is the default). Tunables live in `config`.

May use: triage.util. Never: triage.measure (the model knows its features by the names it was
trained on) or anything above it.
"""
