"""Tests of the ATOP and COW importers."""
