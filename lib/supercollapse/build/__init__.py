"""Papermill execution of chapters with the executed-notebook cache, and the static site."""
