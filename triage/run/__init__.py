"""Folders to result files: discover (which files), batch (`triage run`: the pipeline mapped over
a process pool, crash-safe result files), results (the run folder's files), previews (thumbnail
and findings overlay), report (report.html), inspect (one photo's stages as PNGs) and the
feature cache. Tunables live in `config`.

May use: triage.pipeline, triage.measure, triage.decide, triage.util.
"""
