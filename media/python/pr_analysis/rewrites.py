""""Parallelize this loop": loops over files and their rewrites (a Pool, or main(path))."""
import ast

from .constants import FUNCS, LISTING_FUNCS, LISTING_METHODS, MUTATING_METHODS, WRAPPER_FUNCS
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


def file_loops(ix):
    loops = [n for n in ix.nodes(ast.For) if is_listing(ix, n.iter, ix.scope_of(n))]
    loops.sort(key=lambda n: n.lineno)
    out = []
    for loop in loops:
        out.append({
            "range": ix.rng(loop.target, loop.iter),
            "line": loop.lineno - 1,
            "target": ix.segment(loop.target),
            "iter": ix.segment(loop.iter),
            "rewrites": [rewrite_pool(ix, loop), rewrite_main(ix, loop)],
        })
    return out


def body_problems(ix, loop):
    """(reason or None, top-level continues, mutated outer names) for extracting a loop body."""
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
            return "the loop body accumulates into `%s`, which separate processes cannot share" % node.target.id, [], []
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
    for name in stored - {target}:
        for n in ix.names.get((scope, name), []):
            if isinstance(n.ctx, ast.Load) and n.lineno > loop.end_lineno:
                return "the loop body sets `%s`, which is read after the loop" % name, [], []
    outer_mut = []
    for m in mutated:
        recv = m.func.value.id if isinstance(m, ast.Call) else m.value.id
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


def body_text(ix, loop, new_indent, continues, return_stmt=None):
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
        if return_stmt is not None:
            arg = return_stmt.value.args[0]
            ind = ix.indent_of(return_stmt.lineno)
            seg = ix.segment(arg).split(ix.eol)
            new = [ind + "return " + seg[0]] + seg[1:]
            before = ix.reindent(first, return_stmt.lineno - 1, old, new_indent) if return_stmt.lineno > first else []
            ret = [new_indent + x[len(old):] if i == 0 else x for i, x in enumerate(new)]
            return before + ret
        return ix.reindent(first, last, old, new_indent)
    finally:
        ix.lines = saved


def rewrite_pool(ix, loop):
    title = "Rewrite into a multiprocessing Pool (one task per file)"
    if not isinstance(loop.target, ast.Name):
        return {"kind": "pool", "title": title, "unavailable": "the loop target is not a single name"}
    reason, continues, mutated = body_problems(ix, loop)
    collect = None
    if reason is None and mutated:
        last = loop.body[-1]
        m = mutated[0]
        if len(mutated) == 1 and isinstance(m, ast.Call) and m.func.attr == "append" and len(m.args) == 1 \
                and isinstance(last, ast.Expr) and last.value is m and not continues:
            collect = last
        else:
            name = m.func.value.id if isinstance(m, ast.Call) else m.value.id
            reason = "the loop body changes `%s`, which separate processes cannot share" % name
    if reason:
        return {"kind": "pool", "title": title, "unavailable": reason}
    fn = ix.function_of(loop)
    free = free_names(ix, loop.body, {loop.target.id}, fn)
    if fn is ix.tree and ix.in_guard(loop):
        # names assigned in the __main__ block do not exist in a spawned worker: pass them along
        guard_locals = {n.id for n in ast.walk(ix.guards[0]) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        free = [n for n in dict.fromkeys(x.id for b in loop.body for x in ast.walk(b)
                                         if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Load))
                if n in guard_locals and n != loop.target.id]
    edits = Edits()
    mp = pool_namespace(ix, edits)
    fname = ix.unique_name("process_file")
    top = ix.top_statement(loop)
    params = ", ".join(free + [loop.target.id])
    func = ["def %s(%s):" % (fname, params)]
    func.append('    """One file\'s work; runs in a worker process."""')
    func += body_text(ix, loop, "    ", continues, collect)
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
    call = "pool.map(%s, %s)" % (callable_text, ix.segment(loop.iter))
    if collect is not None:
        call = "%s.extend(%s)" % (collect.value.func.value.id, call)
    # close + join lets the workers exit normally (their buffered output is flushed); the end of
    # the `with` block alone terminates them
    new = pre + [ind + "with %s() as pool:" % mp, ind + "    " + call, ind + "    pool.close()", ind + "    pool.join()"]
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
