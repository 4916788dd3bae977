"""Helpers that know nothing about skin or photos: atomic file writes (`files`), a process pool
with progress lines (`pool`) and text safe to write and print (`text`). Every room may use them;
they import nothing of triage."""
