"""Ingest stage: one extract asset per configured source."""
