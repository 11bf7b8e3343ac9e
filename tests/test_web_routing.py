"""The app's URL rules share their builder functions between apps (web/routing.py): every URL a second
app builds is the one werkzeug's own rules build, with and without extra query arguments."""
from __future__ import annotations

from werkzeug.routing import Map, Rule

from archive_service.web import create_app


def test_every_rule_builds_the_urls_werkzeugs_own_rules_build(rt):
    create_app(rt)  # the first app makes the shared builders
    app = create_app(rt)
    plain = Map(converters=dict(app.url_map.converters), strict_slashes=app.url_map.strict_slashes)
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 150
    for r in rules:
        plain.add(Rule(r.rule, endpoint=r.endpoint, methods=r.methods, defaults=r.defaults))
    ours, theirs = app.url_map.bind("archive.test"), plain.bind("archive.test")
    for r in rules:
        values = dict.fromkeys(r.arguments, 7)  # a number every converter of ours accepts
        for extra in ({}, {"q": "审批 公文", "page": 2}):
            method = sorted(r.methods - {"HEAD", "OPTIONS"})[0]
            assert ours.build(r.endpoint, {**values, **extra}, method=method) == \
                theirs.build(r.endpoint, {**values, **extra}, method=method), r.rule
