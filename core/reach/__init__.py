"""Cross-network reach: metric snapshots collected over time, and the aggregates built on them."""
