"""Fault harness (issue 16): several processes behind HAProxy, under faults.

`bench.faults.run.run(Config(...))` starts a PostgreSQL database, a Redis of its
own, N `kimgraph serve` processes and HAProxy in front of them; loads them with
boards (the board's own documents), partner apps and publishers; kills, stops and
restarts things at random moments; and checks that every client received exactly
the log events visible to it. Used by tests/faults/ (short) and bench/soak.py
(long). docs/live-delivery.md, "Under faults", says what is guaranteed.
"""
