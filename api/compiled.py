"""The compiled read path: contract queries answered by one SQL statement per root field.

An extension looks at each validated query before execution. When every root field is
`contract(...)` or `contracts(...)` (or `__typename`) and every field below compiles
(domain/store/contract_json.py), it sets the result itself and graphql-core's executor never
runs: no object per row, no resolver per field. Anything else — another root field, a field
that needs Python (`availableActions`, `product`, `versions`, `events`, `windows`, `payments`, `claims`,
`assistanceRequests`), an argument that needs an error message — goes down the general path
unchanged, which answers the same JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from api.context import Context
from api.contracts.queries import ContractFilter, decode_cursor, encode_cursor, service_filter
from api.node import db_id_of
from domain.runtime.logs import get_logger
from domain.services.contracts import reads as contract_reads
from domain.store.contract_json import Sel, Unsupported
from domain.store.contract_read_repo import MAX_PAGE
from domain.vocab import ContractStatus

log = get_logger("api.compiled")

_CONTRACT_ABSTRACT = {"Contract", "Node"}
_SELS_CACHE: dict[tuple[Any, ...], tuple[Sel, ...]] = {}


class _Walker:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables
        self.cache_key: tuple[Any, ...] | None = None

    def root_sels(self, key: str, nodes: list[FieldNode], type_name: str) -> tuple[Sel, ...]:
        """`sels` of a root field, remembered per query text, operation and directive variables
        (only @skip/@include variables change a selection's shape)."""
        if self.cache_key is None or self.cache_key[0] is None:
            return self.sels(nodes, type_name)
        full = (*self.cache_key, key)
        found = _SELS_CACHE.get(full)
        if found is None:
            found = self.sels(nodes, type_name)
            if len(_SELS_CACHE) >= 512:
                _SELS_CACHE.clear()
            _SELS_CACHE[full] = found
        return found

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        return value_from_ast_untyped(node, self.variables)

    def included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for d in node.directives or ():
            if d.name.value not in ("skip", "include"):
                raise Unsupported(f"directive @{d.name.value}")
            args = {a.name.value: self.value(a.value) for a in d.arguments or ()}
            flag = args.get("if")
            if not isinstance(flag, bool):
                raise Unsupported("directive without a boolean")
            if (d.name.value == "skip") == flag:
                return False
        return True

    def collect(self, sset: SelectionSetNode | None, type_name: str, out: dict[str, list[FieldNode]]) -> None:
        if sset is None:
            return
        for node in sset.selections:
            if not self.included(node):  # type: ignore[arg-type]
                continue
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                out.setdefault(key, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if node.type_condition is not None and not self._matches(node.type_condition.name.value, type_name):
                    continue
                self.collect(node.selection_set, type_name, out)
            elif isinstance(node, FragmentSpreadNode):
                frag = self.fragments.get(node.name.value)
                if frag is None:
                    raise Unsupported("unknown fragment")
                if not self._matches(frag.type_condition.name.value, type_name):
                    continue
                self.collect(frag.selection_set, type_name, out)

    @staticmethod
    def _matches(condition: str, type_name: str) -> bool:
        return condition == type_name or (condition == "Node" and type_name in ("Contract", "Party", "Vehicle"))

    def sels(self, nodes: list[FieldNode], type_name: str) -> tuple[Sel, ...]:
        """The merged sub-selection of same-key field nodes, as `Sel`s (types by field name)."""
        grouped: dict[str, list[FieldNode]] = {}
        for n in nodes:
            self.collect(n.selection_set, type_name, grouped)
        return tuple(self._sel(key, fs, type_name) for key, fs in grouped.items())

    def _sel(self, key: str, fs: list[FieldNode], parent: str) -> Sel:
        name = fs[0].name.value
        if any(f.name.value != name for f in fs):
            raise Unsupported("one key, two fields")
        if any(f.arguments for f in fs):
            raise Unsupported("arguments below the root")
        child_type = _CHILD_TYPES.get((parent, name), "")
        children: tuple[Sel, ...] = ()
        if any(f.selection_set is not None for f in fs):
            if not child_type:
                raise Unsupported(f"{parent}.{name}")
            children = self.sels(fs, child_type)
        return Sel(key=key, name=name, children=children)


# Which object type a field of an object type returns (for fragments and __typename below).
_CHILD_TYPES: dict[tuple[str, str], str] = {
    ("Contract", "policyholder"): "Party", ("Contract", "terms"): "Term", ("Contract", "version"): "ContractVersion",
    ("Contract", "grade"): "Grade", ("Contract", "premium"): "Premium", ("Contract", "channel"): "Label",
    ("Contract", "statuses"): "Label",
    ("ContractVersion", "vehicle"): "Vehicle", ("ContractVersion", "namedInsured"): "Party",
    ("ContractVersion", "drivers"): "Driver", ("ContractVersion", "grade"): "Grade",
    ("ContractVersion", "premium"): "Premium", ("ContractVersion", "coverages"): "ChosenCoverage",
    ("ContractVersion", "ageCondition"): "Label", ("ContractVersion", "driverRestriction"): "Label",
    ("Driver", "party"): "Party", ("Driver", "relationship"): "Label", ("Driver", "licenceColour"): "Label",
    ("Vehicle", "useType"): "Label", ("Vehicle", "fuel"): "Label", ("Vehicle", "ratingClasses"): "RatingClass",
    ("Party", "kind"): "Label", ("Party", "licenceColour"): "Label",
    ("Term", "status"): "Label", ("Grade", "marker"): "Label",
    ("Premium", "paymentMethod"): "Label", ("Premium", "lines"): "PremiumLine",
    ("Premium", "explanation"): "Explanation", ("Explanation", "steps"): "ExplanationStep",
    ("ExplanationStep", "kind"): "Label",
    ("ContractConnection", "edges"): "ContractEdge", ("ContractConnection", "nodes"): "Contract",
    ("ContractConnection", "pageInfo"): "PageInfo", ("ContractEdge", "node"): "Contract",
}


def _as_of(raw: Any, ctx: Context) -> dt.datetime:
    if raw is None:
        return ctx.clock.now()
    if not isinstance(raw, str):
        raise Unsupported("asOf")
    value = dt.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise Unsupported("naive asOf: the general path explains the error")
    return value


async def _contract_field(w: _Walker, node: FieldNode, nodes: list[FieldNode], ctx: Context) -> Any:
    args = {a.name.value: w.value(a.value) for a in node.arguments or ()}
    if set(args) - {"id", "policyNumber", "asOf"}:
        raise Unsupported("contract arguments")
    gid, pn = args.get("id"), args.get("policyNumber")
    if (gid is None) == (pn is None):
        raise Unsupported("the general path explains the error")
    as_of = _as_of(args.get("asOf"), ctx)
    sels = w.root_sels(nodes[0].alias.value if nodes[0].alias else "contract", nodes, "Contract")
    if gid is not None:
        db_id = db_id_of(str(gid), "Contract")
        if db_id is None:
            return None
        docs = await contract_reads.contracts_json(ctx.pool, ctx.actor, sels, as_of, ids=[db_id])
    else:
        docs = await contract_reads.contracts_json(ctx.pool, ctx.actor, sels, as_of, policy_number=str(pn))
    return next((_doc(d, ctx) for d in docs.values()), None)


async def _contracts_field(w: _Walker, node: FieldNode, nodes: list[FieldNode], ctx: Context) -> Any:
    args = {a.name.value: w.value(a.value) for a in node.arguments or ()}
    if set(args) - {"first", "after", "filter", "asOf"}:
        raise Unsupported("contracts arguments")
    first = args.get("first", 20)
    if first is None:
        first = 20
    if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= MAX_PAGE:
        raise Unsupported("first out of range")
    after = args.get("after")
    after_id = None
    if after is not None:
        try:
            after_id = decode_cursor(str(after))
        except Exception as exc:
            raise Unsupported("bad cursor") from exc
    f = _filter(args.get("filter"))
    as_of = _as_of(args.get("asOf"), ctx)
    # Which parts of the connection are asked for, and the contract selection inside them.
    parts: dict[str, list[FieldNode]] = {}
    for n in nodes:
        w.collect(n.selection_set, "ContractConnection", parts)
    # One place may select the contracts (nodes, or edges { node }), so one document serves it.
    holders: list[list[FieldNode]] = []
    for fs in parts.values():
        name = fs[0].name.value
        if name == "nodes":
            holders.append(fs)
        elif name == "edges":
            edge_parts: dict[str, list[FieldNode]] = {}
            for e in fs:
                w.collect(e.selection_set, "ContractEdge", edge_parts)
            holders += [efs for efs in edge_parts.values() if efs[0].name.value == "node"]
        elif name not in ("pageInfo", "__typename"):
            raise Unsupported(f"ContractConnection.{name}")
    if len(holders) > 1 or sum(fs[0].name.value == "edges" for fs in parts.values()) > 1:
        raise Unsupported("contracts selected in two places")
    contract_nodes = holders[0] if holders else []
    page = await contract_reads.contract_page(ctx.pool, ctx.actor, f, first=first, after_id=after_id)
    root_key = nodes[0].alias.value if nodes[0].alias else "contracts"
    sels_by_nodes = w.root_sels(root_key, contract_nodes, "Contract") if contract_nodes else ()
    texts = await contract_reads.contracts_json(ctx.pool, ctx.actor, sels_by_nodes, as_of, ids=list(page.ids)) \
        if page.ids and sels_by_nodes else {}
    docs = {i: _doc(t, ctx) for i, t in texts.items()}
    ids = [i for i in page.ids if i in docs] if sels_by_nodes else list(page.ids)
    # Objects with the keys of each selection, in their order (the same merge as the executor).
    out: dict[str, Any] = {}
    for key, fs in parts.items():
        name = fs[0].name.value
        if name == "__typename":
            out[key] = "ContractConnection"
        elif name == "nodes":
            out[key] = [docs[i] for i in ids]
        elif name == "pageInfo":
            pi: dict[str, list[FieldNode]] = {}
            for p in fs:
                w.collect(p.selection_set, "PageInfo", pi)
            end = encode_cursor(ids[-1]) if ids else None
            out[key] = {k: {"hasNextPage": page.has_next, "endCursor": end, "__typename": "PageInfo"}[v[0].name.value]
                        for k, v in pi.items()}
        else:  # edges
            ep: dict[str, list[FieldNode]] = {}
            for e in fs:
                w.collect(e.selection_set, "ContractEdge", ep)
            out[key] = [
                {k: (encode_cursor(i) if v[0].name.value == "cursor" else
                     "ContractEdge" if v[0].name.value == "__typename" else docs[i])
                 for k, v in ep.items()}
                for i in ids
            ]
    return out


def _doc(text: str, ctx: Context) -> Any:
    """Over HTTP the JSON text goes out as it came from PostgreSQL (orjson.Fragment); in process
    callers get plain objects."""
    return orjson.Fragment(text) if ctx.raw_json else orjson.loads(text)


def _filter(raw: Any) -> contract_reads.ContractFilter:
    """The variables' raw filter object, read into the same input type the general path gets."""
    if raw is None:
        return service_filter(None)
    if not isinstance(raw, dict) or set(raw) - {"status", "productId", "agencyId", "policyholderId",
                                                 "expiresFrom", "expiresBefore"}:
        raise Unsupported("filter")

    def instant(v: Any) -> dt.datetime | None:
        if v is None:
            return None
        t = dt.datetime.fromisoformat(str(v))
        if t.tzinfo is None:
            raise Unsupported("naive instant")
        return t

    status = raw.get("status")
    return service_filter(ContractFilter(
        status=None if status is None else ContractStatus(status), product_id=raw.get("productId"),
        agency_id=raw.get("agencyId"), policyholder_id=raw.get("policyholderId"),
        expires_from=instant(raw.get("expiresFrom")), expires_before=instant(raw.get("expiresBefore")),
    ))


_ROOTS = {"contract": _contract_field, "contracts": _contracts_field}


async def answer(document: Any, operation_name: str | None, variables: dict[str, Any] | None,
                 ctx: Context) -> dict[str, Any] | None:
    """The `data` of a compilable query; None when the general path must answer it."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    op = operations[0]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    vars_in = dict(variables or {})
    for vd in op.variable_definitions or ():
        name = vd.variable.name.value
        if name not in vars_in and vd.default_value is not None:
            vars_in[name] = value_from_ast_untyped(vd.default_value)
    w = _Walker(fragments, vars_in)
    try:
        roots: dict[str, list[FieldNode]] = {}
        w.collect(op.selection_set, "Query", roots)
        w.cache_key = (document.loc.source.body if document.loc else None, operation_name,
                       tuple(sorted((k, v) for k, v in vars_in.items() if isinstance(v, bool))))
        if not roots or any(fs[0].name.value not in (*_ROOTS, "__typename") for fs in roots.values()):
            return None
        data: dict[str, Any] = {}
        for key, fs in roots.items():
            name = fs[0].name.value
            if name == "__typename":
                data[key] = "Query"
                continue
            if any(f.arguments != fs[0].arguments for f in fs[1:]):
                return None
            data[key] = await _ROOTS[name](w, fs[0], fs, ctx)
        return data
    except Unsupported as why:
        log.debug("compiled_fallback", reason=str(why))
        return None


class CompiledReads(SchemaExtension):
    """Answers compilable contract queries before graphql-core executes them."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        ec = self.execution_context
        ctx = ec.context
        if isinstance(ctx, Context) and ctx.compiled and ec.graphql_document is not None and not ec.result:
            try:
                data = await answer(ec.graphql_document, ec.operation_name, ec.variables, ctx)
            except Exception:
                log.exception("compiled_read_failed")
                data = None
            if data is not None:
                ec.result = ExecutionResult(data=data, errors=None)
        yield
