"""Drivers for the W3C test suites in ../shared/testsuites."""
