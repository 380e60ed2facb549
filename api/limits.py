"""Query limits and caches, built ONCE at import.

strawberry's QueryDepthLimiter / MaxAliasesLimiter create new validation-rule classes each time
they are constructed; constructed per request, the rule tuple differs every time and the
ValidationCache never hits (≈ 4–5 ms per request, ENGINEERING §1). Here the rule classes are
created at import, and the extensions that add them are classes without state, so every request
validates with the very same rule tuple and a repeated document is validated once.
"""

from __future__ import annotations

from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from domain.runtime.settings import get_settings

_settings = get_settings()
MAX_DEPTH = _settings.graphql_max_depth
MAX_ALIASES = _settings.graphql_max_aliases
MAX_TOKENS = _settings.graphql_max_tokens

# The validator classes, made once.
_DEPTH_RULES = tuple(QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules)
_ALIAS_RULES = tuple(MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules)


class StaticLimitRules(AddValidationRules):
    """Depth and alias rules shared by every request (the same class objects each time)."""

    def __init__(self) -> None:
        super().__init__(list(_DEPTH_RULES + _ALIAS_RULES))


class TokenLimit(MaxTokensLimiter):
    def __init__(self) -> None:
        super().__init__(max_token_count=MAX_TOKENS)


class SharedParserCache(ParserCache):
    def __init__(self) -> None:
        super().__init__(maxsize=512)


class SharedValidationCache(ValidationCache):
    def __init__(self) -> None:
        super().__init__(maxsize=512)


def limit_extensions() -> list[type[SchemaExtension]]:
    """Order matters: token limit sets parse options before the parser cache parses."""
    return [TokenLimit, SharedParserCache, StaticLimitRules, SharedValidationCache]
