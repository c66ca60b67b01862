"""The Parley library: build, validate, reason, link, store and query the graph."""
