"""Tests of parsing, literals and input limits."""
