"""PR004: a lambda or nested function handed to a process pool."""
import ast

from ..constants import FUNCS, POOL_CTORS, SUBMIT_METHODS
from ..edits import Edits, ensure_import, insert_before, replace_lines
from ..scope import u16len
from .. import start_method


def process_pool_receivers(ix):
    """Names bound to process pools: (scope, name) -> the constructor call."""
    out = {}
    for call, kind in ix.pool_calls:
        if kind == "Process":
            continue
        p = ix.parent.get(call)
        if isinstance(p, ast.withitem) and isinstance(p.optional_vars, ast.Name):
            out[(ix.scope_of(call), p.optional_vars.id)] = call
        elif isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name):
            out[(ix.scope_of(call), p.targets[0].id)] = call
    return out


def pool_targets(ix):
    """(call, callable expression, "pool" | "process", constructor call) for every callable handed to a
    process pool's map/submit/apply... or to a Process as its target."""
    receivers = process_pool_receivers(ix)
    for call in ix.calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr in SUBMIT_METHODS:
            recv = call.func.value
            ctor = None
            if isinstance(recv, ast.Name):
                s = ix.scope_of(call)
                while s is not None:
                    if (s, recv.id) in receivers:
                        ctor = receivers[(s, recv.id)]
                        break
                    s = ix.scope_of(s) if s is not ix.tree else None
            elif isinstance(recv, ast.Call) and POOL_CTORS.get(ix.qualname(recv.func)) in ("Pool", "ProcessPoolExecutor"):
                ctor = recv
            if ctor is None:
                continue
            kw = SUBMIT_METHODS[call.func.attr]
            target = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == kw), None)
            if target is not None:
                yield call, target, "pool", ctor
        elif POOL_CTORS.get(ix.qualname(call.func)) == "Process":
            target = next((k.value for k in call.keywords if k.arg == "target"), call.args[1] if len(call.args) > 1 else None)
            if target is not None:
                yield call, target, "process", call


def resolve_callable(ix, expr, at):
    """('lambda'|'nested'|'guarded', node) when expr cannot be pickled by reference, else None."""
    if isinstance(expr, ast.Lambda):
        return "lambda", expr
    if isinstance(expr, ast.Call) and (ix.qualname(expr.func) or "") in ("functools.partial",) and expr.args:
        return resolve_callable(ix, expr.args[0], at)
    if not isinstance(expr, ast.Name):
        return None
    scope = ix.scope_of(at)
    while scope is not None:
        d = ix.defs.get((scope, expr.id))
        if d is not None:
            if isinstance(scope, FUNCS):
                return "nested", d
            if scope is ix.tree and ix.in_guard(d):
                return "guarded", d
            return None
        for n in ix.names.get((scope, expr.id), []):
            p = ix.parent.get(n)
            if isinstance(n.ctx, ast.Store) and isinstance(p, ast.Assign) and isinstance(p.value, ast.Lambda):
                return "namedLambda", p
        if (scope, expr.id) in ix.names and any(not isinstance(n.ctx, ast.Load) for n in ix.names[(scope, expr.id)]):
            return None
        scope = ix.scope_of(scope) if scope is not ix.tree else None
    return None


def check_unpicklable(ix):
    for call, target, where, ctor in pool_targets(ix):
        found = resolve_callable(ix, target, call)
        if not found:
            continue
        what, node = found
        desc = {"lambda": "A lambda", "namedLambda": "`%s` is a lambda and" % ix.segment(target),
                "nested": "`%s` is a nested function and" % getattr(node, "name", "?"),
                "guarded": "`%s` is defined inside `if __name__ == \"__main__\":` and" % getattr(node, "name", "?")}[what]
        sm = start_method.for_pool(ix, ctor)
        if where == "pool" and what != "guarded":
            sev, msg = "error", ("%s cannot be pickled, so the process pool cannot send it to its workers "
                                 "(PicklingError / \"Can't pickle local object\" at run time). Define it with `def` "
                                 "at module level." % desc)
        elif start_method.pickles(sm):
            sev, msg = "error", ("%s cannot be pickled, and the start method here is %s: the worker gets its "
                                 "target by pickling, so it fails at start (PicklingError, or AttributeError in "
                                 "the worker). Define it with `def` at module level." % (desc, start_method.describe(sm)))
        else:
            sev, msg = "warning", ("%s cannot be pickled. It works here only because the start method is %s, which "
                                   "copies this process instead of pickling the target; it fails under spawn or "
                                   "forkserver (the defaults on macOS and Windows, and on Linux from Python 3.14). "
                                   "Define it with `def` at module level." % (desc, start_method.describe(sm)))
        ix.diag("PR004", sev, target, msg, [fix_unpicklable(ix, what, node, target)])


def fix_unpicklable(ix, what, node, use):
    edits = Edits()
    if what == "namedLambda":
        name = node.targets[0].id
        lam = node.value
        if ix.function_of(node) is ix.tree and not ix.in_guard(node):
            ind = ix.indent_of(node.lineno)
            body = ix.segment(lam.body).split(ix.eol)
            lines = [ind + "def %s(%s):" % (name, lambda_params(ix, lam)), ind + "    return " + body[0]] + body[1:]
            replace_lines(ix, edits, node.lineno, node.end_lineno, lines)
            return {"title": "Turn `%s` into a module-level `def`" % name, "edits": edits.result(), "isPreferred": True}
        return move_to_module(ix, edits, name, lam, node, use, is_lambda=True)
    if what == "lambda":
        name = ix.unique_name("_pool_task")
        return move_to_module(ix, edits, name, node, None, use, is_lambda=True)
    return move_to_module(ix, edits, node.name, node, node, use, is_lambda=False)


def lambda_params(ix, lam):
    """`x, y=1` of `lambda x, y=1: ...`, as written (ast.unparse needs Python 3.9)."""
    start = ix.lines[lam.lineno - 1].encode("utf-8")[lam.col_offset:]
    if lam.body.lineno == lam.lineno:
        text = start[: lam.body.col_offset - lam.col_offset].decode("utf-8")
    else:
        text = ix.segment(lam).split(":", 1)[0] + ":"
    text = text.strip()
    return text[len("lambda"):].rstrip().rstrip(":").strip()


def move_to_module(ix, edits, name, fn, stmt, use, is_lambda):
    """Define fn at module level (free variables become leading parameters bound with functools.partial)."""
    host = ix.function_of(fn)
    if any(isinstance(n, (ast.Nonlocal, ast.Global)) for n in ast.walk(fn)):
        return None
    own = ix.bound_in(fn)
    free = []
    s = host
    local = set()
    while isinstance(s, FUNCS + (ast.Lambda,)):
        local |= ix.bound_in(s)
        s = ix.function_of(s)
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in local and n.id not in own \
                and n.id != name and n.id not in free:
            free.append(n.id)
    top = ix.top_statement(fn)
    if stmt is not None and ix.function_of(stmt) is ix.tree and not free and ix.in_guard(stmt):
        top = next(g for g in ix.guards if ix.in_guard(stmt))
    if is_lambda:
        args = lambda_params(ix, fn)
        params = ", ".join(free + ([args] if args else []))
        body = ix.segment(fn.body).split(ix.eol)
        lines = ["def %s(%s):" % (name, params), "    return " + body[0]] + body[1:]
    else:
        if name in ix.module_names() - {name} or (ix.tree, name) in ix.defs:
            return None
        a = fn.args
        args = bool(a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg)
        head_old = ix.indent_of(fn.lineno)
        src = ix.reindent(ix.first_line(fn, True), fn.end_lineno, head_old, "")
        if free:
            # add the captured names as leading parameters
            k = next(i for i, l in enumerate(src) if l.lstrip().startswith(("def ", "async def ")))
            src[k] = src[k].replace("(", "(" + ", ".join(free) + (", " if args else ""), 1)
        lines = src
    insert_before(ix, edits, ix.first_line(top, True), lines + ["", ""])
    if stmt is not None:
        block, i = ix.block_of(stmt)
        first, last = ix.first_line(stmt, True), stmt.end_lineno
        if len(block) == 1:
            replace_lines(ix, edits, first, last, [ix.indent_of(stmt.lineno) + "pass"])
        else:
            while last < len(ix.lines) - 1 and not ix.lines[last].strip():
                last += 1  # take the blank lines after the removed definition too
            if last < len(ix.lines):
                edits.add((first - 1, 0), (last, 0), "")
            else:
                edits.add((first - 2, u16len(ix.lines[first - 2])), (last - 1, u16len(ix.lines[last - 1])), "")
    ref = name
    if free:
        ft = ensure_import(ix, edits, "functools")
        ref = "%s.partial(%s, %s)" % (ft, name, ", ".join(free))
    uses = [use]
    if stmt is not None and free:
        uses = [n for n in ix.names.get((ix.scope_of(use), name), []) if isinstance(n.ctx, ast.Load)] or [use]
    if is_lambda and stmt is None or free or ref != ix.segment(use):
        for u in uses:
            # functools.partial(nested, ...): replace only the function inside it
            target = u.args[0] if isinstance(u, ast.Call) and u.args else u
            s, e = ix.pos(target.lineno, target.col_offset), ix.pos(target.end_lineno, target.end_col_offset)
            edits.add(s, e, ref)
    title = ("Move `%s` to module level" % name) if not is_lambda or stmt is not None else \
        "Replace the lambda with a module-level function `%s`" % name
    if free:
        title += " (passing %s with functools.partial)" % ", ".join("`%s`" % f for f in free)
    return {"title": title, "edits": edits.result(), "isPreferred": True}
