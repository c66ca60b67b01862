"""Saved SPARQL queries, one .rq file each; the file stem is the query id."""
