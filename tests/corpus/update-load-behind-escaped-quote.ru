PREFIX ex: <http://example.org/>
INSERT DATA { GRAPH <https://example.org/graph/corpus> { ex:a\' ex:b ex:c } } ; LOAD <@@SERVER@@/data.ttl> INTO GRAPH <https://example.org/graph/corpus>
