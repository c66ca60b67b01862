"""The Parley web server: SPARQL 1.1 Protocol endpoint, saved-query API and UI."""
