"""supercollapse."""
