"""The staff review app: store (the review database: accounts, sessions, imported runs, photos
and every decision, SQLite or PostgreSQL through SQLAlchemy) and app (`triage serve`, FastAPI).
It consumes result rows and their previews; it never measures or decides itself. Tunables live
in `config`.

May use: triage.run (the run folder's files), triage.decide (the levels), triage.util.
"""
