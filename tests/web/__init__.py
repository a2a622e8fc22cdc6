"""Tests of the Flask app and the real server."""
