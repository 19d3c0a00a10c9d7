"""Task registry: data sources of the training tasks."""
