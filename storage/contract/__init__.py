"""The storage contract: one suite, run against every backend through the interfaces only."""
