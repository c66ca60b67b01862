"""The default corpus: source texts, curated triples and the Wikidata extract."""
