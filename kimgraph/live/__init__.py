"""Everything between the event log and a socket: hub, sharing, outbox, protocol."""
