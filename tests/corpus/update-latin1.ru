INSERT DATA { GRAPH <https://example.org/graph/corpus> { <https://example.org/a> <https://example.org/b> "café" } }
