"""Quality stage: Great Expectations gates as asset checks, the run's closing summary and the analysts' report."""
