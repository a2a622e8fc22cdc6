"""Tests of identity links and reconciliation."""
