"""Typed building blocks of the APIs' OpenAPI descriptions: fields, bodies, answers, operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]
JSON = "application/json"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
BINARY: Schema = {"type": "string", "format": "binary"}
NULL: Schema = {"type": "null"}


@dataclass(frozen=True)
class Field:
    """One request field: a form / JSON body property, or a query, header or path parameter.

    type is a JSON-Schema type, or "file" (an uploaded file); repeated: the field may be sent
    several times (an array); json: a form field whose text is JSON of that schema; aliases:
    other names the parser reads for it (snake_case spellings); schema replaces the derived one.
    """

    name: str
    type: str = "string"
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[Any, ...] = ()
    description: str = ""
    required: bool = False
    repeated: bool = False
    format: str | None = None
    location: str = "body"  # body, query, header or path
    aliases: tuple[str, ...] = ()
    json: Schema | None = None
    schema: Schema | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the parser may read the field by."""
        return (self.name, *self.aliases)

    def json_schema(self) -> Schema:
        """The field's value as JSON Schema (2020-12, as OpenAPI 3.1 uses it)."""
        if self.schema is not None:
            value: Schema = dict(self.schema)
        elif self.type == "file":
            value = dict(BINARY)
        else:
            value = {"type": self.type}
        if self.format is not None:
            value["format"] = self.format
        if self.minimum is not None:
            value["minimum"] = self.minimum
        if self.maximum is not None:
            value["maximum"] = self.maximum
        if self.enum:
            value["enum"] = list(self.enum)
        if self.json is not None:
            value.update(contentMediaType=JSON, contentSchema=self.json)
        if self.repeated:
            value = {"type": "array", "items": value}
        if self.default is not None:
            value["default"] = self.default
        if self.description:
            value["description"] = self.description
        if self.aliases:
            value["x-aliases"] = list(self.aliases)
        return value

    def parameter(self) -> Schema:
        """The field as an OpenAPI Parameter object (query, header or path)."""
        param: Schema = {"name": self.name, "in": self.location, "schema": self.json_schema()}
        if self.description:
            param["description"] = self.description
        if self.required or self.location == "path":
            param["required"] = True
        if self.repeated:
            param.update(style="form", explode=True)
        if self.aliases:
            param["x-aliases"] = list(self.aliases)
        return param


def object_schema(fields: tuple[Field, ...], closed: bool = False) -> Schema:
    """An object whose properties are the fields (required ones listed)."""
    schema: Schema = {"type": "object", "properties": {f.name: f.json_schema() for f in fields}}
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


def obj(**properties: Schema) -> Schema:
    """An answer object: every property listed is required (answers always carry them), no
    other."""
    return {**open_obj(**properties), "additionalProperties": False}


def open_obj(**properties: Schema) -> Schema:
    """An answer object with these required properties, and maybe others."""
    return {"type": "object", "properties": properties, "required": list(properties)}


def array(items: Schema, **extra: Any) -> Schema:
    """A JSON array of items."""
    return {"type": "array", "items": items, **extra}


def typed(kind: str | list[str], description: str = "", **extra: Any) -> Schema:
    """A scalar schema with an optional description."""
    schema: Schema = {"type": kind, **extra}
    if description:
        schema["description"] = description
    return schema


def one_of(*schemas: Schema) -> Schema:
    """Exactly one of the schemas."""
    return {"oneOf": list(schemas)}


def ref(name: str) -> Schema:
    """A reference to components/schemas/<name>."""
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class Body:
    """A request body: an object of fields in these media types, or raw bytes (raw schema)."""

    media_types: tuple[str, ...]
    fields: tuple[Field, ...] = ()
    raw: Schema | None = None
    required: bool = True
    description: str = ""

    def request_body(self) -> Schema:
        """The OpenAPI RequestBody object."""
        schema = self.raw if self.raw is not None else object_schema(self.fields)
        body: Schema = {
            "required": self.required,
            "content": {kind: {"schema": schema} for kind in self.media_types},
        }
        if self.description:
            body["description"] = self.description
        return body


@dataclass(frozen=True)
class Answer:
    """One documented answer: its status, what it means, its body's schema per media type."""

    status: int
    description: str
    schema: Schema | None = None
    media_types: tuple[str, ...] = (JSON,)

    def response(self) -> Schema:
        """The OpenAPI Response object."""
        out: Schema = {"description": self.description}
        if self.schema is not None:
            out["content"] = {kind: {"schema": self.schema} for kind in self.media_types}
        return out


@dataclass(frozen=True)
class Operation:
    """What the routes at these paths (Flask rule syntax) answer to these methods.

    errors: the statuses answered in the API's error envelope (None: the API's defaults);
    refused: the method is routed only to be refused (only the error envelope is answered).
    """

    paths: tuple[str, ...]
    methods: tuple[str, ...]
    summary: str
    description: str = ""
    parameters: tuple[Field, ...] = ()
    body: Body | None = None
    answers: tuple[Answer, ...] = ()
    errors: dict[int, str] | None = None
    refused: bool = False

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every field: parameters and body properties."""
        return self.parameters + (self.body.fields if self.body is not None else ())


@dataclass(frozen=True)
class ApiSpec:
    """One mounted API's description: its operations, error envelope, auth and shared schemas.

    blueprints: the Flask blueprints whose routes it describes ("" for app-level routes).
    """

    name: str
    description: str
    operations: tuple[Operation, ...]
    error: Schema | None = None
    errors: dict[int, str] = field(default_factory=dict)
    security: dict[str, Schema] = field(default_factory=dict)
    secured: bool = False  # the schemes are required (auth is configured)
    schemas: dict[str, Schema] = field(default_factory=dict)
    blueprints: tuple[str, ...] = ()

    @property
    def routed_by(self) -> tuple[str, ...]:
        """The blueprint names this spec covers."""
        return self.blueprints or (self.name,)
