"""Webhooks: partner apps told of events by HTTPS POST (docs/webhooks.md)."""
