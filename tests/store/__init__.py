"""Tests of the KnowledgeBase, its backends, query workers and the federation guard."""
