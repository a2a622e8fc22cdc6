PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
INSERT DATA { GRAPH <https://example.org/graph/corpus> {
  <https://example.org/a> <https://example.org/when> "2023-02-30"^^xsd:date .
} }
