"""The one direction of imports (docs/architecture.md), checked on the source with `ast`.

- The pure domain imports no services, store, runtime, API or workers; the store no services; the
  services no API or workers.
- The service parts are layered: agencies < contracts < payments < windows < claims < renewals < fleets
  < notifications (it reads every part's events). A part
  imports its own modules, lower parts and the shared modules, never a higher part: where a lower
  part must make a higher one react, it publishes a reaction (domain/services/reactions.py).
- No import cycle among the project's modules, and no function-local import of a service module
  inside a service module (a local import is how a cycle hides).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "domain", "workers")
SERVICES = "domain.services"
# Lowest first: each part may import the parts before it.
PART_ORDER = ("agencies", "contracts", "payments", "windows", "claims", "renewals", "fleets", "notifications")
SHARED = {"access", "errors", "mutation_runner", "reactions"}   # import no part
TOP = {"wiring"}                                                # may import every part


@dataclass(frozen=True)
class Import:
    module: str      # the importing module
    target: str      # the imported module (or module.name for `from m import name`)
    line: int
    local: bool      # inside a function
    type_only: bool  # under `if TYPE_CHECKING:`


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def imports_of(path: Path) -> list[Import]:
    mod = module_name(path)
    tree = ast.parse(path.read_text(), str(path))
    found: list[Import] = []

    def visit(node: ast.AST, local: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, True, type_only)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, local, True)
            elif isinstance(child, ast.Import):
                found.extend(Import(mod, a.name, child.lineno, local, type_only) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.extend(Import(mod, f"{child.module}.{a.name}", child.lineno, local, type_only)
                             for a in child.names)
            else:
                visit(child, local, type_only)

    visit(tree, False, False)
    return found


ALL_IMPORTS = [i for f in source_files() for i in imports_of(f)]
MODULES = {module_name(f) for f in source_files()}


def resolve(target: str) -> str | None:
    """The project module an import names (`from a.b import c`: module a.b.c if it exists, else a.b)."""
    if target in MODULES:
        return target
    head = target.rpartition(".")[0]
    return head if head in MODULES else None


def part_of(module: str) -> str | None:
    if not module.startswith(SERVICES + "."):
        return None
    return module.split(".")[2]


def test_the_pure_domain_and_the_store_import_only_downwards() -> None:
    wrong = []
    for i in ALL_IMPORTS:
        to = resolve(i.target) or i.target
        pure = i.module.startswith("domain.") and not i.module.startswith(
            ("domain.services", "domain.store", "domain.runtime"))
        if pure and to.startswith(("domain.services", "domain.store", "domain.runtime", "api", "workers", "asyncpg")):
            wrong.append(i)
        if i.module.startswith("domain.store") and to.startswith(("domain.services", "api", "workers")):
            wrong.append(i)
        if i.module.startswith("domain.services") and to.startswith(("api", "workers")):
            wrong.append(i)
    assert wrong == []


def test_service_parts_import_only_lower_parts() -> None:
    wrong = []
    for i in ALL_IMPORTS:
        to = resolve(i.target)
        src, dst = part_of(i.module), part_of(to or "")
        if src is None or dst is None or src == dst or src in TOP:
            continue
        if src in SHARED and dst not in SHARED:
            wrong.append(f"{i.module}:{i.line} (shared) imports {to}")
        elif src in PART_ORDER and dst in PART_ORDER and PART_ORDER.index(dst) > PART_ORDER.index(src):
            wrong.append(f"{i.module}:{i.line} imports the higher part {to}")
        elif dst in TOP:
            wrong.append(f"{i.module}:{i.line} imports {to}, which only entry points may")
    assert wrong == []


def test_every_service_module_belongs_to_a_part_or_is_shared() -> None:
    names = {part_of(m) for m in MODULES if part_of(m)}
    assert names <= set(PART_ORDER) | SHARED | TOP


def test_no_function_local_import_between_service_modules() -> None:
    local = [f"{i.module}:{i.line} {i.target}" for i in ALL_IMPORTS
             if i.local and i.module.startswith(SERVICES) and (resolve(i.target) or "").startswith(SERVICES)]
    assert local == []


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in ALL_IMPORTS:
        to = resolve(i.target)
        if to and to != i.module and not i.local and not i.type_only:
            graph[i.module].add(to)
    # Tarjan's strongly connected components; a component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            # A package's __init__ importing its own submodules is not a cycle between parts.
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    assert cycles == []


def test_the_checker_sees_a_violation() -> None:
    """The rules above are not vacuous: a higher-part import and a local import are caught."""
    src = ROOT / "domain/services/contracts/quote.py"
    imps = imports_of(src)
    assert any(resolve(i.target) == "domain.services.reactions" for i in imps)
    fake = Import("domain.services.contracts.quote", "domain.services.claims.handling.x", 1, True, False)
    assert part_of(resolve(fake.target) or "") == "claims"
    assert PART_ORDER.index("claims") > PART_ORDER.index("contracts")
