import os
import tempfile

# Tests never touch the user's cache: one fresh cache for the whole session (set before any import of it).
os.environ.setdefault("SUPERCOLLAPSE_CACHE", tempfile.mkdtemp(prefix="supercollapse-test-cache-"))
os.environ.setdefault("SUPERCOLLAPSE_PROGRESS", "0")
