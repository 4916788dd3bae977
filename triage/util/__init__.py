"""Helpers that know nothing about skin or photos: atomic file writes (`files`), a process pool
with progress lines (`pool`), text safe to write and print (`text`) and autoescaping HTML
templates (`templates`). Every room may use them; they import nothing of triage."""
