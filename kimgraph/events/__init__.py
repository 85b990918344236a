"""The event log, the bus that rings when it grows, and the local fan-out."""
