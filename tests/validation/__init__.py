"""Tests of SHACL validation."""
