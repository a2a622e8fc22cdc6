"""The W3C Entity Reconciliation API at /reconcile (what OpenRefine speaks) over states and alliances."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reconcile", __name__)
