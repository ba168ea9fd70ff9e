"""PR005: numpy/scipy imported before BLAS threads are limited, in a script that starts a pool."""
import ast

from ..constants import BLAS_MODULES
from ..edits import Edits, insert_after, insert_before
from ..findings import env_limit_stmts, threadpool_limit_calls


def check_blas_import(ix):
    if not ix.pool_calls:
        return
    module_level_pool = any(ix.function_of(c) is ix.tree for c, _ in ix.pool_calls)
    if not (ix.guards or module_level_pool):
        return  # a library module: the script that imports it decides about threads
    if threadpool_limit_calls(ix) or any(q.startswith("threadpoolctl") for q in ix.aliases.values()):
        return
    imports = []
    for stmt in ix.nodes(ast.Import, ast.ImportFrom):
        if ix.function_of(stmt) is ix.tree:
            mods = [a.name for a in stmt.names] if isinstance(stmt, ast.Import) else [stmt.module or ""]
            if any(m.split(".")[0] in BLAS_MODULES for m in mods) and (not isinstance(stmt, ast.ImportFrom) or stmt.level == 0):
                imports.append(stmt)
    if not imports:
        return
    first = min(imports, key=lambda s: s.lineno)
    limits = env_limit_stmts(ix)
    if any(s.lineno < first.lineno for s, _, _ in limits):
        return
    late = " (the `os.environ` limit on line %d comes after it: too late, BLAS reads it at import)" % (limits[0][0].lineno) if limits else ""
    mod = next(m for m in ([a.name for a in first.names] if isinstance(first, ast.Import) else [first.module])
               if m.split(".")[0] in BLAS_MODULES).split(".")[0]
    ix.diag("PR005", "warning", first,
            "`%s` is imported before BLAS threads are limited%s, and this %s starts a process pool: every "
            "worker process starts its own full set of BLAS threads (one per core), so processes × cores "
            "threads compete for the cores. Limit threads before the import, or with threadpoolctl."
            % (mod, late, "notebook" if ix.notebook else "script"),
            [fix_env_limits(ix, first), fix_threadpoolctl(ix)])


def fix_env_limits(ix, first):
    edits = Edits()
    ind = ix.indent_of(first.lineno)
    lines = []
    has_os = any(any(a.name == "os" and not a.asname for a in s.names) and s.lineno < first.lineno
                 for s in ix.nodes(ast.Import))
    if not has_os:
        lines.append(ind + "import os")
    lines.append(ind + "# One BLAS thread per process, set before numpy loads: the process pool already uses every core.")
    lines += [ind + 'os.environ.setdefault("%s", "1")' % v for v in ix.thread_vars]
    insert_before(ix, edits, ix.first_line(first, True), lines)
    return {"title": "Limit BLAS threads (os.environ) before the import", "edits": edits.result(), "isPreferred": True}


def fix_threadpoolctl(ix):
    edits = Edits()
    last = None
    for s in ix.tree.body:
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            last = s
        elif not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) and last is not None:
            break
    anchor = last.end_lineno if last is not None else 0
    lines = ["from threadpoolctl import threadpool_limits",
             "",
             "# One BLAS thread per process: the process pool already uses every core.",
             "threadpool_limits(limits=1)"]
    if anchor:
        insert_after(ix, edits, anchor, lines)
    else:
        insert_before(ix, edits, 1, lines)
    return {"title": "Limit BLAS threads with threadpoolctl.threadpool_limits (pip install threadpoolctl)",
            "edits": edits.result(), "isPreferred": False}
