"""OpenAPI 3.1 built from the same pydantic models that validate requests; docs served offline."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.rules.idempotency import HEADER, MAX_KEY_LENGTH
from webhooks.admin import OPERATIONS
from webhooks.admin.idempotent import REPLAYED
from webhooks.admin.routing import Operation
from webhooks.responses import json_response
from webhooks.schemas import ErrorOut

STATIC = Path(__file__).parent / "static"
REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Refused: already exists, an impossible status change, or a range of days refused",
    401: "Missing or wrong bearer token",
    404: "Not found",
    409: f"A request with the same {HEADER} is still in progress; retry shortly",
    422: "Invalid input",
}

_REPLAYED_HEADER = {
    "description": f"`true` when this is the remembered answer to an earlier request "
    f"with the same {HEADER}",
    "schema": {"type": "string", "enum": ["true"]},
}
_IDEMPOTENCY_KEY = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the same key with the same body (compared as canonical JSON) "
        "within 24 h gets the first successful answer again, with the header "
        f"`{REPLAYED}: true`, and creates nothing more. The same key with another body "
        "gets 422; while the first request with the key is still running, another gets "
        "409. A request that was refused is not remembered."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[\\x20-\\x7E]+$",
    },
}


def _parameters(model: type[BaseModel], where: str, defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    for prop in schema["properties"].values():
        # An omitted optional parameter is simply absent; a null default would not validate.
        if "default" in prop and prop["default"] is None:
            del prop["default"]
    return [
        {"name": name, "in": where, "required": where == "path" or name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _operation(
    op: Operation, refs: dict[type[BaseModel], Any], defs: dict[str, Any]
) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    if op.path_params:
        params += _parameters(op.path_params, "path", defs)
    if op.query:
        params += _parameters(op.query, "query", defs)
    if op.idempotent:
        params.append(_IDEMPOTENCY_KEY)
    responses: dict[str, Any] = {}
    for code, model in op.responses.items():
        if model is None and op.media_type is not None:
            responses[str(code)] = {
                "description": "Success",
                "content": {op.media_type: {"schema": {"type": "string"}}},
            }
        elif model is None:
            responses[str(code)] = {"description": "No content"}
        else:
            responses[str(code)] = {
                "description": "Success",
                "content": {"application/json": {"schema": refs[model]}},
            }
            if op.idempotent:
                responses[str(code)]["headers"] = {REPLAYED: _REPLAYED_HEADER}
    for code in sorted({*op.errors, 401, 422}):
        responses[str(code)] = {
            "description": _ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": refs[ErrorOut]}},
        }
    out: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{op.method.lower()}_{op.path.strip('/').replace('/', '_').replace('{', '').replace('}', '').replace('-', '_')}",
        "parameters": params,
        "responses": responses,
    }
    if op.body:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[op.body]}},
        }
    return out


def build_spec(operations: list[Operation] = OPERATIONS) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorOut}
    for op in operations:
        models.update(m for m in op.responses.values() if m is not None)
        if op.body:
            models.add(op.body)
    ordered = sorted(models, key=lambda m: m.__name__)
    mapping, top = models_json_schema(
        [(m, "validation" if _is_input(m, operations) else "serialization") for m in ordered],
        ref_template=REF,
    )
    refs = {
        m: mapping[(m, "validation" if _is_input(m, operations) else "serialization")]
        for m in ordered
    }
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, defs)
    paths.update(_probe_paths(refs[ErrorOut]))
    paths["/metrics"] = _metrics_path(refs[ErrorOut])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Waitlist admin API",
            "version": importlib.metadata.version("waitlist"),
            "description": "Users, service accounts and the daily appointment queues.",
        },
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "metrics": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "METRICS_TOKEN (not the admin token)",
                },
            },
        },
        "security": [{"bearer": []}],
    }


def _probe_paths(error_ref: dict[str, Any]) -> dict[str, Any]:
    """/healthz and /readyz, open without the token (load balancers send none)."""

    def status(value: str, description: str) -> dict[str, Any]:
        schema = {
            "type": "object",
            "properties": {"status": {"const": value}},
            "required": ["status"],
        }
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    def probe(name: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
        return {
            "get": {
                "summary": summary,
                "tags": ["operations"],
                "operationId": f"get_{name}",
                "security": [],
                "responses": responses,
            }
        }

    return {
        "/healthz": probe(
            "healthz",
            "Liveness: the process answers, whatever the database does",
            {"200": status("ok", "The process is up")},
        ),
        "/readyz": probe(
            "readyz",
            "Readiness: the database answers SELECT 1 within 1 s",
            {
                "200": status("ready", "Ready to serve"),
                "503": {
                    "description": "The database does not answer",
                    "content": {"application/json": {"schema": error_ref}},
                },
            },
        ),
    }


def _metrics_path(error_ref: dict[str, Any]) -> dict[str, Any]:
    """/metrics: Prometheus text, behind METRICS_TOKEN or a loopback-only listener."""

    def refused(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": error_ref}}}

    return {
        "get": {
            "summary": "Prometheus metrics of every worker (text format 0.0.4)",
            "description": (
                "Open without a token only while the server listens on loopback alone; "
                "otherwise `Authorization: Bearer <METRICS_TOKEN>`. The peer's address "
                "decides nothing."
            ),
            "tags": ["operations"],
            "operationId": "get_metrics",
            "security": [{}, {"metrics": []}],
            "responses": {
                "200": {
                    "description": "The metrics",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "401": refused("METRICS_TOKEN is set and the request lacks it"),
                "403": refused("No METRICS_TOKEN is set and the server listens beyond loopback"),
            },
        }
    }


def _is_input(model: type[BaseModel], operations: list[Operation]) -> bool:
    return any(op.body is model for op in operations)


_SWAGGER = """<!doctype html><html><head><meta charset="utf-8"><title>Waitlist API</title>
<link rel="stylesheet" href="/static/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script></body></html>"""

_REDOC = """<!doctype html><html><head><meta charset="utf-8"><title>Waitlist API</title></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/static/redoc.standalone.js"></script></body></html>"""


def setup(app: web.Application) -> None:
    spec = build_spec()

    async def openapi(request: web.Request) -> web.Response:
        return json_response(spec)

    async def swagger(request: web.Request) -> web.Response:
        return web.Response(text=_SWAGGER, content_type="text/html")

    async def redoc(request: web.Request) -> web.Response:
        return web.Response(text=_REDOC, content_type="text/html")

    app.router.add_get("/openapi.json", openapi)
    # Like the admin routes, the pages answer with or without the trailing slash.
    for path in ("/docs", "/docs/"):
        app.router.add_get(path, swagger)
    for path in ("/redoc", "/redoc/"):
        app.router.add_get(path, redoc)
    app.router.add_static("/static/", STATIC)
