"""The training engine: run configs, the task registry, models, optimizer, the jitted training loop."""
