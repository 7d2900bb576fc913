"""One schema, two enforcement points: the API model and the handler validate with the same file."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

import create_item
from api_common import load_schema
from {{ cookiecutter.package_name }}.settings import NEW_ITEM_SCHEMA
from tests.infra.conftest import Synth

BODIES = [
    ({"name": "Widget"}, True),
    ({"name": "Widget", "quantity": 2, "description": "blue"}, True),
    ({}, False),
    ({"name": "<b>"}, False),
    ({"name": "ok", "extra": 1}, False),
    ({"name": "ok", "quantity": -5}, False),
]


def _api_model(synth: Synth) -> dict[str, Any]:
    (model,) = [
        m["Properties"]["Schema"]
        for m in synth.resources("AWS::ApiGateway::Model").values()
        if m["Properties"].get("Schema", {}).get("title") == "NewItem"
    ]
    return dict(model)


def test_the_api_model_is_the_schema_file(synth: Synth) -> None:
    assert _api_model(synth) == json.loads(NEW_ITEM_SCHEMA.read_text())


def test_the_handler_validates_with_the_schema_file() -> None:
    assert load_schema(create_item.SCHEMA_FILE) == json.loads(NEW_ITEM_SCHEMA.read_text())


@pytest.mark.parametrize(("body", "valid"), BODIES)
def test_api_model_and_handler_agree(synth: Synth, body: dict[str, Any], valid: bool) -> None:
    validator = jsonschema.Draft4Validator(_api_model(synth))
    assert validator.is_valid(body) is valid
    from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

    try:
        validate(event=body, schema=load_schema(create_item.SCHEMA_FILE))
        handler_valid = True
    except SchemaValidationError:
        handler_valid = False
    assert handler_valid is valid
