"""Error masking: an unexpected exception never reaches a client; its request id does.

GraphQL syntax/validation errors (no original exception) are the client's own and pass as they are.
Anything raised by our code is logged with its traceback and the request id, and the client sees
only "Unexpected error" with that id, so support can find the log line.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.runtime.logs import get_logger, request_id_var

log = get_logger("api.errors")


class ClientError(Exception):
    """Raised where a top-level GraphQL error is the intended answer (e.g. unauthenticated)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class MaskUnexpectedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        result.errors = [self._mask(e) for e in errors]

    def _mask(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:
            return error
        if isinstance(original, ClientError):
            return GraphQLError(str(original), nodes=error.nodes, path=error.path,
                                extensions={"code": original.code})
        rid = request_id_var.get() or "-"
        log.error("unexpected_error", path=error.path, exc_info=original)
        return GraphQLError(
            f"Unexpected error. Request id: {rid}",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": rid},
        )
