INSERT DATA { GRAPH <https://w3id.org/allianceld/graph/inferred> {
  <https://example.org/a> <https://example.org/b> <https://example.org/c> .
} }
