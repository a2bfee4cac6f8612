"""The hub's service layer over the store (ingest, address and person resolution, golden records, events) and the ``mdh`` CLI."""
