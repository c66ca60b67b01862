"""Benchmarks of Parley: corpus generator, build at scale, saved queries, endpoint throughput."""
