"""Tunables of the staff review app, each with the reason for its value."""

from __future__ import annotations

#: Share of the photos called normal that enter the review queue (chosen by sha256, so the same
#: photos for everyone): enough to catch a drifting model (~1 in 10) without burying the
#: flagged ones.
REVIEW_NORMAL_SAMPLE = 0.10
#: Longest patient id an imported row may carry (characters): a clinic's record number or a
#: pseudonym is tens of characters; 200 leaves room for a prefixed scheme ("clinic-a:2024:...")
#: while no row can pass a paragraph off as an id on every page of that patient. `triage run`
#: cuts ids at run/config.py MAX_PATIENT_ID_LENGTH (100), so its rows always pass; the margin is
#: for rows written by other tools or a later version.
MAX_PATIENT_ID = 200
#: A photo's page lists at most this many of the same patient's other photos on each side of it
#: (earlier, later; the nearest in day order): a follow-up has a handful, and an id shared by
#: thousands of photos by mistake must not make every page of them huge.
PATIENT_PHOTOS_EACH_SIDE = 30
#: Staff passwords: at least this long (NIST SP 800-63B asks for >= 8; clinic data, so 10).
MIN_PASSWORD_LENGTH = 10
#: A login lasts a working shift.
SESSION_HOURS = 12
#: A login form is filled in within minutes; its token is refused (the form reloaded) after an
#: hour, so a token an attacker fetched for themselves cannot be planted for long.
LOGIN_FORM_MINUTES = 60
#: Login throttling (OWASP: slow guessing down without locking staff out for long): past these
#: failed logins within the window, further attempts are refused until the window has passed.
#: Checked and recorded in one step, so a burst of attempts cannot all slip past.
LOGIN_WINDOW_MINUTES = 15
#: One name from one client: a person who mistypes their password gets five tries.
LOGIN_MAX_FAILURES = 5
#: One name from any client: guessing one account from many addresses. Above the per-client
#: limit so that one person's mistakes do not lock their name on every other machine.
LOGIN_MAX_FAILURES_PER_NAME = 20
#: One client, any names: password spraying. High because a whole clinic can share one address
#: (a NAT, a proxy, everyone on this machine's loopback): their mistakes must not lock each other out.
LOGIN_MAX_FAILURES_PER_CLIENT = 100
#: Password checks at once: each argon2id verification takes 64 MiB (argon2-cffi's RFC 9106
#: low-memory profile) and a core; two bound a burst of logins to 128 MiB on a 2-core server.
PASSWORD_HASHES_AT_ONCE = 2
#: Largest upload accepted by the import page: a zipped run of ~20,000 photos' previews.
MAX_UPLOAD_MB = 1024
#: An uploaded zip is read member by member within these caps, checked against each member's
#: declared size before anything is read and again while reading (headers can lie), so that a
#: small zip cannot inflate into the server's memory (a zip bomb). results.jsonl: ~50,000 rows of
#: ~2 KB, twice the rows of the largest run an upload of MAX_UPLOAD_MB holds.
MAX_RESULTS_MB = 100
#: run.json: settings and counts, a few KB; room for a run given thousands of input paths.
MAX_RUN_JSON_MB = 16
#: One preview: the report's 320-px JPEGs are 10-30 KB.
MAX_PREVIEW_MB = 2
#: All the members an import reads, together: the upload itself (previews are JPEGs, which do not
#: compress) plus the largest results.jsonl and run.json.
MAX_UNZIPPED_MB = MAX_UPLOAD_MB + MAX_RESULTS_MB + MAX_RUN_JSON_MB
#: Uploads imported at once: each holds up to MAX_RESULTS_MB of rows in memory while they are
#: checked and written; one at a time bounds the server's memory (the others wait their turn).
IMPORTS_AT_ONCE = 1
#: The zip's directory, measured before it is parsed (parsing takes ~10 times its size in memory):
#: ~100,000 members of ~160 bytes, a run of ~50,000 photos with both previews.
MAX_ZIP_DIRECTORY_MB = 16
