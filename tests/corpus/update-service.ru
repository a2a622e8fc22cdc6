INSERT { GRAPH <https://example.org/graph/corpus> { ?s ?p ?o } }
WHERE { SERVICE <@@SERVER@@/sparql> { ?s ?p ?o } }
