""""Parallelize this loop": loops over files and their rewrites (a Pool, or main(path))."""
import ast

from .constants import FUNCS, LISTING_FUNCS, LISTING_METHODS, MUTATING_METHODS, SUBMIT_METHODS, WRAPPER_FUNCS
from .edits import Edits, ensure_import, insert_before, replace_lines


def is_listing(ix, e, scope, depth=0):
    if depth > 4:
        return False
    if isinstance(e, ast.Call):
        q = ix.qualname(e.func)
        if q in LISTING_FUNCS:
            return True
        if isinstance(e.func, ast.Attribute) and e.func.attr in LISTING_METHODS and q not in ("glob.glob",):
            return not (ix.qualname(e.func.value) or "").startswith(("re", "fnmatch"))
        if q in WRAPPER_FUNCS:
            return any(is_listing(ix, a, scope, depth + 1) for a in e.args)
        return False
    if isinstance(e, (ast.ListComp, ast.GeneratorExp)):
        return is_listing(ix, e.generators[0].iter, scope, depth + 1)
    if isinstance(e, ast.Subscript) and ix.qualname(e.value) == "sys.argv":
        return True
    if isinstance(e, ast.Name):
        for sc in (scope, ix.tree):
            for n in ix.names.get((sc, e.id), []):
                if isinstance(n.ctx, ast.Store):
                    p = ix.parent.get(n)
                    if isinstance(p, ast.Assign) and is_listing(ix, p.value, sc, depth + 1):
                        return True
    return False


def collect_of(ix, loop):
    """The map-and-collect statement ending a loop body, as (kind, statement, collected expression,
    collecting name): `out.append(f(x))` ("append"), `out[k] = f(k)` with k the loop target ("dict"),
    `total += f(x)` ("sum"); None for any other last statement."""
    if not loop.body or not isinstance(loop.target, ast.Name):
        return None
    last = loop.body[-1]
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        c = last.value
        if isinstance(c.func, ast.Attribute) and c.func.attr == "append" and isinstance(c.func.value, ast.Name) \
                and len(c.args) == 1 and not c.keywords:
            return "append", last, c.args[0], c.func.value.id
    if isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0], ast.Subscript):
        t = last.targets[0]
        if isinstance(t.value, ast.Name) and isinstance(t.slice, ast.Name) and t.slice.id == loop.target.id:
            return "dict", last, last.value, t.value.id
    if isinstance(last, ast.AugAssign) and isinstance(last.op, ast.Add) and isinstance(last.target, ast.Name):
        return "sum", last, last.value, last.target.id
    return None


def in_pool_work(ix, loop):
    """The loop already feeds a pool (submits to one, or runs inside its `with` block)."""
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in SUBMIT_METHODS
           for b in loop.body for n in ast.walk(b)):
        return True
    pools = {id(c) for c, _ in ix.pool_calls}
    p = ix.parent.get(loop)
    while p is not None:
        if isinstance(p, ast.With) and any(id(i.context_expr) in pools for i in p.items):
            return True
        p = ix.parent.get(p)
    return False


def is_map_and_collect(ix, loop):
    """A loop over any iterable whose body ends by collecting a call's result (`out.append(f(x))`...),
    not already part of a pool's work."""
    c = collect_of(ix, loop)
    return c is not None and any(isinstance(n, ast.Call) for n in ast.walk(c[2])) and c[3] != loop.target.id \
        and not in_pool_work(ix, loop)


def file_loops(ix):
    loops = [n for n in ix.nodes(ast.For) if is_listing(ix, n.iter, ix.scope_of(n)) or is_map_and_collect(ix, n)]
    loops.sort(key=lambda n: n.lineno)
    out = []
    for loop in loops:
        over_files = is_listing(ix, loop.iter, ix.scope_of(loop))
        out.append({
            "range": ix.rng(loop.target, loop.iter),
            "line": loop.lineno - 1,
            "target": ix.segment(loop.target),
            "iter": ix.segment(loop.iter),
            "rewrites": [rewrite_pool(ix, loop, over_files)] + ([rewrite_main(ix, loop)] if over_files else []),
        })
    return out


def where(ix, node):
    """`line 12: seen.add(x)` for a reason given to the user."""
    stmt = ix.statement_of(node)
    text = ix.segment(stmt).split(ix.eol)[0].strip()
    return "line %d: `%s`" % (stmt.lineno, text if len(text) <= 60 else text[:57] + "...")


def body_problems(ix, loop, collected=None):
    """(reason or None, top-level continues, mutated outer names) for extracting a loop body.
    `collected`: the name a map-and-collect last statement collects into (its store is no problem)."""
    fn = ix.function_of(loop)
    target = loop.target.id
    stored, loaded, continues, mutated = set(), set(), [], []
    stack = [(s, 0) for s in loop.body]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom, ast.Await)):
            return "the loop body returns or yields", [], []
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return "the loop body declares global or nonlocal names", [], []
        if isinstance(node, ast.Break) and depth == 0:
            return "the loop body uses `break`: parallel tasks cannot stop each other", [], []
        if isinstance(node, ast.Continue) and depth == 0:
            continues.append(node)
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else stored).add(node.id)
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            if node.target.id != collected or node is not loop.body[-1]:
                return ("the loop body accumulates into `%s` (%s), which separate processes cannot share"
                        % (node.target.id, where(ix, node))), [], []
            mutated.append(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.attr in MUTATING_METHODS:
            mutated.append(node)
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name):
            mutated.append(node)
        inner = depth + (1 if isinstance(node, (ast.For, ast.While, ast.AsyncFor)) else 0)
        for child in ast.iter_child_nodes(node):
            d = inner if (isinstance(node, (ast.For, ast.While, ast.AsyncFor)) and child in getattr(node, "body", [])) else depth
            if isinstance(node, (ast.For, ast.While, ast.AsyncFor)) and child in node.orelse:
                d = depth
            stack.append((child, d))
    # names set in the body and read after the loop would silently lose their value
    scope = ix.scope_of(loop)
    for name in stored - {target, collected}:
        for n in ix.names.get((scope, name), []):
            if isinstance(n.ctx, ast.Load) and n.lineno > loop.end_lineno:
                store = next(x for b in loop.body for x in ast.walk(b)
                             if isinstance(x, ast.Name) and x.id == name and not isinstance(x.ctx, ast.Load))
                return "the loop body sets `%s` (%s), which is read after the loop" % (name, where(ix, store)), [], []
    outer_mut = []
    for m in mutated:
        recv = m.target.id if isinstance(m, ast.AugAssign) else m.func.value.id if isinstance(m, ast.Call) else m.value.id
        if recv not in stored and recv != target:
            outer_mut.append(m)
    return None, continues, outer_mut


def free_names(ix, body_nodes, exclude, fn):
    """Names read in body_nodes that are locals of the enclosing function (or of the main guard)."""
    local = set()
    if isinstance(fn, FUNCS):
        s = fn
        while isinstance(s, FUNCS + (ast.Lambda,)):
            local |= ix.bound_in(s)
            s = ix.function_of(s)
    loads, stores = [], set()
    for b in body_nodes:
        for n in ast.walk(b):
            if isinstance(n, ast.Name):
                if isinstance(n.ctx, ast.Load):
                    loads.append(n)
                else:
                    stores.add(n.id)
    out = []
    for n in loads:
        if n.id in local and n.id not in exclude and n.id not in stores and n.id not in out:
            out.append(n.id)
    return out


def body_text(ix, loop, new_indent, continues, collect=None):
    first = ix.first_line(loop.body[0], with_comments=True)
    last = loop.body[-1].end_lineno
    old = ix.indent_of(loop.body[0].lineno)
    lines = ix.lines[:]  # edit a copy: `continue` -> `return`, `X.append(e)` -> `return e`
    for c in continues:
        line = lines[c.lineno - 1]
        i = len(line.encode("utf-8")[:c.col_offset].decode("utf-8"))
        lines[c.lineno - 1] = line[:i] + "return" + line[i + len("continue"):]
    saved, ix.lines = ix.lines, lines
    try:
        if collect is not None:
            return_stmt, arg = collect
            ind = ix.indent_of(return_stmt.lineno)
            seg = ix.segment(arg).split(ix.eol)
            new = [ind + "return " + seg[0]] + seg[1:]
            before = ix.reindent(first, return_stmt.lineno - 1, old, new_indent) if return_stmt.lineno > first else []
            ret = [new_indent + x[len(old):] if i == 0 else x for i, x in enumerate(new)]
            return before + ret
        return ix.reindent(first, last, old, new_indent)
    finally:
        ix.lines = saved


def rewrite_pool(ix, loop, over_files=True):
    title = "Rewrite into a multiprocessing Pool (one task per %s)" % ("file" if over_files else "item")
    if not isinstance(loop.target, ast.Name):
        return {"kind": "pool", "title": title, "unavailable": "the loop target is not a single name"}
    found = collect_of(ix, loop)
    reason, continues, mutated = body_problems(ix, loop, found[3] if found else None)
    collect = None
    if reason is None and found and found[0] == "sum" and not mutated and not continues:
        collect = found  # `total += f(x)`: total is a store of the body, not a mutation
    elif reason is None and mutated:
        m = mutated[0]
        node_of = {"append": lambda st: st.value, "dict": lambda st: st.targets[0], "sum": lambda st: st}
        if found and len(mutated) == 1 and m is node_of[found[0]](found[1]) and not continues:
            collect = found
        else:
            name = m.target.id if isinstance(m, ast.AugAssign) else m.func.value.id if isinstance(m, ast.Call) else m.value.id
            reason = "the loop body changes `%s` (%s), which separate processes cannot share" % (name, where(ix, m))
    if reason:
        return {"kind": "pool", "title": title, "unavailable": reason}
    fn = ix.function_of(loop)
    # the collecting name stays in the parent: the worker only returns the value
    exclude = {loop.target.id} | ({collect[3]} if collect else set())
    free = free_names(ix, loop.body, exclude, fn)
    if fn is ix.tree and ix.in_guard(loop):
        # names assigned in the __main__ block do not exist in a spawned worker: pass them along
        # (not those the body sets itself)
        guard_locals = {n.id for n in ast.walk(ix.guards[0]) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        body_stores = {x.id for b in loop.body for x in ast.walk(b) if isinstance(x, ast.Name) and not isinstance(x.ctx, ast.Load)}
        free = [n for n in dict.fromkeys(x.id for b in loop.body for x in ast.walk(b)
                                         if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Load))
                if n in guard_locals and n not in exclude and n not in body_stores]
    edits = Edits()
    mp = pool_namespace(ix, edits)
    fname = ix.unique_name("process_file")
    top = ix.top_statement(loop)
    params = ", ".join(free + [loop.target.id])
    func = ["def %s(%s):" % (fname, params)]
    func.append('    """One %s\'s work; runs in a worker process."""' % ("file" if over_files else "item"))
    func += body_text(ix, loop, "    ", continues, (collect[1], collect[2]) if collect else None)
    insert_before(ix, edits, ix.first_line(top, with_comments=True), func + ["", ""])
    callable_text = fname
    if free:
        ft = ensure_import(ix, edits, "functools")
        callable_text = "%s.partial(%s, %s)" % (ft, fname, ", ".join(free))
    ind = ix.indent_of(loop.lineno)
    wrap = ix.function_of(loop) is ix.tree and not ix.in_guard(loop)
    pre = []
    if wrap:
        pre, ind = [ind + 'if __name__ == "__main__":'], ind + "    "
    iter_text = ix.segment(loop.iter)
    calls = ["pool.map(%s, %s)" % (callable_text, iter_text)]
    if collect is not None:
        kind, name = collect[0], collect[3]
        if kind == "append":
            calls = ["%s.extend(pool.map(%s, %s))" % (name, callable_text, iter_text)]
        elif kind == "sum":
            calls = ["%s += sum(pool.map(%s, %s))" % (name, callable_text, iter_text)]
        else:
            keys = ix.unique_name("keys")
            calls = ["%s = list(%s)" % (keys, iter_text),
                     "%s.update(zip(%s, pool.map(%s, %s)))" % (name, keys, callable_text, keys)]
    # close + join lets the workers exit normally (their buffered output is flushed); the end of
    # the `with` block alone terminates them
    new = pre + [ind + "with %s() as pool:" % mp] + [ind + "    " + c for c in calls] + [ind + "    pool.close()", ind + "    pool.join()"]
    replace_lines(ix, edits, loop.lineno, loop.end_lineno, new)
    return {"kind": "pool", "title": title, "edits": edits.result()}


def pool_namespace(ix, edits):
    """Text that names multiprocessing.Pool here (`Pool`, `mp.Pool`, ...), importing if needed."""
    for name, q in ix.aliases.items():
        if q in ("multiprocessing.Pool",):
            return name
    return ensure_import(ix, edits, "multiprocessing") + ".Pool"


def rewrite_main(ix, loop):
    title = "Extract the body into main(path) so Parallel Run can run it per file"
    top_level = ix.parent.get(loop) is ix.tree or (ix.parent.get(loop) in ix.guards and ix.in_guard(loop))
    if not top_level:
        return {"kind": "main", "title": title,
                "unavailable": "only a loop at the top level of the script (or of its __main__ block) can become main(path)"}
    if not isinstance(loop.target, ast.Name):
        return {"kind": "main", "title": title, "unavailable": "the loop target is not a single name"}
    reason, continues, mutated = body_problems(ix, loop)
    if reason is None and mutated:
        m = mutated[0]
        name = m.func.value.id if isinstance(m, ast.Call) else m.value.id
        reason = "the loop body collects into `%s`; with one process per file each file must write its own result" % name
    if reason:
        return {"kind": "main", "title": title, "unavailable": reason}
    edits = Edits()
    taken = ix.all_names()
    fname = "main" if "main" not in taken else ix.unique_name("process_file", taken)
    sysname = ensure_import(ix, edits, "sys")
    target = loop.target.id
    func = ["def %s(%s):" % (fname, target)]
    func.append('    """Process one file (Parallel Run runs this script once per file: `python SCRIPT FILE`)."""')
    func += body_text(ix, loop, "    ", continues)
    top = ix.top_statement(loop)
    ind = ix.indent_of(loop.lineno)
    pre = []
    if ix.parent.get(loop) is ix.tree:
        pre, ind = [ind + 'if __name__ == "__main__":'], ind + "    "
    new = pre + [
        ind + "if len(%s.argv) > 1:  # files on the command line, e.g. one per process from Parallel Run" % sysname,
        ind + "    for %s in %s.argv[1:]:" % (target, sysname),
        ind + "        %s(%s)" % (fname, target),
        ind + "else:",
        ind + "    for %s in %s:" % (target, ix.segment(loop.iter)),
        ind + "        %s(%s)" % (fname, target),
    ]
    insert_before(ix, edits, ix.first_line(top, with_comments=True), func + ["", ""])
    replace_lines(ix, edits, loop.lineno, loop.end_lineno, new)
    return {"kind": "main", "title": title, "edits": edits.result()}
