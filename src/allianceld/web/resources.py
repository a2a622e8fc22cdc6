"""Linked Data pages: /id/<kind>/<slug>, /ontology, and the paged listings /alliances and /states."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("resources", __name__)
