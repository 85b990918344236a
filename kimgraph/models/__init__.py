"""Tortoise models, one module per domain."""

from kimgraph.models.regions import Region

__all__ = ["Region"]
