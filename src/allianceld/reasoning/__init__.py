"""Reasoning: OWL 2 RL materialisation, the domain rules and their scope, OWL 2 DL checks, explanations."""
