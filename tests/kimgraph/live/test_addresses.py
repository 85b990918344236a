"""The per-address WebSocket cap: counted per address (IPv6 per /64), released."""

from __future__ import annotations

from kimgraph.live.addresses import ConnectionsPerAddress


def test_an_address_holds_at_most_its_cap_and_a_release_makes_room() -> None:
    cap = ConnectionsPerAddress(limit=2)
    before = ConnectionsPerAddress.refused
    keys = [cap.open("203.0.113.7"), cap.open("203.0.113.7")]
    assert keys == ["203.0.113.7", "203.0.113.7"]
    # the third is refused, and counted; another address is not affected
    assert cap.open("203.0.113.7") is None
    assert ConnectionsPerAddress.refused == before + 1
    assert cap.open("203.0.113.8") == "203.0.113.8"
    # one released: room for exactly one more
    cap.release("203.0.113.7")
    assert cap.count("203.0.113.7") == 1
    assert cap.open("203.0.113.7") == "203.0.113.7"
    assert cap.open("203.0.113.7") is None


def test_ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() -> None:
    cap = ConnectionsPerAddress(limit=2)
    assert cap.open("2001:db8:1:2::a") == "2001:db8:1:2::/64"
    assert cap.open("2001:db8:1:2:ffff::b") == "2001:db8:1:2::/64"
    # a third host of the same /64 is refused; another /64 is not
    assert cap.open("2001:db8:1:2::c") is None
    assert cap.open("2001:db8:1:3::a") == "2001:db8:1:3::/64"
    assert cap.open("::ffff:198.51.100.1") == "198.51.100.1"


def test_releasing_every_socket_forgets_the_address() -> None:
    cap = ConnectionsPerAddress(limit=1)
    key = cap.open(None)
    assert key == "unknown"
    cap.release(key)
    assert cap.count(None) == 0
    assert cap.open(None) == "unknown"
