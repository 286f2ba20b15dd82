"""Evaluation: a model (and its base) on held-out rows, every metric overall and per behavior."""
