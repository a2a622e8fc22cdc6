"""Identity links: discovering owl:sameAs candidates, and the reconciliation service's matching."""
