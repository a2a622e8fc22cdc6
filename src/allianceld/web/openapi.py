"""GET /openapi.json: an OpenAPI 3.1 description of the app's own endpoints.

The W3C protocols are described by their own specifications and are left out: ``/sparql`` (SPARQL
1.1 Protocol; its Service Description is served there) and ``/data`` (Graph Store HTTP Protocol),
as are the static files. Every other route is here, with its parameters, bodies, media types and
status codes; ``tests/web/test_openapi.py`` checks that the app's route table and this document agree
and fuzzes every operation against it with schemathesis.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from allianceld import __version__
from allianceld.browse.listings import ALLIANCE_TYPES
from allianceld.linking.reconciliation import MAX_LIMIT as RECONCILE_MAX
from allianceld.rdf import formats as rdfio
from allianceld.web.views.contributions import DATASET_TYPES, MAX_LIMIT
from allianceld.web.views.exports import MEDIA_TYPES as DUMP_TYPES
from allianceld.web.views.resources import FORMATS, ONTOLOGY_TYPES, RESOURCE_TYPES

bp = Blueprint("openapi", __name__)

Schema = dict[str, Any]
JSON, HTML = "application/json", "text/html"
RDF_TYPES = list(rdfio.OUTPUT_TYPES)
INPUT_TYPES = sorted(rdfio.MEDIA_TYPES)


def ref(name: str) -> Schema:
    """A reference to the schema ``name`` of ``components.schemas``."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(members: dict[str, Schema], /, **optional: Schema) -> Schema:
    """A JSON object with the required ``members`` (and ``optional`` ones); others are allowed."""
    return {"type": "object", "required": list(members), "properties": {**members, **optional}}


def array(items: Schema) -> Schema:
    """A JSON array of ``items``."""
    return {"type": "array", "items": items}


STRING, INTEGER, NUMBER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
TEXT = {"type": "string"}  # an HTML page, RDF, or any other body read as text
NULLABLE_STRING = {"type": ["string", "null"]}


def content(*media_types: str, schema: Schema | None = None) -> dict[str, Any]:
    """``media_types`` mapped to ``schema`` (application/json) or to text (the rest)."""
    return {
        m: {"schema": schema if m == JSON and schema is not None else {} if m.endswith("json") else TEXT}
        for m in media_types
    }


def answer(description: str, *media_types: str, schema: Schema | None = None, **extra: Any) -> dict[str, Any]:
    """A response object: ``description`` and its body in each of ``media_types``."""
    return {"description": description, "content": content(*media_types, schema=schema), **extra}


def errors(*statuses: int) -> dict[str, Any]:
    """Error answers: the one JSON error shape (an HTML page for browsers)."""
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def query(name: str, schema: Schema, description: str, *, required: bool = False) -> dict[str, Any]:
    """A query-string parameter."""
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def path(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    """A path parameter (a non-empty string, matching ``pattern`` when given)."""
    schema = {"type": "string", "minLength": 1, **({"pattern": pattern} if pattern else {})}
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def or_empty(schema: Schema) -> Schema:
    """``schema``, or the empty string, which these parameters take as absent (an empty form field)."""
    return {"anyOf": [schema, {"const": ""}]}


def formats(offers: list[str]) -> dict[str, Any]:
    """The ``format`` parameter of an endpoint that answers in ``offers``."""
    names = sorted(k for k, v in FORMATS.items() if v in offers)
    return query("format", {"type": "string", "enum": names}, "The answer's syntax, overriding Accept.")


DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
LIMIT = query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Items per page (default 50).")
OFFSET = query("offset", {"type": "integer", "minimum": 0}, "Items to skip.")
PAGE = query("page", {"type": "integer", "minimum": 1, "maximum": 10**6}, "Page number (instead of offset).")
ACTIVE_ON = query("active_on", or_empty(DATE), "A day: only what was active then.")
ALLIANCE_TYPE = query("type", or_empty({"type": "string", "enum": list(ALLIANCE_TYPES)}), "Alliances of this kind.")
REGION = query("region", STRING, "A region of the store, by slug (europe) or IRI.")
DAY = query("date", or_empty(DATE), "The day pictured (default: today).")
INFERENCE = query("inference", {"type": "boolean"}, "false leaves out derived triples.")
INDICATOR_STATE = query("state", STRING, "Only this state's figures (slug or IRI); the page adds its chart.")
INDICATOR_YEAR = query(
    "year", or_empty({"type": "integer", "minimum": 1, "maximum": 9999}), "Only this year's figures (YYYY)."
)
SLUG = path("slug", "The resource's slug (usa, nato).", r"^[A-Za-z0-9._~-]{1,200}$")
CONTRIBUTION_ID = path("contribution_id", "A contribution id (12 hex digits).")

# -- reconciliation --------------------------------------------------------------------------------

CALLBACK = query(
    "callback",
    or_empty({"type": "string", "maxLength": 100, "pattern": r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$"}),
    "JSONP: wrap the answer in a call of this function.",
)
RECONCILE_LIMIT = query(
    "limit", or_empty({"type": "integer", "minimum": 1, "maximum": RECONCILE_MAX}), "At most this many."
)
CURSOR = query("cursor", or_empty({"type": "integer", "minimum": 0}), "Results to skip.")
PREFIX = query("prefix", STRING, "The text typed so far.")
RECONCILE_TYPE = query("type", STRING, "A type id (ald:State, ald:Alliance).")
RECONCILE_ANSWER = answer("The answer (JSON, or JSONP with callback).", JSON, "application/javascript", schema=obj({}))
RECONCILE_PARAMS = [
    query("queries", STRING, "0.2 batch: a JSON object of queries keyed by name."),
    query("query", STRING, "0.2 single query: plain text or a JSON query object."),
    query("extend", STRING, 'Data extension: {"ids": [...], "properties": [{"id": ...}]}.'),
    query("version", or_empty({"type": "string", "enum": ["0.2", "1.0-draft"]}), "Manifest version."),
    CALLBACK,
]

# -- RDF bodies --------------------------------------------------------------------------------------

EXAMPLE_TURTLE = """\
@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/allianceld/id/alliance/nato> rdfs:comment "An example comment."@en .
"""
# a document in an RDF syntax: any text on the wire, whatever it holds ("{}" is TriG's empty graph)
DOCUMENT_TEXT: Schema = {"description": "The document, in the syntax named by Content-Type."}
# the syntax of a form's file or text: any RDF media type read here; empty for Turtle (or the file's type)
FORM_FORMAT = {"type": "string", "enum": ["", *INPUT_TYPES]}
RDF_BODY = {
    "required": True,
    "description": "RDF in any syntax listed (by Content-Type), or a form with a file or pasted text.",
    "content": {
        **{m: {"schema": DOCUMENT_TEXT} for m in INPUT_TYPES},
        "text/turtle": {"schema": DOCUMENT_TEXT, "example": EXAMPLE_TURTLE},
        # any JSON: a lone scalar (false, 1, "x") is read as an empty graph rather than refused
        "application/ld+json": {"schema": {"description": "A JSON-LD document."}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "data": STRING,
                    "format": FORM_FORMAT,
                },
            }
        },
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {"data": STRING, "format": FORM_FORMAT},
            }
        },
    },
}
REPORT_TYPES = [JSON, "text/turtle", HTML]
WRITE = [{"bearer": []}]

OPERATIONS: dict[str, dict[str, Any]] = {
    "/": {
        "get": {
            "summary": "The home page: what is in the store (HTML by default, JSON by Accept).",
            "responses": {"200": answer("The store's counts and links.", HTML, JSON, schema=ref("Home"))},
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document.",
            "responses": {"200": answer("OpenAPI 3.1.", JSON, schema=obj({"openapi": STRING, "paths": obj({})}))},
        }
    },
    "/healthz": {
        "get": {
            "summary": "Whether the store answers a query.",
            "responses": {
                "200": answer("The store answers.", JSON, schema=ref("Health")),
                "503": answer("The store fails; the error is named.", JSON, schema=ref("Health")),
            },
        }
    },
    "/.well-known/void": {
        "get": {
            "summary": "A VoID description of the dataset (RDF by Accept, Turtle by default).",
            "responses": {"200": answer("VoID.", *RDF_TYPES), **errors(406)},
        }
    },
    "/dump": {
        "get": {
            "summary": "The whole dataset, streamed.",
            "parameters": [
                query("format", {"type": "string", "enum": list(DUMP_TYPES)}, "N-Quads (default), TriG, zip."),
                INFERENCE,
            ],
            "responses": {"200": answer("The dataset.", *DUMP_TYPES.values()), **errors(400, 406)},
        }
    },
    "/ontology": {
        "get": {
            "summary": "The ontology: RDF, HTML documentation or its JSON.",
            "parameters": [formats(ONTOLOGY_TYPES)],
            "responses": {
                "200": answer("The ontology.", *ONTOLOGY_TYPES, schema=obj({"iri": STRING, "classes": array(obj({}))})),
                **errors(400, 404, 406),
            },
        }
    },
    "/id/{kind}/{slug}": {
        "get": {
            "summary": "A resource of the store (Linked Data): HTML, RDF or the page's JSON.",
            "parameters": [
                path("kind", "The kind of resource (state, alliance, membership).", r"^[a-z][a-z0-9-]{0,63}$"),
                path("slug", "The resource's slug."),
                INFERENCE,
                formats(RESOURCE_TYPES),
            ],
            "responses": {
                "200": answer("The resource.", *RESOURCE_TYPES, schema=ref("Resource")),
                **errors(400, 404, 406),
            },
        }
    },
    "/alliances": {
        "get": {
            "summary": "The alliances by label, paged and filtered.",
            "parameters": [LIMIT, OFFSET, PAGE, ACTIVE_ON, REGION, ALLIANCE_TYPE, formats([JSON, HTML])],
            "responses": {"200": answer("A page.", JSON, HTML, schema=ref("Listing")), **errors(400, 406)},
        }
    },
    "/states": {
        "get": {
            "summary": "The states by label, paged and filtered.",
            "parameters": [
                LIMIT,
                OFFSET,
                PAGE,
                ACTIVE_ON,
                REGION,
                ALLIANCE_TYPE,
                query("alliance", STRING, "Members of this alliance (slug or IRI)."),
                formats([JSON, HTML]),
            ],
            "responses": {"200": answer("A page.", JSON, HTML, schema=ref("Listing")), **errors(400, 406)},
        }
    },
    "/states/{slug}/alliances": {
        "get": {
            "summary": "The alliances a state belonged to: in a year, on a day, or ever.",
            "parameters": [
                SLUG,
                query("year", or_empty({"type": "integer", "minimum": 1, "maximum": 9999}), "Any time in this year."),
                ACTIVE_ON,
                formats([JSON, HTML]),
            ],
            "responses": {
                "200": answer(
                    "The alliances.", JSON, HTML, schema=obj({"state": obj({"iri": STRING}), "items": array(obj({}))})
                ),
                **errors(400, 404, 406),
            },
        }
    },
    "/alliances/{slug}/timeline": {
        "get": {
            "summary": "An alliance's memberships over time.",
            "parameters": [SLUG],
            "responses": {
                "200": answer("The timeline.", JSON, schema=obj({"alliance": obj({}), "items": array(obj({}))})),
                **errors(404),
            },
        }
    },
    "/network": {
        "get": {
            "summary": "States linked by the alliances they shared on a day (a page or JSON).",
            "parameters": [DAY, formats([JSON, HTML])],
            "responses": {"200": answer("The network.", JSON, HTML, schema=ref("Network")), **errors(400, 406)},
        }
    },
    "/network.json": {
        "get": {
            "summary": "The JSON of /network.",
            "parameters": [DAY],
            "responses": {"200": answer("The network.", JSON, schema=ref("Network")), **errors(400)},
        }
    },
    "/states/{slug}/network": {
        "get": {
            "summary": "A state and its allies on a day.",
            "parameters": [SLUG, DAY, formats([JSON, HTML])],
            "responses": {"200": answer("The network.", JSON, HTML, schema=ref("Network")), **errors(400, 404, 406)},
        }
    },
    "/charts": {
        "get": {
            "summary": "Alliances founded per decade, by type: a bar chart or JSON.",
            "parameters": [formats([JSON, HTML])],
            "responses": {"200": answer("The chart.", JSON, HTML, schema=ref("Chart")), **errors(400, 406)},
        }
    },
    "/charts/data": {
        "get": {
            "summary": "The chart's data.",
            "responses": {"200": answer("Counts per decade and type.", JSON, schema=ref("Chart"))},
        }
    },
    "/charts/defence-expenditure": {
        "get": {
            "summary": "NATO members' defence expenditure as a share of GDP against the 2% guideline: charts or JSON.",
            "parameters": [INDICATOR_STATE, INDICATOR_YEAR, formats([JSON, HTML])],
            "responses": {
                "200": answer("The charts.", JSON, HTML, schema=ref("DefenceExpenditure")),
                **errors(400, 406),
            },
        }
    },
    "/charts/defence-expenditure/data": {
        "get": {
            "summary": "NATO members' defence expenditure as a share of GDP, of one state and one year when given.",
            "parameters": [INDICATOR_STATE, INDICATOR_YEAR],
            "responses": {
                "200": answer("The observations.", JSON, schema=ref("DefenceExpenditure")),
                **errors(400),
            },
        }
    },
    "/reasoning": {
        "get": {
            "summary": "Derived facts, classification and consistency.",
            "responses": {
                "200": answer(
                    "The summary.",
                    JSON,
                    HTML,
                    schema=obj({"inferredGraph": STRING, "derived": obj({"triples": INTEGER}), "consistency": obj({})}),
                ),
                **errors(406),
            },
        }
    },
    "/reasoning/explain": {
        "get": {
            "summary": "How one triple holds: the rule and the triples it rests on.",
            "parameters": [
                query("s", STRING, "The subject: an IRI, <IRI> or prefixed name.", required=True),
                query("p", STRING, "The predicate.", required=True),
                query("o", STRING, 'The object: an IRI or an RDF literal ("1949-04-04"^^xsd:date).', required=True),
            ],
            "responses": {
                "200": answer("The explanation.", JSON, HTML, schema=obj({"status": STRING, "triple": obj({})})),
                **errors(400, 404, 406, 501),
            },
        }
    },
    "/validate": {
        "post": {
            "summary": "A dry run of the write gate: the SHACL report of the posted data; nothing is written.",
            "requestBody": RDF_BODY,
            "responses": {
                "200": answer("The report.", *REPORT_TYPES, schema=ref("Report")),
                **errors(400, 406, 413, 415, 429, 503),
            },
        }
    },
    "/contributions": {
        "get": {
            "summary": "The contributions, newest first.",
            "parameters": [LIMIT, OFFSET],
            "responses": {
                "200": answer(
                    "A page.", JSON, HTML, schema=obj({"items": array(ref("Contribution")), "total": INTEGER})
                ),
                **errors(400, 406),
            },
        },
        "post": {
            "summary": "Validate and commit RDF into a named graph of its own, with PROV-O provenance.",
            "security": WRITE,
            "parameters": [
                query("source", {"type": "string", "format": "iri"}, "Where the data comes from (an IRI)."),
                query("license", {"type": "string", "format": "iri"}, "The data's licence (an IRI)."),
                query("comment", STRING, "A note on the contribution."),
            ],
            "requestBody": RDF_BODY,
            "responses": {
                "201": answer(
                    "Committed; Location names the contribution.",
                    JSON,
                    schema=ref("Contribution"),
                    headers={"Location": {"schema": STRING, "required": True}},
                ),
                **errors(400, 401, 403, 413, 415),
                "422": {"$ref": "#/components/responses/Refused"},
            },
        },
    },
    "/contributions/{contribution_id}": {
        "get": {
            "summary": "One contribution: its record and its data.",
            "parameters": [CONTRIBUTION_ID],
            "responses": {
                "200": answer(
                    "The contribution.",
                    JSON,
                    HTML,
                    *DATASET_TYPES,
                    *RDF_TYPES,
                    schema=ref("Contribution"),
                ),
                **errors(404, 406),
            },
        },
        "delete": {
            "summary": "Retract a contribution (admin); its record is kept.",
            "security": WRITE,
            "parameters": [CONTRIBUTION_ID, query("reason", STRING, "Why it is retracted.")],
            "responses": {
                "200": answer("Retracted.", JSON, schema=ref("Contribution")),
                **errors(401, 403, 404, 409),
                "422": {"$ref": "#/components/responses/Refused"},
            },
        },
    },
    "/writes/{key}": {
        "get": {
            "summary": "Whether the write with this Idempotency-Key landed: its record (200), or 404 write-not-landed "
            "with its state (in-flight, unknown, not-landed). Every write takes an Idempotency-Key header; a write "
            "whose outcome the remote store did not tell in time is answered 202 write-outcome-unknown.",
            "security": WRITE,
            "parameters": [path("key", "The write's Idempotency-Key.", r"^[A-Za-z0-9._~:=+-]{1,200}$")],
            "responses": {
                "200": answer(
                    "The write landed.",
                    JSON,
                    schema=obj(
                        {"key": STRING, "state": STRING, "at": STRING, "status": INTEGER, "request": STRING},
                        agent=NULLABLE_STRING,
                        location=NULLABLE_STRING,
                        contribution=NULLABLE_STRING,
                    ),
                ),
                **errors(400, 401, 403, 404),
            },
        }
    },
    "/admin/backup": {
        "post": {
            "summary": "Back up the store (admin), in the server, between two writes, into a new directory "
            "under ALLIANCELD_BACKUP_DIR; 409 for an in-memory store.",
            "security": WRITE,
            "responses": {
                "201": answer(
                    "Backed up: where, and the backup's manifest.",
                    JSON,
                    schema=obj(
                        {
                            "directory": STRING,
                            "manifest": obj(
                                {"format": STRING, "created": STRING, "method": STRING, "quads": INTEGER},
                                graphs=INTEGER,
                                ontology_sha256=NULLABLE_STRING,
                            ),
                        }
                    ),
                ),
                **errors(401, 403, 409),
            },
        }
    },
    "/import/{kind}": {
        "post": {
            "summary": "Load RDF files (rdf, as allianceld load) or import the ATOP or COW CSV files (atop, cow, "
            "as allianceld import) in the server: streamed to disk up to ALLIANCELD_MAX_IMPORT_BYTES, validated "
            "and committed atomically; the answer is what the command prints and its exit code.",
            "security": WRITE,
            "parameters": [
                path("kind", "What the files are.", r"^(rdf|atop|cow)$"),
                query("graph", STRING, "rdf: the named graph for all files (default: one per file, named after it)."),
                query("force", {"type": "string", "enum": ["true", "false"]}, "rdf: write despite violations."),
                query(
                    "partial", {"type": "string", "enum": ["true", "false"]}, "atop, cow: leave out unplaceable rows."
                ),
                query("report", STRING, "atop, cow: the report file's name, shown in the messages (never written)."),
                query("store", STRING, "atop, cow: the store path the default report name is made from."),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": obj(
                            {
                                "name": array(STRING),
                                "file": array({"type": "string", "contentMediaType": "application/octet-stream"}),
                            },
                            base=array(STRING),
                        )
                    }
                },
            },
            "responses": {
                **{
                    status: answer(
                        text,
                        JSON,
                        schema=obj(
                            {
                                "code": INTEGER,
                                "lines": array(array({"type": ["string", "boolean"]})),
                                "failure": NULLABLE_STRING,
                            },
                            graph=STRING,
                            report_csv=STRING,
                        ),
                    )
                    for status, text in (
                        ("200", "Written (code 0)."),
                        ("422", "Refused by validation or the import's checks (code 1), nothing written."),
                    )
                },
                **errors(400, 401, 403, 404, 413, 415),
            },
        }
    },
    "/reconcile": {
        "get": {
            "summary": "W3C Reconciliation API: the manifest, or the answer to queries, query or extend.",
            "parameters": RECONCILE_PARAMS,
            "responses": {"200": RECONCILE_ANSWER, **errors(400, 404)},
        },
        "post": {
            "summary": "The same as GET, as a form; or a 1.0-draft JSON body of queries.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {"queries": STRING, "query": STRING, "extend": STRING, "callback": STRING},
                        }
                    },
                    JSON: {"schema": obj({"queries": {**array(ref("DraftQuery")), "maxItems": 1000}})},
                },
            },
            "responses": {"200": RECONCILE_ANSWER, **errors(400, 404)},
        },
    },
    "/reconcile/match": {
        "post": {
            "summary": "1.0-draft reconciliation of a JSON body of queries with conditions.",
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": obj({"queries": {**array(ref("DraftQuery")), "maxItems": 1000}})}},
            },
            "responses": {"200": RECONCILE_ANSWER, **errors(400, 404)},
        }
    },
    "/reconcile/preview": {
        "get": {
            "summary": "A small HTML card of an entity.",
            "parameters": [query("id", STRING, "An entity id (alliance/nato).", required=True)],
            "responses": {"200": answer("The card.", HTML), **errors(400, 404)},
        }
    },
    "/reconcile/suggest/entity": {
        "get": {
            "summary": "Autocomplete states and alliances.",
            "parameters": [PREFIX, RECONCILE_TYPE, RECONCILE_LIMIT, CURSOR, CALLBACK],
            "responses": {"200": RECONCILE_ANSWER, **errors(400, 404)},
        }
    },
    "/reconcile/suggest/type": {
        "get": {
            "summary": "Autocomplete types.",
            "parameters": [PREFIX, RECONCILE_LIMIT, CURSOR, CALLBACK],
            "responses": {"200": RECONCILE_ANSWER, **errors(400)},
        }
    },
    "/reconcile/suggest/property": {
        "get": {
            "summary": "Autocomplete properties.",
            "parameters": [PREFIX, RECONCILE_TYPE, RECONCILE_LIMIT, CURSOR, CALLBACK],
            "responses": {"200": RECONCILE_ANSWER, **errors(400, 404)},
        }
    },
    "/reconcile/propose_properties": {
        "get": {
            "summary": "The properties data extension can fetch for a type.",
            "parameters": [{**RECONCILE_TYPE, "required": True}, RECONCILE_LIMIT, CALLBACK],
            "responses": {"200": RECONCILE_ANSWER, **errors(400, 404)},
        }
    },
}

ERROR = obj({"error": STRING, "status": INTEGER, "message": STRING})
STATUS_TEXT = {
    400: "Bad request: the parameter or body named is wrong.",
    401: "No valid bearer token.",
    403: "The token's role may not do this.",
    404: "No such resource.",
    406: "None of the accepted media types is offered.",
    409: "The resource's state forbids it (already retracted).",
    413: "The body is larger than ALLIANCELD_MAX_BODY_BYTES.",
    415: "The Content-Type is not an RDF syntax this service reads.",
    429: "This client already has as much of this work under way as one client may; retry after Retry-After s.",
    503: "The server already does as much of this work as it takes at once; retry after Retry-After s.",
    501: "Not available with a remote store.",
}
COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `allianceld token create` (contributor or admin).",
        }
    },
    "responses": {
        **{f"E{s}": answer(text, JSON, HTML, schema=ref("Error")) for s, text in STATUS_TEXT.items()},
        "Refused": answer(
            "Refused: the report (the data violates the shapes) or the verdict; nothing written.",
            JSON,
            "text/turtle",
            HTML,
            schema=ref("Error"),
        ),
    },
    "schemas": {
        "Error": ERROR,
        "DraftQuery": obj(
            {"conditions": {**array(ref("Condition")), "minItems": 1}},
            type={"anyOf": [STRING, array(STRING)]},
            limit={"type": ["integer", "number", "string"], "description": f"1 to {RECONCILE_MAX} (5 if absent)."},
        ),
        # the members a condition's matchType does not use are ignored, whatever they hold
        "Condition": obj(
            {
                "matchType": {"type": "string", "enum": ["name", "id", "property"]},
                "propertyValue": {"description": "The name's text, the id, or the property's value(s)."},
            },
            propertyId={"description": "The property (matchType property): one of propose_properties'."},
            required={"description": "matchType property: a candidate must have the value."},
        ),
        "Report": obj(
            {
                "conforms": BOOLEAN,
                "accepted": BOOLEAN,
                "violations": INTEGER,
                "warnings": INTEGER,
                "infos": INTEGER,
                "results": array(ref("Result")),
            }
        ),
        "Result": obj(
            {
                "severity": STRING,
                "focusNode": NULLABLE_STRING,
                "sourceShape": NULLABLE_STRING,
                "message": NULLABLE_STRING,
            },
            path=NULLABLE_STRING,
            value=NULLABLE_STRING,
            constraint=NULLABLE_STRING,
        ),
        "Home": obj(
            {"name": STRING, "version": STRING, "counts": obj({}), "triples": INTEGER, "graphs": array(STRING)}
        ),
        "Health": obj(
            {"status": {"type": "string", "enum": ["ok", "unavailable"]}, "version": STRING},
            store_ms=NUMBER,
            error=STRING,
            # with an on-disk store: the query workers, and how many answer from an up-to-date copy in memory
            query_workers=obj({"workers": INTEGER, "in_memory": INTEGER, "memory": BOOLEAN, "version": INTEGER}),
        ),
        "Listing": obj(
            {
                "items": array(obj({"iri": STRING, "label": NULLABLE_STRING})),
                "total": INTEGER,
                "limit": INTEGER,
                "offset": INTEGER,
                "filters": obj({}),
                "next": NULLABLE_STRING,
                "previous": NULLABLE_STRING,
            }
        ),
        "Network": obj(
            {
                "date": STRING,
                "nodes": array(obj({"id": STRING, "iri": STRING})),
                "edges": array(obj({"source": STRING, "target": STRING, "alliances": array(STRING)})),
                "alliances": array(obj({"id": STRING, "iri": STRING})),
                "range": obj({"first": STRING, "last": STRING}),
            }
        ),
        "Chart": obj({"decades": array(obj({"decade": INTEGER, "counts": obj({})})), "types": array(obj({}))}),
        "DefenceExpenditure": obj(
            {
                "dataset": STRING,
                "guideline": NUMBER,
                "years": array(INTEGER),
                "observations": array(
                    obj(
                        {
                            "state": STRING,
                            "year": INTEGER,
                            "share": NUMBER,
                            "meetsGuideline": BOOLEAN,
                            "estimate": BOOLEAN,
                            "member": BOOLEAN,
                        },
                        report=NULLABLE_STRING,
                    )
                ),
            }
        ),
        "Resource": obj({"iri": STRING, "types": array(obj({})), "facts": array(obj({})), "triples": INTEGER}),
        "Contribution": obj(
            {"id": STRING, "url": STRING, "graph": STRING, "agent": STRING, "time": STRING, "triples": INTEGER},
            source=NULLABLE_STRING,
            license=NULLABLE_STRING,
            comment=NULLABLE_STRING,
            retracted=NULLABLE_STRING,
        ),
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "allianceld",
        "version": __version__,
        "description": (
            "The knowledge base's own HTTP API. SPARQL 1.1 Query and Update (/sparql) and the Graph "
            "Store HTTP Protocol (/data) follow their W3C specifications and are not described here. "
            "Reads are public; writes need a bearer token. Errors share one JSON shape "
            '{"error", "status", "message", ...}; a browser (Accept: text/html) gets an HTML page.'
        ),
    },
    "paths": OPERATIONS,
    "components": COMPONENTS,
}


@bp.get("/openapi.json")
def document() -> Response:
    """This app's OpenAPI document (:data:`DOCUMENT`)."""
    return jsonify(DOCUMENT)
