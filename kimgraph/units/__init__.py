"""Units (perangkat daerah / OPD): management, membership, disposition targets."""
