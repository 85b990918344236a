"""Reporters' personal data and webhook secrets at rest (docs/privacy.md).

Encryption, key rotation, erasure. Kept free of imports here: kimgraph.models
imports kimgraph.pii.fields.
"""
