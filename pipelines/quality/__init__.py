"""Quality stage: data-quality gates and the run's closing summary."""
