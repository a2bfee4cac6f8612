"""Linkage stage: addresses to UPRNs, people to golden persons."""
