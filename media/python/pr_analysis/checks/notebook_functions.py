"""PR006: a function defined in a notebook handed to a process pool.

A notebook's code runs in the kernel's `__main__`, which has no file. A worker started with spawn or
forkserver is a fresh interpreter: it unpickles the function by looking it up in its own `__main__`,
which does not have it (AttributeError: Can't get attribute 'f' on <module '__main__'>). fork copies
the kernel and hides this. The fix moves the function, the functions it calls and what they use into
`<notebook>_workers.py` beside the notebook, and imports it from there.
"""
import ast
import builtins
import keyword
import re

from .. import start_method
from ..edits import Edits, replace_lines
from .unpicklable import pool_targets

BUILTINS = set(dir(builtins))


def module_name(ix):
    base = ix.options.get("workersModule") or "notebook_workers"
    name = re.sub(r"\W", "_", base)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = "nb_" + name
    return name


def notebook_function(ix, expr):
    """The module-level def `expr` names (through functools.partial), or None."""
    if isinstance(expr, ast.Call) and (ix.qualname(expr.func) or "") == "functools.partial" and expr.args:
        return notebook_function(ix, expr.args[0])
    if isinstance(expr, ast.Name):
        d = ix.defs.get((ix.tree, expr.id))
        if d is not None and d in ix.tree.body:
            return d
    return None


def check_notebook_functions(ix):
    if not ix.notebook:
        return
    for call, target, where, ctor in pool_targets(ix):
        fn = notebook_function(ix, target)
        if fn is None:
            continue
        sm = start_method.for_pool(ix, ctor)
        fix, unresolved = fix_move_to_module(ix, fn)
        hint = (" It uses %s, defined in the notebook by code that cannot move with it: pass %s as an argument "
                "(functools.partial), then move it." % (", ".join("`%s`" % u for u in unresolved),
                                                       "it" if len(unresolved) == 1 else "them")) if unresolved else ""
        if start_method.pickles(sm):
            sev = "error"
            msg = ("`%s` is defined in this notebook, and the start method here is %s: each worker is a fresh "
                   "interpreter that looks `%s` up in its own `__main__`, which in a notebook is not this code, so "
                   "the workers fail (AttributeError: Can't get attribute '%s' on <module '__main__'>). Move it to a "
                   "module beside the notebook and import it." % (fn.name, start_method.describe(sm), fn.name, fn.name))
        else:
            sev = "information"
            msg = ("`%s` is defined in this notebook. It works here only because the start method is %s, which copies "
                   "the kernel; under spawn or forkserver (the defaults on macOS and Windows, and on Linux from "
                   "Python 3.14) the workers cannot find it (AttributeError: Can't get attribute '%s' on <module "
                   "'__main__'>). Move it to a module beside the notebook so it runs everywhere."
                   % (fn.name, start_method.describe(sm), fn.name))
        ix.diag("PR006", sev, target, msg + hint, [fix])


def _top_level(ix):
    defs, imports, assigns = {}, {}, {}
    for stmt in ix.tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[stmt.name] = stmt
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for a in stmt.names:
                imports[(a.asname or a.name).split(".")[0] if isinstance(stmt, ast.Import) else (a.asname or a.name)] = stmt
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        assigns.setdefault(n.id, []).append(stmt)
    return defs, imports, assigns


def module_refs(ix, node):
    """Names `node` reads that resolve to the module scope (not bound in a function inside it)."""
    out, cache = [], {}
    for n in ast.walk(node):
        if not (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)) or n.id in out:
            continue
        s = ix.scope_of(n)
        local = False
        while s is not None and s is not ix.tree:
            if s not in cache:
                cache[s] = ix.bound_in(s) if not isinstance(s, ast.ClassDef) else set()
            if n.id in cache[s]:
                local = True
                break
            s = ix.scope_of(s)
        if not local:
            out.append(n.id)
    return out


def _constant(ix, stmt, imports):
    """A module-level assignment that can be copied: literals, and names of imports."""
    for n in ast.walk(stmt.value if stmt.value is not None else stmt):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in imports and n.id not in BUILTINS:
            return False
        if isinstance(n, (ast.Call, ast.Lambda, ast.Await, ast.Yield, ast.NamedExpr)):
            # a call could read data or have effects: only simple constructors of literals are copied
            if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("frozenset", "set", "tuple", "dict", "list")):
                return False
    return True


def fix_move_to_module(ix, fn):
    """(fix, unresolved names): the quick fix moving `fn` and what it uses to `<notebook>_workers.py`."""
    defs, imports, assigns = _top_level(ix)
    moved, copied, unresolved = [fn], [], []
    queue = [fn]
    while queue:
        node = queue.pop()
        for name in module_refs(ix, node):
            if name in defs:
                d = defs[name]
                if d not in moved:
                    moved.append(d)
                    queue.append(d)
            elif name in imports:
                if imports[name] not in copied:
                    copied.append(imports[name])
            elif name in assigns:
                stmts = assigns[name]
                if len(stmts) == 1 and _constant(ix, stmts[0], imports):
                    if stmts[0] not in copied:
                        copied.append(stmts[0])
                        queue.append(stmts[0])
                elif name not in unresolved:
                    unresolved.append(name)
            elif name not in BUILTINS and name not in unresolved:
                unresolved.append(name)
    if unresolved:
        return None, unresolved
    mod = module_name(ix)
    moved.sort(key=lambda s: s.lineno)
    copied.sort(key=lambda s: s.lineno)
    head = [s for s in copied if isinstance(s, (ast.Import, ast.ImportFrom))]
    consts = [s for s in copied if s not in head]
    body = []
    for s in head:
        body += ix.lines[ix.first_line(s) - 1:s.end_lineno]
    if consts:
        body.append("")
        for s in consts:
            body += ix.lines[ix.first_line(s) - 1:s.end_lineno]
    for d in moved:
        body += ["", ""] + ix.reindent(ix.first_line(d, True), d.end_lineno, "", "")
    doc = ['"""Functions the notebook hands to its process pool. Moved here from the notebook by Parallel Run:',
           'workers started with spawn or forkserver import them from this module (they cannot see the notebook)."""']
    names = [d.name for d in moved]
    edits = Edits()
    first = moved[0]
    ind = ix.indent_of(first.lineno)
    replace_lines(ix, edits, ix.first_line(first, True), first.end_lineno,
                  [ind + "from %s import %s" % (mod, ", ".join(names))])
    for d in moved[1:]:
        replace_lines(ix, edits, ix.first_line(d, True), d.end_lineno, [])
    text = "\n".join(doc + body).rstrip() + "\n"
    others = [n for n in names if n != fn.name]
    also = " (with %s)" % ", ".join("`%s`" % n for n in others) if others else ""
    return {"title": "Move `%s` to a module (%s.py)%s" % (fn.name, mod, also), "edits": edits.result(), "isPreferred": True,
            "files": [{"name": mod + ".py", "text": text, "appendText": "\n".join(body).strip("\n") + "\n"}]}, []
