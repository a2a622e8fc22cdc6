INSERT DATA { <https://example.org/a> <https://example.org/b> }
