"""Helpers that know nothing about skin or photos: atomic file writes (`files`) and a process
pool with progress lines (`pool`). Every room may use them; they import nothing of triage."""
