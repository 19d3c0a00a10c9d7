"""The run store (one verified folder per run, named by its config's key) and the provenance of runs."""
