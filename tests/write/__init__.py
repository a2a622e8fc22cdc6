"""Tests of the write gate, contributions, the graph policy and SPARQL Update."""
