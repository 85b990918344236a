"""Regions: Kemendagri code arithmetic, reads, and the reference-data importer."""

from kimgraph.models.regions import RegionLevel
from kimgraph.regions.codes import (
    InvalidRegionCode,
    ancestors_of,
    fold_name,
    is_within,
    level_of,
    parent_of,
    validate,
)

__all__ = [
    "InvalidRegionCode",
    "RegionLevel",
    "ancestors_of",
    "fold_name",
    "is_within",
    "level_of",
    "parent_of",
    "validate",
]
