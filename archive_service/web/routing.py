"""URL rules whose builder functions are made once per process, not once per app.

werkzeug turns each rule into two URL-builder functions when the rule joins an app's map: it builds
an AST and compiles it (~0.6 ms a rule here, ~120 ms for the app's ~200 rules: most of ``create_app``).
A builder depends only on the rule's parsed parts and takes the rule as its first argument, so the
function made for a rule text serves that text in every app the process builds. A server builds one
app (and starts a little faster); the test suite builds hundreds.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from werkzeug.routing import Rule


class SharedBuilderRule(Rule):
    _builders: ClassVar[dict[tuple, Callable[..., Any]]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        if self.defaults:  # defaults are folded into the function as constants: no sharing
            return super()._compile_builder(append_unknown)
        key = (self.rule, self.map.host_matching if self.map else False, tuple(self._trace), append_unknown)
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder
