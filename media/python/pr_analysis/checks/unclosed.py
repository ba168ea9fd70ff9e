"""PR002: a pool neither used with `with` nor closed and joined."""
import ast

from ..constants import FUNCS
from ..edits import Edits, replace_lines


def references(ix, node, names):
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def check_unclosed(ix):
    for call, kind in ix.pool_calls:
        if kind == "Process":
            continue
        p = ix.parent.get(call)
        if isinstance(p, ast.withitem):
            continue
        if isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name):
            name = p.targets[0].id
            scope = ix.scope_of(call)
            scopes = [scope] if scope is not ix.tree else list(ix.name_scopes.get(name, ()))
            uses = [n for sc in scopes for n in ix.names.get((sc, name), []) if isinstance(n.ctx, ast.Load)]
            attrs = set()
            escaped = False
            for n in uses:
                q = ix.parent.get(n)
                if isinstance(q, ast.Attribute) and q.value is n:
                    attrs.add(q.attr)
                elif isinstance(q, ast.withitem) or (isinstance(q, ast.Call) and n in q.args + [k.value for k in q.keywords]):
                    escaped = True  # `with pool:` or handed to code that may close it
                elif isinstance(q, (ast.Return, ast.Assign, ast.Yield, ast.Tuple, ast.List, ast.Dict, ast.keyword)):
                    escaped = True
            if escaped:
                continue
            closed = ("shutdown" in attrs) if kind == "ProcessPoolExecutor" else (
                ("close" in attrs or "terminate" in attrs) and "join" in attrs)
            if closed:
                continue
            fix = fix_with_assigned(ix, p, name, call)
        elif isinstance(p, ast.Attribute) and p.value is call:
            fix = fix_with_inline(ix, call)
        else:
            continue  # stored on an object, passed along: someone else owns it
        what = "shut down (`.shutdown()`)" if kind == "ProcessPoolExecutor" else "closed and joined (`.close()` + `.join()`)"
        ix.diag("PR002", "warning", call,
                  "%s is neither used in a `with` block nor %s: its worker processes may outlive the work, and an "
                  "exception leaves them running." % (kind, what), [fix])


def fix_with_assigned(ix, assign, name, call):
    block, k = ix.block_of(assign)
    if block is None:
        return None
    tainted, end = {name}, k
    for j in range(k + 1, len(block)):
        s = block[j]
        if references(ix, s, tainted):
            end = j
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                    tainted.add(n.id)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) \
                        and references(ix, ast.Module(body=[], type_ignores=[]) if not n.args else n.args[0], tainted):
                    tainted.add(n.func.value.id)
    ind = ix.indent_of(assign.lineno)
    tail = ix.lines[assign.end_lineno - 1].encode("utf-8")[assign.end_col_offset:].decode("utf-8").strip()
    head = ind + "with %s as %s:" % (ix.segment(call), name) + ("  " + tail if tail.startswith("#") else "")
    # definitions between the pool and its last use stay outside the `with` block (hoisted above it)
    hoisted, body = [], []
    for s in block[k + 1:end + 1]:
        first = ix.first_line(s, True)
        if isinstance(s, FUNCS + (ast.ClassDef, ast.Import, ast.ImportFrom)):
            hoisted += ix.lines[first - 1:s.end_lineno] + ["", ""]
        else:
            if body and not ix.lines[first - 2].strip():
                body.append("")
            body += ix.reindent(first, s.end_lineno, ind, ind + "    ")
    edits = Edits()
    replace_lines(ix, edits, ix.first_line(assign), block[end].end_lineno,
                       hoisted + [head] + (body or [ind + "    pass"]))
    return {"title": "Use the pool in a `with` block (closes it and reaps its processes)", "edits": edits.result(),
            "isPreferred": True}


def fix_with_inline(ix, call):
    stmt = ix.statement_of(call)
    if not isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)) or isinstance(stmt, ast.Return):
        return None
    name = ix.unique_name("pool")
    ind = ix.indent_of(stmt.lineno)
    text = ix.segment(stmt)
    rel = ix.segment(call)
    body = text.replace(rel, name, 1)
    lines = [ind + "with %s as %s:" % (rel, name)] + [ind + "    " + l if i == 0 else l for i, l in enumerate(body.split(ix.eol))]
    edits = Edits()
    replace_lines(ix, edits, stmt.lineno, stmt.end_lineno, lines)
    return {"title": "Create the pool in a `with` block (closes it and reaps its processes)", "edits": edits.result(),
            "isPreferred": True}
