"""RDF text in and out: parsing and serialising formats, literal checks, nesting-depth and XML input limits."""
