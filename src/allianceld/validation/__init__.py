"""SHACL validation: the validator, the shapes compiled to SPARQL, and the scope of incremental checks."""
