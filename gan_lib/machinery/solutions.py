"""Machinery: a code exercise's reference solution, cut down to its definition between nbgrader's solution markers.

The chapter's solution cell defines the stub's names and often shows them at work (prints, asserts) before its
closing ``assert check_...``. :func:`solution_source` keeps the definition and only what it needs, and marks
the part nbgrader replaces by ``raise NotImplementedError()`` in the students' release.
"""
from __future__ import annotations

import ast
import re

from .exercises import bound_names

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _is_check_assert(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Assert) and isinstance(node.test, ast.Call)
            and getattr(node.test.func, "id", getattr(node.test.func, "attr", "")).startswith("check_"))


def _is_check_call(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", getattr(node.value.func, "attr", "")).startswith("check_"))


def _statements(source: str) -> tuple[list[tuple[ast.stmt, list[str], list[str]]], list[str]]:
    """(node, the comment and blank lines before it, its own lines) for each top-level statement; the tail."""
    lines = source.splitlines()
    parsed = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)
    out, end = [], 0
    for node in ast.parse(parsed).body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        out.append((node, lines[end:start - 1], lines[start - 1:node.end_lineno]))
        end = node.end_lineno
    return out, lines[end:]


def _trim(lines: list[str]) -> list[str]:
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return text.splitlines() if text else []


def _function_with_region(node: ast.FunctionDef, own: list[str]) -> list[str] | None:
    """A function's lines with its body (after the docstring) between the solution markers; None if one line."""
    body = node.body[1:] if (isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
                             and isinstance(node.body[0].value.value, str)) else node.body
    offset = min([node.lineno] + [d.lineno for d in node.decorator_list])
    if not body or body[0].lineno == node.lineno:
        return None
    cut = body[0].lineno - offset
    indent = re.match(r"\s*", own[cut])[0]
    return [*own[:cut], indent + BEGIN, *own[cut:], indent + END]


def _binds(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
        node, (ast.AnnAssign, ast.AugAssign)) else []
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _needs(node: ast.stmt) -> set[str]:
    """The names a statement reads from outside itself (a function's own arguments and locals left out)."""
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        local = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        return loads - local
    return loads


def solution_source(stub: str, reference: str) -> str:
    """The nbgrader solution cell: the stub's comments, imports and placeholders, then the reference definition.

    Of the reference cell only the definitions of the stub's names are kept, with what they need from the same
    cell (a helper, an import, a constant); its demonstrations, prints and asserts, and its closing
    ``assert check_...`` (the test cell holds the check), are dropped. A function is written out with its body
    between the solution markers, so the release keeps its signature and docstring; a variable's value (and what
    only it needs) goes in one region at the end of the cell, so the release's ``raise NotImplementedError()``
    stops nothing after it.
    """
    names = set(bound_names(stub))
    stub_statements, _ = _statements(stub)
    out = list(stub_statements[0][1]) if stub_statements else stub.splitlines()
    kept, tail, seen_definition = set(), [], False
    for node, leading, own in stub_statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or _is_check_call(node):
            seen_definition = True
            continue
        if seen_definition:  # a stub's line after its definition (a print that calls it) stays after it
            tail += leading + own
        else:
            out += (leading if out else []) + own
        kept.add("\n".join(own).strip())
    statements = [s for s in _statements(reference)[0] if not _is_check_assert(s[0]) and not _is_check_call(s[0])]
    functions = {i for i, (node, _, _) in enumerate(statements) if isinstance(node, (ast.FunctionDef,
                 ast.AsyncFunctionDef)) and node.name in names and _function_with_region(node, statements[i][2])}
    values = {i for i, (node, _, _) in enumerate(statements) if i not in functions and _binds(node) & names}

    def closure(start: set[int]) -> set[int]:
        chosen, todo = set(start), list(start)
        while todo:
            need = _needs(statements[todo.pop()][0])
            for j, (node, _, _) in enumerate(statements):
                if j not in chosen and _binds(node) & need and not isinstance(node, (ast.Expr, ast.Assert)):
                    chosen.add(j)
                    todo.append(j)
        return chosen
    outside = closure(functions) - functions
    region = closure(values) - outside - functions
    for i, (node, leading, own) in enumerate(statements):
        if i not in outside | functions or "\n".join(own).strip() in kept:
            continue
        lines = _function_with_region(node, own) if i in functions or isinstance(node, ast.FunctionDef) else None
        gap = ["", ""] if out and not out[-1].lstrip().startswith("#") and (i in functions or lines) else []
        out.extend(gap + _trim(leading) + (lines or own))
    body = _trim([line for i, (_, leading, own) in enumerate(statements) if i in region for line in [*leading, *own]])
    if body:
        out.extend(["", BEGIN, *body, END] if out and out[-1].strip() else [BEGIN, *body, END])
    if tail:
        out.extend(["", *_trim(tail)])
    return "\n".join(_trim(out)) + "\n"
