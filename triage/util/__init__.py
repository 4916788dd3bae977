"""Helpers that know nothing about skin or photos: atomic file writes (`files`), a process pool
(`pool`), progress on stderr (`progress`), where shipped files are found (`shipped`), the order
of a patient's photos (`series`), text safe to write and print (`text`) and autoescaping HTML
templates (`templates`). Every room may use them; they import nothing of triage."""
