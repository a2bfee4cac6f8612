"""Reference data stage: the corporate address gazetteer."""
