"""Tests of backup, export and migration."""
