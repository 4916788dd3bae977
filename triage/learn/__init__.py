"""Learning from labelled photos: datasets (the contract's folder layout, measured with a feature
cache), train (fit, calibrate, write the model and its card), evaluate (metrics overall, per
ITA band and day band, beside the plain policy rules), registry (the model history: register,
promote, roll back) and retrain (a new model from reviewed photos, compared with the default).
Tunables live in `config`.

May use: triage.run (the feature cache), triage.synth (generated photos), triage.pipeline,
triage.measure, triage.decide, triage.util.
"""
