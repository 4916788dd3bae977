"""The staff review app: store (the review database: accounts, sessions, imported runs, photos
and every decision, SQLite or PostgreSQL through SQLAlchemy), rows (a run checked against the
contract before import), archive (an uploaded zip read within caps), guard (Host names, Secure
cookies, the login form's token) and app (`triage serve`, FastAPI). It consumes result rows and
their previews; it never measures or decides itself. Tunables live in `config`.

May use: triage.run (the run folder's files), triage.decide (the levels), triage.util.
"""
