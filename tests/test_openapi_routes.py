"""Issue 8 part 4: the OpenAPI document and the route map agree, and every documented example is valid.

The document is generated from the pydantic models that validate requests (web/apispec.py), so a
route missing here is a route declared without ``@operation``.
"""
from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from archive_service.web.apispec import BODY_NOT_OBJECT
from letters_support import LETTER

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def app(make):
    make.client()
    return make.app


@pytest.fixture
def spec(app):
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def _documented_path(rule: str) -> str:
    """``/api/v1/letters/<int:letter_id>/files/<what>`` → ``/api/v1/letters/{id}/files/{what}``."""
    ints = re.findall(r"<int:\w+>", rule)
    out = re.sub(r"<int:\w+>", "{id}", rule) if len(ints) == 1 else re.sub(r"<int:(\w+)>", r"{\1}", rule)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", out)


def test_every_api_route_is_documented_and_every_documented_operation_exists(app, spec):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((_documented_path(rule.rule), method.lower()))
    documented = {(path, method) for path, ops in spec["paths"].items() if path.startswith("/api/v1/")
                  for method in ops if method in METHODS}
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations that no route serves"
    for path in ("/healthz", "/readyz"):
        assert "get" in spec["paths"][path]


def _validator(spec: dict, schema: dict) -> Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/…`` references resolve in the document."""
    return Draft202012Validator({**schema, "components": spec["components"]})


def _examples(spec: dict):
    """(where, schema, example) for every example in components, parameters and media types."""
    for name, schema in spec["components"]["schemas"].items():
        for i, example in enumerate(schema.get("examples", [])):
            yield f"components.schemas.{name}[{i}]", {"$ref": f"#/components/schemas/{name}"}, example
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            bodies = [("request", op.get("requestBody", {}))]
            bodies += [(f"response {code}", r) for code, r in op.get("responses", {}).items()]
            for what, body in bodies:
                for media, content in body.get("content", {}).items():
                    for key, example in (content.get("examples") or {}).items():
                        yield f"{method} {path} {what} {media} {key}", content["schema"], example.get("value")
                    if "example" in content:
                        yield f"{method} {path} {what} {media}", content["schema"], content["example"]


def test_every_documented_example_is_valid_against_its_schema(spec):
    examples = list(_examples(spec))
    assert len(examples) >= 10, "the document should carry examples (request bodies, token, errors, …)"
    for where, schema, example in examples:
        errors = [e.message for e in _validator(spec, schema).iter_errors(example)]
        assert not errors, (where, errors)


def test_request_examples_are_accepted_by_the_models_and_the_api(spec, clients):
    """Each request body example passes the model that validates the body (a 422 would mean drift)."""
    client, h = clients("drafter")
    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not content:
                continue
            name = content["schema"]["$ref"].rsplit("/", 1)[1]
            for example in spec["components"]["schemas"][name].get("examples", []):
                url = path.replace("{id}", "2147483647")  # no such object: validation runs, then 404
                resp = client.open(url, method=method.upper(), json=example, headers=h)
                refused_by_model = resp.status_code == 422 and "errors" in resp.get_json()["error"].get("details", {})
                assert not refused_by_model, (method, path, resp.get_json())
                assert resp.status_code < 500
                checked += 1
    assert checked >= 8


def test_real_responses_match_their_documented_schemas(spec, clients):
    client, h = clients("drafter")
    letter = client.post("/api/v1/letters", json=LETTER, headers=h)
    cases = [("get", "/api/v1/me", "/api/v1/me", "200"), ("get", "/api/v1/documents", "/api/v1/documents", "200"),
             ("get", "/api/v1/letters/{id}", f"/api/v1/letters/{letter.get_json()['id']}", "200"),
             ("get", "/api/v1/letters", "/api/v1/letters", "200"), ("get", "/api/v1/inbox", "/api/v1/inbox", "200"),
             ("get", "/api/v1/meetings", "/api/v1/meetings", "200"),
             ("get", "/api/v1/meetings/deadline", "/api/v1/meetings/deadline?date=2031-03-20", "200"),
             ("get", "/api/v1/liaisons/gaps", "/api/v1/liaisons/gaps", "200"),
             ("get", "/api/v1/documents", "/api/v1/documents?page=0", "400"),
             ("post", "/api/v1/letters", "/api/v1/letters", "422")]
    for method, path, url, status in cases:
        resp = client.open(url, method=method.upper(), headers=h, json={"title": 5} if method == "post" else None)
        assert str(resp.status_code) == status, (url, resp.get_json())
        documented = spec["paths"][path][method]["responses"][status]
        if "$ref" in documented:
            documented = spec["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        schema = documented["content"]["application/json"]["schema"]
        errors = [e.message for e in _validator(spec, schema).iter_errors(resp.get_json())]
        assert not errors, (url, errors)
    assert letter.status_code == 201
    schema = spec["paths"]["/api/v1/letters"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert not list(_validator(spec, schema).iter_errors(letter.get_json()))


def test_the_400_for_a_body_that_is_not_a_json_object_is_documented(spec, clients):
    assert BODY_NOT_OBJECT in spec["components"]["responses"]["E400"]["description"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                assert {"400", "413", "422"} <= set(op["responses"]), (method, path)
    client, h = clients("drafter")
    for body in ("[1, 2]", '"text"', "null", "{oops"):
        resp = client.post("/api/v1/letters", data=body, content_type="application/json", headers=h)
        assert resp.status_code == 400 and resp.get_json()["error"]["message"].startswith(BODY_NOT_OBJECT)


def test_limits_come_from_the_models(spec):
    schemas = spec["components"]["schemas"]
    render = schemas["RenderSpec"]["properties"]
    assert render["issuer"]["maxLength"] == 60 and render["title"]["maxLength"] == 200  # lost before
    assert render["secrecy"]["enum"][0] == "非密"
    letter = schemas["LetterCreate"]["properties"]
    assert letter["classification"]["anyOf"][0]["enum"] == render["secrecy"]["enum"]  # one 密级 list
    meeting = schemas["MeetingInput"]["properties"]
    assert meeting["title"]["maxLength"] == 200 and meeting["topics"]["maxItems"] == 50
    assert schemas["LetterAction"]["properties"]["action"]["enum"] == [
        "submit", "pass", "return", "sign", "recheck", "register", "issue"]
