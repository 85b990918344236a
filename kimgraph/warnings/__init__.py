"""BMKG early warnings: fetch CAP 1.2 documents, match areas, publish or review."""
