"""Analyses of long frames: frames, the compute-optimal horizon, collapse metrics, the diagnostic, importers."""
