"""Dagster definitions: the only package that imports dagster. Assets are thin and call the hub's service layer."""
