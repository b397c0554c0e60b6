"""Kept for imports from tests: the embedded endpoint lives in ``backfill.local_endpoint``."""

from backfill.local_endpoint import MotoEndpoint, free_port

__all__ = ["MotoEndpoint", "free_port"]
