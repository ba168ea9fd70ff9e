"""PR001: a process pool created at module level without a `__main__` guard."""
import ast

from ..constants import FUNCS
from ..edits import Edits, replace_lines
from .. import start_method


def check_unguarded(ix):
    if ix.notebook:
        return  # a notebook's __main__ has no file: spawn workers never re-import it
    bad = [(c, k) for c, k in ix.pool_calls if ix.function_of(c) is ix.tree and not ix.in_guard(c)
           and not isinstance(ix.scope_of(c), ast.ClassDef)]
    if not bad:
        return
    fix = fix_wrap_guard(ix, ix.top_statement(bad[0][0]))
    for call, kind in bad:
        sm = start_method.for_pool(ix, call)
        if start_method.pickles(sm):
            risk = ("The start method here is %s: every worker starts a fresh interpreter that re-imports this "
                    "module, runs this line again and starts its own pool (RuntimeError: \"An attempt has been made "
                    "to start a new process before the current process has finished its bootstrapping phase\", or "
                    "endless process creation)." % start_method.describe(sm))
        else:
            risk = ("It works here only because the start method is %s, which copies this process instead of "
                    "re-importing the module. Under spawn or forkserver (the defaults on macOS and Windows, and on "
                    "Linux from Python 3.14) every worker re-imports this module and starts its own pool: "
                    "RuntimeError or endless process creation." % start_method.describe(sm))
        ix.diag("PR001", "warning", call,
                "%s created at module level without an `if __name__ == \"__main__\":` guard. %s" % (kind, risk), [fix])


def fix_wrap_guard(ix, first_top):
    body = ix.tree.body
    i0 = next(i for i, s in enumerate(body) if s is first_top)
    region = body[i0:]
    keep, move = [], []
    for s in region:
        (keep if isinstance(s, FUNCS + (ast.ClassDef, ast.Import, ast.ImportFrom)) else move).append(s)
    out = []
    for s in keep:
        out += ix.lines[ix.first_line(s, True) - 1:s.end_lineno] + ["", ""]
    out.append('if __name__ == "__main__":')
    prev_end = None
    for s in move:
        if isinstance(s, ast.If) and s in ix.guards:
            first, last = s.body[0], s.body[-1]
            chunk = ix.reindent(ix.first_line(first, True), last.end_lineno, ix.indent_of(first.lineno), "    ")
            start = ix.first_line(first, True)
        else:
            start = ix.first_line(s, True)
            chunk = ix.reindent(start, s.end_lineno, "", "    ")
        if prev_end is not None and any(not l.strip() for l in ix.lines[prev_end:start - 1]):
            out.append("")
        out += chunk
        prev_end = s.end_lineno
    last = max(region[-1].end_lineno, len(ix.lines) if ix.lines[-1].strip() else len(ix.lines) - 1)
    trailing = [l for l in ix.lines[region[-1].end_lineno:last] if l.strip()]
    out += trailing
    edits = Edits()
    replace_lines(ix, edits, ix.first_line(first_top, True), last, out)
    return {"title": 'Wrap the module-level code in `if __name__ == "__main__":`', "edits": edits.result(),
            "isPreferred": True}
