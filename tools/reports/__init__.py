"""Figures for docs/: robustness, numbers, fine-tuning and the style set, and the tables they fill."""
