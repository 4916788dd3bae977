"""Tunables of the staff review app, each with the reason for its value."""

from __future__ import annotations

#: Share of the photos called normal that enter the review queue (chosen by sha256, so the same
#: photos for everyone): enough to catch a drifting model (~1 in 10) without burying the
#: flagged ones.
REVIEW_NORMAL_SAMPLE = 0.10
#: Staff passwords: at least this long (NIST SP 800-63B asks for >= 8; clinic data, so 10).
MIN_PASSWORD_LENGTH = 10
#: A login lasts a working shift.
SESSION_HOURS = 12
#: Login throttling: after this many failed logins for one name or from one client within the
#: window, further attempts are refused until the window has passed (OWASP: slow guessing
#: down without locking staff out for long).
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW_MINUTES = 15
#: Largest upload accepted by the import page: a zipped run of ~20,000 photos' previews.
MAX_UPLOAD_MB = 1024
