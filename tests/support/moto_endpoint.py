"""Kept for imports from tests: the embedded endpoint lives in ``localdev.endpoint``."""

from localdev.endpoint import MotoEndpoint, free_port

__all__ = ["MotoEndpoint", "free_port"]
