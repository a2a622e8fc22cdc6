"""Tests of OWL 2 RL, the domain rules, OWL 2 DL checks and explanations."""
