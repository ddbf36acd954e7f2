"""Liquid templates in widget properties, as Studio writes them: ``{{flow.variables.x}}``,
``{{trigger.message.Body}}``, ``{{widgets.gather_1.Digits}}``, ``{{contact.channel.address}}``.

python-liquid (a maintained, pure-Python implementation of Shopify's Liquid, the dialect Studio
uses): undefined names render as nothing, as in Studio. Parsed templates are cached by their text,
so a flow's templates are parsed once per process, not once per step.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from liquid import Environment
from liquid.exceptions import LiquidError
from liquid.template import BoundTemplate

_env = Environment()
_cache: OrderedDict[str, BoundTemplate] = OrderedDict()
CACHE_SIZE = 4096


class TemplateError(ValueError):
    """A property's template could not be parsed (its text and the parser's words)."""


def compile_template(source: str) -> BoundTemplate:
    template = _cache.get(source)
    if template is None:
        try:
            template = _env.from_string(source)
        except LiquidError as exc:
            raise TemplateError(f"template {source[:80]!r}: {exc}") from exc
        _cache[source] = template
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return template


def render(source: str, data: dict[str, Any]) -> str:
    if "{" not in source:
        return source  # most properties are plain text
    try:
        return compile_template(source).render(**data)
    except LiquidError as exc:
        raise TemplateError(f"template {source[:80]!r}: {exc}") from exc
