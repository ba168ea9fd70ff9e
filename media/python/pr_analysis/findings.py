"""What the code lenses show: the entry point, each pool and its process count, the script's own BLAS limit."""
import ast

from .constants import CPU_COUNT_FUNCS, DEFAULT_THREAD_VARS


def takes_input(ix, reads_argv, uses_argparse):
    """How the script gets its input: "argv" (reads sys.argv), "argparse" (a positional argument),
    "main" (`def main(path)` called from the `__main__` block), or None."""
    if reads_argv:
        return "argv"
    if uses_argparse:
        for c in ix.calls:
            if isinstance(c.func, ast.Attribute) and c.func.attr == "add_argument" and c.args \
                    and isinstance(c.args[0], ast.Constant) and isinstance(c.args[0].value, str) \
                    and not c.args[0].value.startswith("-"):
                return "argparse"
    main = ix.defs.get((ix.tree, "main"))
    if main is not None and (main.args.posonlyargs or main.args.args) and ix.guards:
        for g in ix.guards:
            for n in ast.walk(g):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "main" and (n.args or n.keywords):
                    return "main"
    return None


def entry_point(ix):
    reads_argv = any(n.attr == "argv" and ix.qualname(n) == "sys.argv" for n in ix.nodes(ast.Attribute)) \
        or "sys.argv" in ix.aliases.values()
    uses_argparse = any(q and q.startswith("argparse.") for q in ix.aliases.values()) or "argparse" in ix.aliases.values()
    base = {"readsArgv": reads_argv, "usesArgparse": uses_argparse, "takesInput": takes_input(ix, reads_argv, uses_argparse)}
    if ix.guards:
        g = ix.guards[0]
        return dict(base, kind="mainGuard", range=ix.rng(g.test), line=g.lineno - 1)
    main = ix.defs.get((ix.tree, "main"))
    if main is not None:
        return dict(base, kind="mainFunction", range=ix.line_range(main.lineno), line=main.lineno - 1)
    # a plain script: top-level code that does work (a loop, a call) starts it
    for stmt in ix.tree.body:
        if isinstance(stmt, (ast.For, ast.While, ast.With, ast.Try)) or (
                isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return dict(base, kind="topLevel", range=ix.line_range(ix.first_line(stmt)), line=stmt.lineno - 1)
    return None


def pool_info(ix, call, kind):
    info = {"kind": kind, "range": ix.rng(call), "line": ix.statement_of(call).lineno - 1,
            "text": ix.segment(call.func)}
    if kind == "Process":
        count, node = 1, call
        fn = ix.function_of(call)
        while node is not None and node is not fn:
            p = ix.parent.get(node)
            if isinstance(p, (ast.For, ast.AsyncFor)) and any(s is node for s in p.body):
                n = range_len(ix, p.iter)
                count = None if n is None or count is None else count * n
            elif isinstance(p, (ast.While,)) and any(s is node for s in p.body):
                count = None
            elif isinstance(p, (ast.ListComp, ast.GeneratorExp, ast.SetComp)) and node is p.elt:
                for g in p.generators:
                    n = range_len(ix, g.iter)
                    count = None if n is None or count is None else count * n
            node = p
        info["processes"] = {"value": count, "source": "loop" if count != 1 else "single",
                             "text": None} if count is not None else {"value": None, "source": "unknown", "text": None}
        return info
    kw = "processes" if kind == "Pool" else "max_workers"
    arg = next((k.value for k in call.keywords if k.arg == kw), call.args[0] if call.args else None)
    if arg is None or (isinstance(arg, ast.Constant) and arg.value is None):
        info["processes"] = {"value": ix.cores, "source": "default", "text": None}
    else:
        val, uses_cores = eval_int(ix, arg)
        src = "literal" if isinstance(arg, ast.Constant) else ("cpuCount" if uses_cores else "expression")
        info["processes"] = {"value": val if val is None else max(1, val), "source": src if val is not None else "unknown",
                             "text": ix.segment(arg), "argRange": ix.rng(arg)}
    return info


def env_limit_stmts(ix):
    """(stmt, var, value) for module-level os.environ thread-variable assignments."""
    out = []
    for stmt in ix.nodes(ast.Assign, ast.Expr):
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Subscript) and ix.qualname(t.value) == "os.environ" \
                        and isinstance(t.slice, ast.Constant) and t.slice.value in ix.thread_vars + DEFAULT_THREAD_VARS:
                    out.append((stmt, t.slice.value, stmt.value))
        elif isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) \
                and ix.qualname(stmt.value.func.value) == "os.environ":
            c = stmt.value
            if c.func.attr == "setdefault" and len(c.args) == 2 and isinstance(c.args[0], ast.Constant) \
                    and c.args[0].value in ix.thread_vars + DEFAULT_THREAD_VARS:
                out.append((stmt, c.args[0].value, c.args[1]))
            elif c.func.attr == "update" and c.args and isinstance(c.args[0], ast.Dict):
                for k, v in zip(c.args[0].keys, c.args[0].values):
                    if isinstance(k, ast.Constant) and k.value in ix.thread_vars + DEFAULT_THREAD_VARS:
                        out.append((stmt, k.value, v))
    # a `for var in (...): os.environ.setdefault(var, "1")` loop also counts
    for node in ix.nodes(ast.For):
        if isinstance(node.iter, (ast.Tuple, ast.List)) and any(
                isinstance(e, ast.Constant) and e.value in DEFAULT_THREAD_VARS for e in node.iter.elts):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute) \
                        and ix.qualname(stmt.func.value) == "os.environ" and len(stmt.args) == 2:
                    out.append((node, "OMP_NUM_THREADS", stmt.args[1]))
    return out


def threadpool_limit_calls(ix):
    return [c for c in ix.calls if (ix.qualname(c.func) or "").startswith("threadpoolctl.threadpool_limits")
            or (ix.qualname(c.func) or "").startswith("threadpoolctl.ThreadpoolController")]


def thread_limit(ix):
    def value_of(e):
        if isinstance(e, ast.Constant):
            try:
                return int(e.value)
            except (TypeError, ValueError):
                return None
        return None
    for c in threadpool_limit_calls(ix):
        arg = next((k.value for k in c.keywords if k.arg == "limits"), c.args[0] if c.args else None)
        return {"value": value_of(arg) if arg is not None else None, "source": "threadpoolctl", "line": c.lineno - 1}
    for stmt, var, val in env_limit_stmts(ix):
        return {"value": value_of(val), "source": "env", "var": var, "line": stmt.lineno - 1}
    return None


def eval_int(ix, e, depth=0):
    """(value, uses_cores) of a small integer expression, or (None, False)."""
    if depth > 6 or e is None:
        return None, False
    if isinstance(e, ast.Constant) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value, False
    if isinstance(e, ast.Name):
        for stmt in ix.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                    and stmt.targets[0].id == e.id:
                return eval_int(ix, stmt.value, depth + 1)
        return None, False
    if isinstance(e, ast.Call):
        q = ix.qualname(e.func)
        if q in CPU_COUNT_FUNCS:
            return ix.cores, True
        if q == "len" and e.args and isinstance(e.args[0], ast.Call) and ix.qualname(e.args[0].func) == "os.sched_getaffinity":
            return ix.cores, True
        if q in ("max", "min", "int") and e.args:
            vals = [eval_int(ix, a, depth + 1) for a in e.args]
            if all(v is not None for v, _ in vals):
                nums = [v for v, _ in vals]
                val = nums[0] if q == "int" else (max(nums) if q == "max" else min(nums))
                return val, any(c for _, c in vals)
        return None, False
    if isinstance(e, ast.BoolOp) and isinstance(e.op, ast.Or):
        for v in e.values:
            val, c = eval_int(ix, v, depth + 1)
            if val:
                return val, c
        return None, False
    if isinstance(e, ast.BinOp):
        (a, ca), (b, cb) = eval_int(ix, e.left, depth + 1), eval_int(ix, e.right, depth + 1)
        if a is None or b is None:
            return None, False
        op = type(e.op)
        try:
            val = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.FloorDiv: lambda: a // b, ast.Div: lambda: int(a / b)}[op]()
        except (KeyError, ZeroDivisionError):
            return None, False
        return val, ca or cb
    return None, False


def range_len(ix, it):
    if not (isinstance(it, ast.Call) and ix.qualname(it.func) == "range" and 1 <= len(it.args) <= 3):
        return None
    vals = [eval_int(ix, a)[0] for a in it.args]
    if any(v is None for v in vals):
        return None
    r = range(*vals) if len(vals) > 1 else range(vals[0])
    return len(r)
