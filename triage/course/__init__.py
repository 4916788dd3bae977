"""Each patient against their own baseline and their own course.

A photo is first measured alone (triage.measure); when the manifest names its patient, the
photos of that patient are taken in day order and each one is also compared with the photo taken
before the treatment (the baseline) and with the earlier photos after it (triage.course.features).
What a later photo needs of an earlier one is its summary (triage.course.summary): a few numbers,
never pixels, so a patient's photos can be compared whatever their framing and in any worker.

May use: triage.measure, triage.util.
"""
