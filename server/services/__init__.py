"""Use cases: each takes a unit of work (or the storage) and does one thing."""
