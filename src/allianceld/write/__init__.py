"""The write path: the one write gate, contributions, provenance records, the graph policy, SPARQL Update."""
