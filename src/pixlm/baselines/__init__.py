"""Baselines to compare pixel models with at equal budget."""
