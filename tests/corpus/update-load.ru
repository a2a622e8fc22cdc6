LOAD <@@SERVER@@/data.ttl> INTO GRAPH <https://example.org/graph/corpus>
