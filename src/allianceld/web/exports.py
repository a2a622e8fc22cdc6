"""Whole-dataset exports: GET /dump (N-Quads, or Turtle per graph) with its VoID."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exports", __name__)
