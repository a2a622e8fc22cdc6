"""Tests of what pages and listings read."""
