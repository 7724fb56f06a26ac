"""The read API's OpenAPI 3.1 document, generated from the pydantic models in
``bot.http.api_models`` (the ones that validate its requests and responses)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.http.api_models import (
    ErrorOut,
    IncidentOut,
    IncidentsQuery,
    NextCoverage,
    OncallAnswer,
    OncallQuery,
    Person,
    ScheduleQuery,
    Segment,
)

REF = "#/components/schemas/{model}"
_MODELS: tuple[type[BaseModel], ...] = (OncallAnswer, Segment, IncidentOut, ErrorOut, Person, NextCoverage)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def array(model: type[BaseModel]) -> dict[str, Any]:
    return {"type": "array", "items": _ref(model)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The query parameters of a request model, by alias, with their schemas and descriptions."""
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        out.append({"name": name, "in": "query", "required": name in required, "description": description,
                    "schema": prop})
    return out


_PIPELINE = {"name": "pipeline", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "A pipeline's id, name or alias (e.g. engagement)."}
_ERRORS = {
    "400": _json(_ref(ErrorOut), "A bad parameter; location names it (e.g. query.at)."),
    "401": _json(_ref(ErrorOut), "No bearer token, or one that is unknown or revoked."),
}
_NOT_FOUND = {"404": _json(_ref(ErrorOut), "No such pipeline (suggestions: close names).")}


def _get(summary: str, params: list[dict[str, Any]], ok: dict[str, Any], *, pipeline: bool = False,
         operation: str) -> dict[str, Any]:
    return {"get": {
        "operationId": operation,
        "summary": summary,
        "parameters": ([_PIPELINE] if pipeline else []) + params,
        "responses": {"200": ok, **_ERRORS, **(_NOT_FOUND if pipeline else {})},
    }}


@functools.cache
def _document() -> dict[str, Any]:
    _, defs = models_json_schema([(m, "serialization") for m in _MODELS], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "On-call bot read API",
            "version": "1",
            "description": "Read-only: who is on call, schedules and incidents. Send "
                           "'Authorization: Bearer TOKEN' (oncall-bot tokens add --name NAME).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from `oncall-bot tokens add`."}},
        },
        "paths": {
            "/api/v1/oncall": _get(
                "Who is on call for every pipeline (now or at `at`)", _query_parameters(OncallQuery),
                _json(array(OncallAnswer), "One answer per pipeline."), operation="oncallAll"),
            "/api/v1/oncall/{pipeline}": _get(
                "Who is on call for one pipeline (now or at `at`)", _query_parameters(OncallQuery),
                _json(_ref(OncallAnswer), "The answer."), pipeline=True, operation="oncallPipeline"),
            "/api/v1/schedule/{pipeline}": _get(
                "A pipeline's on-call segments from `from` to `to`", _query_parameters(ScheduleQuery),
                _json(array(Segment), "Segments tiling the range."), pipeline=True, operation="schedule"),
            "/api/v1/incidents": _get(
                "Incidents with their fix-by deadline", _query_parameters(IncidentsQuery),
                _json(array(IncidentOut), "Newest first."), operation="incidents"),
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
            }},
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once)."""
    return _document()
