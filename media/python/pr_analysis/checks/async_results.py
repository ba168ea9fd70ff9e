"""PR003: an `apply_async` result never fetched with `.get()`."""
import ast

from ..constants import ASYNC_METHODS, HARMLESS_BUILTINS
from ..edits import Edits, insert_after, insert_before


def collection_fetched(ix, coll, scope):
    for n in ix.names.get((scope, coll), []):
        if not isinstance(n.ctx, ast.Load):
            continue
        q = ix.parent.get(n)
        if isinstance(q, ast.Attribute) and q.value is n and q.attr in ("append", "extend", "insert"):
            continue
        if isinstance(q, ast.Attribute) and q.value is n and q.attr in ("values", "items"):
            q = ix.parent.get(ix.parent.get(q))  # D.values() -> the call -> its user
            n = ix.parent.get(ix.parent.get(n))
        if isinstance(q, ast.Subscript) and q.value is n:
            return True  # results[i].get() or handed along
        if isinstance(q, (ast.For, ast.comprehension)) and q.iter is n or (
                isinstance(q, ast.Call) and isinstance(ix.parent.get(q), (ast.For, ast.comprehension))
                and ix.parent.get(q).iter is q):
            loop = q if isinstance(q, (ast.For, ast.comprehension)) else ix.parent.get(q)
            targets = {t.id for t in ast.walk(loop.target) if isinstance(t, ast.Name)}
            where = loop.body if isinstance(loop, ast.For) else [ix.parent.get(loop)]
            for w in where:
                for c in ast.walk(w):
                    if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "get" \
                            and isinstance(c.func.value, ast.Name) and c.func.value.id in targets:
                        return True
            continue
        if isinstance(q, ast.Call) and ix.qualname(q.func) in HARMLESS_BUILTINS:
            continue  # len(jobs), print(jobs): looks at the list, fetches nothing
        return True  # passed to a function, returned, ...: assume it is fetched there
    return False


def name_fetched(ix, name, scope, after):
    for n in ix.names.get((scope, name), []):
        if not isinstance(n.ctx, ast.Load):
            continue
        q = ix.parent.get(n)
        if isinstance(q, ast.Attribute) and q.value is n:
            if q.attr == "get":
                return True, None
            continue
        if isinstance(q, ast.Call) and isinstance(q.func, ast.Attribute) and q.func.attr in ("append", "extend") \
                and isinstance(q.func.value, ast.Name) and n in q.args:
            return collection_fetched(ix, q.func.value.id, scope), q.func.value.id
        return True, None
    return False, None


def check_async_results(ix):
    for call in ix.calls:
        if not (isinstance(call.func, ast.Attribute) and call.func.attr in ASYNC_METHODS):
            continue
        if any(k.arg == "error_callback" for k in call.keywords):
            continue
        p = ix.parent.get(call)
        scope = ix.scope_of(call)
        fix = None
        if isinstance(p, ast.Expr):
            fix = fix_collect(ix, call, p)
        elif isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name):
            ok, coll = name_fetched(ix, p.targets[0].id, scope, p)
            if ok:
                continue
            fix = fix_get_collection(ix, coll, scope, p) if coll else fix_get_name(ix, p.targets[0].id, p)
        elif isinstance(p, ast.Call) and isinstance(p.func, ast.Attribute) and p.func.attr == "append" \
                and isinstance(p.func.value, ast.Name):
            if collection_fetched(ix, p.func.value.id, scope):
                continue
            fix = fix_get_collection(ix, p.func.value.id, scope, ix.statement_of(p))
        elif isinstance(p, (ast.ListComp, ast.DictComp)) and isinstance(ix.parent.get(p), ast.Assign) \
                and isinstance(ix.parent[p].targets[0], ast.Name):
            coll = ix.parent[p].targets[0].id
            if collection_fetched(ix, coll, scope):
                continue
            fix = fix_get_collection(ix, coll, scope, ix.parent[p], values=isinstance(p, ast.DictComp))
        else:
            continue
        fn = call.args[0] if call.args else None
        fname = ix.segment(fn) if fn is not None else "the task"
        ix.diag("PR003", "warning", call,
                  "The result of `%s(...)` is never fetched with `.get()`: if `%s` raises, the exception is "
                  "silently lost (and the pool may be closed before the task finishes)." % (ix.segment(call.func), fname),
                  [fix])


def enclosing_loop(ix, stmt):
    fn = ix.function_of(stmt)
    node, loop = stmt, None
    while node is not None and node is not fn:
        p = ix.parent.get(node)
        if isinstance(p, (ast.For, ast.While, ast.AsyncFor)) and any(s is node for s in p.body):
            loop = p
            break
        node = p
    return loop


def get_loop(ix, ind, coll, values=False):
    return [ind + "for async_result in %s%s:" % (coll, ".values()" if values else ""),
            ind + "    async_result.get()  # re-raises the task's exception here"]


def fix_collect(ix, call, stmt):
    edits = Edits()
    loop = enclosing_loop(ix, stmt)
    title = "Collect the async results and call `.get()` on each"
    if loop is None:
        name = ix.unique_name("async_result")
        s = ix.pos(call.lineno, call.col_offset)
        edits.add(s, s, name + " = ")
        ind = ix.indent_of(stmt.lineno)
        insert_after(ix, edits, stmt.end_lineno, [ind + name + ".get()  # re-raises the task's exception here"])
        return {"title": "Keep the async result and call `.get()`", "edits": edits.result(), "isPreferred": True}
    coll = ix.unique_name("async_results")
    ind = ix.indent_of(loop.lineno)
    insert_before(ix, edits, ix.first_line(loop, True), [ind + coll + " = []"])
    s, e = ix.pos(call.lineno, call.col_offset), ix.pos(call.end_lineno, call.end_col_offset)
    edits.add(s, s, coll + ".append(")
    edits.add(e, e, ")")
    insert_after(ix, edits, loop.end_lineno, get_loop(ix, ind, coll))
    return {"title": title, "edits": edits.result(), "isPreferred": True}


def fix_get_name(ix, name, stmt):
    edits = Edits()
    loop = enclosing_loop(ix, stmt)
    if loop is None:
        insert_after(ix, edits, stmt.end_lineno, [ix.indent_of(stmt.lineno) + name + ".get()  # re-raises the task's exception here"])
        return {"title": "Call `%s.get()`" % name, "edits": edits.result(), "isPreferred": True}
    coll = ix.unique_name("async_results")
    ind = ix.indent_of(loop.lineno)
    insert_before(ix, edits, ix.first_line(loop, True), [ind + coll + " = []"])
    insert_after(ix, edits, stmt.end_lineno, [ix.indent_of(stmt.lineno) + "%s.append(%s)" % (coll, name)])
    insert_after(ix, edits, loop.end_lineno, get_loop(ix, ind, coll))
    return {"title": "Collect the async results and call `.get()` on each", "edits": edits.result(), "isPreferred": True}


def fix_get_collection(ix, coll, scope, stmt, values=False):
    loop = enclosing_loop(ix, stmt)
    # fetch after the loop that fills the collection (or after the comprehension)
    anchor = loop if loop is not None and not isinstance(stmt, ast.Assign) else stmt
    edits = Edits()
    insert_after(ix, edits, anchor.end_lineno, get_loop(ix, ix.indent_of(anchor.lineno), coll, values))
    return {"title": "Call `.get()` on every result in `%s`" % coll, "edits": edits.result(), "isPreferred": True}
