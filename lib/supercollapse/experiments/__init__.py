"""Named ladders: which configs an experiment trains at each scale. Configs only: no I/O, no fitting.

Importing this package registers every ladder (`registry.ladders()`).
"""
from . import mlp  # noqa: F401  (registers the MLP ladders)
from . import schedules  # noqa: F401  (registers the schedule ladders on the wide MLP family)
from . import transformers  # noqa: F401  (registers the transformer ladders)
