"""Training: snapshots through the consent gate, DP aggregates, releases, registry."""
