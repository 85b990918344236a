"""Reporters' personal data at rest: encryption, rotation, erasure (docs/privacy.md).

Kept free of imports here: kimgraph.models imports kimgraph.pii.fields.
"""
