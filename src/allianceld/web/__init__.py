"""The Flask application factory: one blueprint per concern, one KnowledgeBase per app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from allianceld.config import Settings
from allianceld.web import bodies, http_errors, ld_markup, openapi, page_cache, unicode_input, write_keys
from allianceld.web.services import Services, init_services
from allianceld.web.views import (
    admin,
    contributions,
    exports,
    graph_store,
    imports,
    indicators,
    metadata,
    operations,
    pictures,
    reasoning,
    reconcile,
    resources,
    sparql,
    ui,
    validate,
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` may set ``SETTINGS`` (a :class:`Settings`), ``KB`` (an open
    KnowledgeBase to use), ``LOAD_SHIPPED`` (load the ontology and shipped data at start) and ``WARM``
    (start the query workers' copies and, with the OWL 2 DL check on, HermiT's worker at once, as
    ``allianceld serve`` does).

    >>> app = create_app({"SETTINGS": Settings(store_path=None), "LOAD_SHIPPED": True})
    >>> app.test_client().get("/").status_code
    200
    """
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(SETTINGS=None, KB=None, LOAD_SHIPPED=False)
    if test_config:
        app.config.update(test_config)
    settings: Settings = app.config["SETTINGS"] or Settings()
    _ = settings.public_url  # a malformed ALLIANCELD_BASE_URL stops here, not at the first request
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # larger bodies get 413
    init_services(app, settings)
    http_errors.init_app(app)
    write_keys.init_app(app)  # every write's Idempotency-Key, /writes/<key>, an unknown outcome as 202
    operations.init_app(app)
    bodies.init_app(app, settings.max_body_bytes)  # a body is read whole or refused
    ld_markup.init_app(app)  # the pages' links, terms and dates; only safe IRIs become links
    unicode_input.init_app(app)  # malformed Unicode anywhere is a 400
    blueprints = (
        ui,
        sparql,
        validate,
        contributions,
        reasoning,
        metadata,
        graph_store,
        imports,
        resources,
        reconcile,
        exports,
        pictures,
        indicators,
        operations,
        openapi,
        admin,
    )
    for bp in (m.bp for m in blueprints):
        app.register_blueprint(bp)
    services: Services = app.extensions["allianceld"]
    page_cache.init_app(app, services.kb, settings.page_cache_bytes)  # last: reads the version last
    return app


__all__ = ["Services", "create_app"]
