"""Publish stage: golden IDs, UPRNs and change events back to the source systems."""
