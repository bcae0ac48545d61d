"""Submissions: validated requests, the on-disk evaluation queue, and its executors (local, Ray)."""
