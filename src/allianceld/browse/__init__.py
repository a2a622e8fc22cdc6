"""What pages and listings read: resource descriptions, listings, timelines, the ontology's documentation."""
