#!/usr/bin/env python3
"""Static analysis of a Python source for Parallel Run's editor features.

Parses with Python's own ``ast`` (the real grammar of the interpreter that will run the script) and
reports, as JSON:

* ``entryPoint``  -- where the script starts (``if __name__ == "__main__":`` or ``def main``);
* ``pools``       -- process pool / Process constructors with their processes argument;
* ``fileLoops``   -- ``for`` loops over files, each with ready-made rewrites (Pool pattern,
  ``main(path)`` extraction) as text edits;
* ``diagnostics`` -- PR001..PR005 with ranges, messages and quick-fix text edits.

Positions are 0-based lines and UTF-16 columns (what VS Code and LSP use), so the TypeScript side
applies the edits as they are.

Modes:
  analyze_source.py --serve            one JSON request per stdin line, one JSON response per line
  analyze_source.py [--cores N] FILE.. one-shot batch: prints {"files": {FILE: result}}
  analyze_source.py --stdin            one-shot on the source read from stdin
"""
import ast
import json
import re
import sys

PROTOCOL_VERSION = 1

DEFAULT_THREAD_VARS = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
)
# modules whose import loads a BLAS/OpenMP runtime (pandas and scikit-learn load numpy/scipy)
BLAS_MODULES = ("numpy", "scipy", "sklearn", "pandas", "numexpr")

POOL_CTORS = {
    "multiprocessing.Pool": "Pool",
    "multiprocessing.pool.Pool": "Pool",
    "multiprocessing.context.Pool": "Pool",
    "concurrent.futures.ProcessPoolExecutor": "ProcessPoolExecutor",
    "concurrent.futures.process.ProcessPoolExecutor": "ProcessPoolExecutor",
    "multiprocessing.Process": "Process",
    "multiprocessing.context.Process": "Process",
    "multiprocessing.process.BaseProcess": "Process",
}
# thread pools run in one process: lambdas are fine and no BLAS multiplication happens
THREAD_CTORS = {
    "multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool", "multiprocessing.dummy.Process",
    "concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor",
    "threading.Thread",
}
# methods of a process pool that pickle their callable argument (index of the callable, keyword)
SUBMIT_METHODS = {
    "map": "func", "imap": "func", "imap_unordered": "func", "starmap": "func", "apply": "func",
    "apply_async": "func", "map_async": "func", "starmap_async": "func", "submit": "fn",
}
ASYNC_METHODS = ("apply_async", "map_async", "starmap_async")
CPU_COUNT_FUNCS = {"os.cpu_count", "multiprocessing.cpu_count", "psutil.cpu_count", "joblib.cpu_count"}
LISTING_FUNCS = {"glob.glob", "glob.iglob", "os.listdir", "os.scandir"}
LISTING_METHODS = {"glob", "rglob", "iterdir"}
WRAPPER_FUNCS = {"sorted", "list", "tuple", "reversed", "set", "filter", "fnmatch.filter", "enumerate"}
HARMLESS_BUILTINS = {"len", "print", "bool", "str", "repr", "id", "type", "isinstance"}
MUTATING_METHODS = {"append", "extend", "add", "update", "insert", "pop", "remove", "setdefault",
                    "write", "writerow", "writerows", "writelines", "put", "clear", "discard"}

SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
DOCS = "media/docs/diagnostics.md"


def u16len(s):
    return len(s) if s.isascii() else len(s.encode("utf-16-le")) // 2


def is_main_guard(test):
    """`__name__ == "__main__"` in either order."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    a, b = test.left, test.comparators[0]
    for x, y in ((a, b), (b, a)):
        if isinstance(x, ast.Name) and x.id == "__name__" and isinstance(y, ast.Constant) and y.value == "__main__":
            return True
    return False


class Edits:
    """Collects text edits; merges edits that start at the same position so the result never overlaps."""

    def __init__(self):
        self.items = []  # (start(line,char), end(line,char), text, order)

    def add(self, start, end, text):
        self.items.append((start, end, text, len(self.items)))

    def result(self):
        items = sorted(self.items, key=lambda e: (e[0], e[1] != e[0], e[3]))
        merged = []
        for start, end, text, _ in items:
            if merged and merged[-1][0] == start and (merged[-1][1] == start or end == start):
                prev = merged[-1]
                # an insertion and a replacement at the same point: insertion text goes first
                merged[-1] = (start, max(prev[1], end), prev[2] + text)
            else:
                merged.append((start, end, text))
        return [{"range": {"start": {"line": s[0], "character": s[1]}, "end": {"line": e[0], "character": e[1]}},
                 "newText": t} for s, e, t in merged]


class Analyzer:
    def __init__(self, source, options):
        self.source = source
        self.options = options or {}
        self.cores = int(self.options.get("cores") or 1)
        self.thread_vars = tuple(self.options.get("threadEnvVars") or DEFAULT_THREAD_VARS)
        self.lines = re.split(r"\r\n|\r|\n", source)
        m = re.search(r"\r\n|\r|\n", source)
        self.eol = m.group(0) if m else "\n"
        self.tree = ast.parse(source)
        self.parent = {}
        self.names = {}  # (scope, id) -> [Name]
        self.calls = []
        self.aliases = {}  # local name -> qualified name
        self.defs = {}  # (scope, name) -> FunctionDef
        self.string_lines = set()  # 1-based lines inside a multi-line string (never re-indented)
        self.scope_cache = {}
        self._index()

    # ------------------------------------------------------------------ indexing
    def _index(self):
        # one pass: parent links, enclosing scope, nodes by type (every later query is a lookup)
        self.scope_map = {}
        self.by_type = {}
        todo = [(self.tree, None)]
        while todo:
            node, scope = todo.pop()
            self.scope_map[node] = scope
            self.by_type.setdefault(type(node), []).append(node)
            inner = node if isinstance(node, SCOPES) else scope
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
                todo.append((child, inner))
            if isinstance(node, ast.Call):
                self.calls.append(node)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.aliases.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    self.aliases[a.asname or a.name] = node.module + "." + a.name
            elif isinstance(node, (ast.Constant, ast.JoinedStr)) and getattr(node, "end_lineno", None) \
                    and node.end_lineno > node.lineno and (isinstance(node, ast.JoinedStr) or isinstance(node.value, (str, bytes))):
                self.string_lines.update(range(node.lineno + 1, node.end_lineno + 1))
        self.calls.sort(key=lambda c: (c.lineno, c.col_offset))
        self.name_scopes = {}  # id -> {scope}
        for node in self.nodes(ast.Name):
            sc = self.scope_map[node]
            self.names.setdefault((sc, node.id), []).append(node)
            self.name_scopes.setdefault(node.id, set()).add(sc)
        for node in self.nodes(*FUNCS):
            self.defs[(self.scope_map[node], node.name)] = node
        # ctx = multiprocessing.get_context("spawn") makes `ctx.Pool` a multiprocessing Pool
        for node in self.nodes(ast.Assign):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.Call) and self.qualname(node.value.func) in (
                        "multiprocessing.get_context", "multiprocessing.context.get_context"):
                self.aliases[node.targets[0].id] = "multiprocessing"
        self.guards = [s for s in self.tree.body if isinstance(s, ast.If) and is_main_guard(s.test)]

    def scope_of(self, node):
        return self.scope_map.get(node)

    def nodes(self, *types):
        out = []
        for t in types:
            out += self.by_type.get(t, [])
        return out

    def qualname(self, expr):
        if isinstance(expr, ast.Name):
            return self.aliases.get(expr.id, expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.qualname(expr.value)
            return base + "." + expr.attr if base else None
        if isinstance(expr, ast.Call):
            q = self.qualname(expr.func)
            if q and q.endswith("get_context") and q.startswith("multiprocessing"):
                return "multiprocessing"
        return None

    def in_guard(self, node):
        child, p = node, self.parent.get(node)
        while p is not None:
            if isinstance(p, ast.If) and p in self.guards and any(s is child for s in p.body):
                return True
            child, p = p, self.parent.get(p)
        return False

    def statement_of(self, node):
        while node is not None and not isinstance(node, ast.stmt):
            node = self.parent.get(node)
        return node

    def block_of(self, stmt):
        p = self.parent.get(stmt)
        for _, value in ast.iter_fields(p):
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if v is stmt:
                        return value, i
        return None, -1

    def top_statement(self, node):
        while self.parent.get(node) is not self.tree:
            node = self.parent[node]
        return node

    def function_of(self, node):
        s = self.scope_of(node)
        while s is not None and not isinstance(s, (ast.Module, ) + FUNCS):
            s = self.scope_of(s)
        return s

    def bound_in(self, scope):
        """Names bound in a function scope (params, assignments, defs, imports)."""
        out = set()
        if isinstance(scope, (ast.Lambda,) + FUNCS):
            a = scope.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
                out.add(arg.arg)
        for (sc, name), nodes in self.names.items():
            if sc is scope and any(not isinstance(n.ctx, ast.Load) for n in nodes):
                out.add(name)
        for (sc, name) in self.defs:
            if sc is scope:
                out.add(name)
        return out

    def module_names(self):
        if getattr(self, "_module_names", None) is not None:
            return self._module_names
        out = set(self.aliases)
        for (sc, name) in self.names:
            if sc is self.tree:
                out.add(name)
        for (sc, name) in self.defs:
            if sc is self.tree:
                out.add(name)
        self._module_names = out
        return out

    def all_names(self):
        if getattr(self, "_all_names", None) is None:
            self._all_names = self.module_names() | set(self.name_scopes)
        return self._all_names

    def unique_name(self, base, taken=None):
        taken = taken if taken is not None else self.all_names()
        name, i = base, 2
        while name in taken:
            name, i = "%s_%d" % (base, i), i + 1
        return name

    # ------------------------------------------------------------------ positions and text
    def col16(self, lineno, col):
        line = self.lines[lineno - 1]
        if line.isascii():
            return col
        return u16len(line.encode("utf-8")[:col].decode("utf-8", "replace"))

    def pos(self, lineno, col):
        return (lineno - 1, self.col16(lineno, col))

    def rng(self, node, end=None):
        end = end or node
        s = self.pos(node.lineno, node.col_offset)
        e = self.pos(end.end_lineno, end.end_col_offset)
        return {"start": {"line": s[0], "character": s[1]}, "end": {"line": e[0], "character": e[1]}}

    def line_range(self, lineno):
        return {"start": {"line": lineno - 1, "character": 0},
                "end": {"line": lineno - 1, "character": u16len(self.lines[lineno - 1])}}

    def segment(self, node):
        l0, c0, l1, c1 = node.lineno, node.col_offset, node.end_lineno, node.end_col_offset
        if l0 == l1:
            return self.lines[l0 - 1].encode("utf-8")[c0:c1].decode("utf-8")
        parts = [self.lines[l0 - 1].encode("utf-8")[c0:].decode("utf-8")]
        parts.extend(self.lines[l0:l1 - 1])
        parts.append(self.lines[l1 - 1].encode("utf-8")[:c1].decode("utf-8"))
        return self.eol.join(parts)

    def first_line(self, stmt, with_comments=False):
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        if with_comments:
            while first > 1 and self.lines[first - 2].strip().startswith("#"):
                first -= 1
        return first

    def indent_of(self, lineno):
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip())]

    def reindent(self, first, last, old, new):
        """Lines first..last with the leading `old` indentation replaced by `new` (strings untouched)."""
        out = []
        for n in range(first, last + 1):
            line = self.lines[n - 1]
            if n in self.string_lines:
                out.append(line)
            elif not line.strip():
                out.append("")
            elif line.startswith(old):
                out.append(new + line[len(old):])
            else:
                out.append(new + line.lstrip())
        return out

    def replace_lines(self, edits, first, last, new_lines):
        if last < len(self.lines):
            edits.add((first - 1, 0), (last, 0), self.eol.join(new_lines) + self.eol)
        else:
            edits.add((first - 1, 0), (last - 1, u16len(self.lines[last - 1])), self.eol.join(new_lines))

    def insert_before(self, edits, lineno, new_lines):
        edits.add((lineno - 1, 0), (lineno - 1, 0), self.eol.join(new_lines) + self.eol)

    def insert_after(self, edits, lineno, new_lines):
        if lineno < len(self.lines):
            self.insert_before(edits, lineno + 1, new_lines)
        else:
            end = (lineno - 1, u16len(self.lines[lineno - 1]))
            edits.add(end, end, self.eol + self.eol.join(new_lines))

    def import_line(self):
        """Line before which a new top-level import goes: after the docstring and __future__ imports."""
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str) \
                    and stmt is self.tree.body[0]:
                continue
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                continue
            return self.first_line(stmt, with_comments=True)
        return len(self.lines)

    def ensure_import(self, edits, module):
        """Local name of `module` (imported as a module at top level), adding `import module` if needed."""
        for name, q in self.aliases.items():
            if q == module and any(isinstance(s, ast.Import) for s in self.tree.body
                                   if any((a.asname or a.name) == name for a in getattr(s, "names", []))):
                return name
        line = self.import_line()
        if line >= len(self.lines) and not self.lines[-1].strip():
            self.insert_before(edits, line, ["import " + module])
        else:
            self.insert_before(edits, line, ["import " + module])
        return module

    # ------------------------------------------------------------------ evaluation
    def eval_int(self, e, depth=0):
        """(value, uses_cores) of a small integer expression, or (None, False)."""
        if depth > 6 or e is None:
            return None, False
        if isinstance(e, ast.Constant) and isinstance(e.value, int) and not isinstance(e.value, bool):
            return e.value, False
        if isinstance(e, ast.Name):
            for stmt in self.tree.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                        and stmt.targets[0].id == e.id:
                    return self.eval_int(stmt.value, depth + 1)
            return None, False
        if isinstance(e, ast.Call):
            q = self.qualname(e.func)
            if q in CPU_COUNT_FUNCS:
                return self.cores, True
            if q == "len" and e.args and isinstance(e.args[0], ast.Call) and self.qualname(e.args[0].func) == "os.sched_getaffinity":
                return self.cores, True
            if q in ("max", "min", "int") and e.args:
                vals = [self.eval_int(a, depth + 1) for a in e.args]
                if all(v is not None for v, _ in vals):
                    nums = [v for v, _ in vals]
                    val = nums[0] if q == "int" else (max(nums) if q == "max" else min(nums))
                    return val, any(c for _, c in vals)
            return None, False
        if isinstance(e, ast.BoolOp) and isinstance(e.op, ast.Or):
            for v in e.values:
                val, c = self.eval_int(v, depth + 1)
                if val:
                    return val, c
            return None, False
        if isinstance(e, ast.BinOp):
            (a, ca), (b, cb) = self.eval_int(e.left, depth + 1), self.eval_int(e.right, depth + 1)
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

    def range_len(self, it):
        if not (isinstance(it, ast.Call) and self.qualname(it.func) == "range" and 1 <= len(it.args) <= 3):
            return None
        vals = [self.eval_int(a)[0] for a in it.args]
        if any(v is None for v in vals):
            return None
        r = range(*vals) if len(vals) > 1 else range(vals[0])
        return len(r)

    # ------------------------------------------------------------------ findings
    def run(self):
        self.pool_calls = []
        for call in self.calls:
            q = self.qualname(call.func)
            if q in POOL_CTORS:
                self.pool_calls.append((call, POOL_CTORS[q]))
        self.diags = []
        result = {
            "protocol": PROTOCOL_VERSION,
            "entryPoint": self.entry_point(),
            "pools": [self.pool_info(c, k) for c, k in self.pool_calls],
            "threadLimit": self.thread_limit(),
            "fileLoops": self.file_loops(),
        }
        self.check_unguarded()
        self.check_unclosed()
        self.check_async_results()
        self.check_unpicklable()
        self.check_blas_import()
        self.diags.sort(key=lambda d: (d["range"]["start"]["line"], d["range"]["start"]["character"], d["code"]))
        result["diagnostics"] = self.diags
        return result

    def diag(self, code, severity, node, message, fixes, end=None):
        self.diags.append({"code": code, "severity": severity, "range": self.rng(node, end), "message": message,
                           "fixes": [f for f in fixes if f]})

    def entry_point(self):
        reads_argv = any(n.attr == "argv" and self.qualname(n) == "sys.argv" for n in self.nodes(ast.Attribute)) \
            or "sys.argv" in self.aliases.values()
        uses_argparse = any(q and q.startswith("argparse.") for q in self.aliases.values()) or "argparse" in self.aliases.values()
        if self.guards:
            g = self.guards[0]
            return {"kind": "mainGuard", "range": self.rng(g.test), "line": g.lineno - 1,
                    "readsArgv": reads_argv, "usesArgparse": uses_argparse}
        main = self.defs.get((self.tree, "main"))
        if main is not None:
            return {"kind": "mainFunction", "range": self.line_range(main.lineno), "line": main.lineno - 1,
                    "readsArgv": reads_argv, "usesArgparse": uses_argparse}
        # a plain script: top-level code that does work (a loop, a call) starts it
        for stmt in self.tree.body:
            if isinstance(stmt, (ast.For, ast.While, ast.With, ast.Try)) or (
                    isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
                return {"kind": "topLevel", "range": self.line_range(self.first_line(stmt)), "line": stmt.lineno - 1,
                        "readsArgv": reads_argv, "usesArgparse": uses_argparse}
        return None

    def pool_info(self, call, kind):
        info = {"kind": kind, "range": self.rng(call), "line": self.statement_of(call).lineno - 1,
                "text": self.segment(call.func)}
        if kind == "Process":
            count, node = 1, call
            fn = self.function_of(call)
            while node is not None and node is not fn:
                p = self.parent.get(node)
                if isinstance(p, (ast.For, ast.AsyncFor)) and any(s is node for s in p.body):
                    n = self.range_len(p.iter)
                    count = None if n is None or count is None else count * n
                elif isinstance(p, (ast.While,)) and any(s is node for s in p.body):
                    count = None
                elif isinstance(p, (ast.ListComp, ast.GeneratorExp, ast.SetComp)) and node is p.elt:
                    for g in p.generators:
                        n = self.range_len(g.iter)
                        count = None if n is None or count is None else count * n
                node = p
            info["processes"] = {"value": count, "source": "loop" if count != 1 else "single",
                                 "text": None} if count is not None else {"value": None, "source": "unknown", "text": None}
            return info
        kw = "processes" if kind == "Pool" else "max_workers"
        arg = next((k.value for k in call.keywords if k.arg == kw), call.args[0] if call.args else None)
        if arg is None or (isinstance(arg, ast.Constant) and arg.value is None):
            info["processes"] = {"value": self.cores, "source": "default", "text": None}
        else:
            val, uses_cores = self.eval_int(arg)
            src = "literal" if isinstance(arg, ast.Constant) else ("cpuCount" if uses_cores else "expression")
            info["processes"] = {"value": val if val is None else max(1, val), "source": src if val is not None else "unknown",
                                 "text": self.segment(arg)}
        return info

    def env_limit_stmts(self):
        """(stmt, var, value) for module-level os.environ thread-variable assignments."""
        out = []
        for stmt in self.nodes(ast.Assign, ast.Expr):
            if isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Subscript) and self.qualname(t.value) == "os.environ" \
                            and isinstance(t.slice, ast.Constant) and t.slice.value in self.thread_vars + DEFAULT_THREAD_VARS:
                        out.append((stmt, t.slice.value, stmt.value))
            elif isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) \
                    and self.qualname(stmt.value.func.value) == "os.environ":
                c = stmt.value
                if c.func.attr == "setdefault" and len(c.args) == 2 and isinstance(c.args[0], ast.Constant) \
                        and c.args[0].value in self.thread_vars + DEFAULT_THREAD_VARS:
                    out.append((stmt, c.args[0].value, c.args[1]))
                elif c.func.attr == "update" and c.args and isinstance(c.args[0], ast.Dict):
                    for k, v in zip(c.args[0].keys, c.args[0].values):
                        if isinstance(k, ast.Constant) and k.value in self.thread_vars + DEFAULT_THREAD_VARS:
                            out.append((stmt, k.value, v))
        # a `for var in (...): os.environ.setdefault(var, "1")` loop also counts
        for node in self.nodes(ast.For):
            if isinstance(node.iter, (ast.Tuple, ast.List)) and any(
                    isinstance(e, ast.Constant) and e.value in DEFAULT_THREAD_VARS for e in node.iter.elts):
                for stmt in ast.walk(node):
                    if isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute) \
                            and self.qualname(stmt.func.value) == "os.environ" and len(stmt.args) == 2:
                        out.append((node, "OMP_NUM_THREADS", stmt.args[1]))
        return out

    def threadpool_limit_calls(self):
        return [c for c in self.calls if (self.qualname(c.func) or "").startswith("threadpoolctl.threadpool_limits")
                or (self.qualname(c.func) or "").startswith("threadpoolctl.ThreadpoolController")]

    def thread_limit(self):
        def value_of(e):
            if isinstance(e, ast.Constant):
                try:
                    return int(e.value)
                except (TypeError, ValueError):
                    return None
            return None
        for c in self.threadpool_limit_calls():
            arg = next((k.value for k in c.keywords if k.arg == "limits"), c.args[0] if c.args else None)
            return {"value": value_of(arg) if arg is not None else None, "source": "threadpoolctl", "line": c.lineno - 1}
        for stmt, var, val in self.env_limit_stmts():
            return {"value": value_of(val), "source": "env", "var": var, "line": stmt.lineno - 1}
        return None

    # ------------------------------------------------------------------ file loops
    def is_listing(self, e, scope, depth=0):
        if depth > 4:
            return False
        if isinstance(e, ast.Call):
            q = self.qualname(e.func)
            if q in LISTING_FUNCS:
                return True
            if isinstance(e.func, ast.Attribute) and e.func.attr in LISTING_METHODS and q not in ("glob.glob",):
                return not (self.qualname(e.func.value) or "").startswith(("re", "fnmatch"))
            if q in WRAPPER_FUNCS:
                return any(self.is_listing(a, scope, depth + 1) for a in e.args)
            return False
        if isinstance(e, (ast.ListComp, ast.GeneratorExp)):
            return self.is_listing(e.generators[0].iter, scope, depth + 1)
        if isinstance(e, ast.Subscript) and self.qualname(e.value) == "sys.argv":
            return True
        if isinstance(e, ast.Name):
            for sc in (scope, self.tree):
                for n in self.names.get((sc, e.id), []):
                    if isinstance(n.ctx, ast.Store):
                        p = self.parent.get(n)
                        if isinstance(p, ast.Assign) and self.is_listing(p.value, sc, depth + 1):
                            return True
        return False

    def file_loops(self):
        loops = [n for n in self.nodes(ast.For) if self.is_listing(n.iter, self.scope_of(n))]
        loops.sort(key=lambda n: n.lineno)
        out = []
        for loop in loops:
            out.append({
                "range": self.rng(loop.target, loop.iter),
                "line": loop.lineno - 1,
                "target": self.segment(loop.target),
                "iter": self.segment(loop.iter),
                "rewrites": [self.rewrite_pool(loop), self.rewrite_main(loop)],
            })
        return out

    def body_problems(self, loop):
        """(reason or None, top-level continues, mutated outer names) for extracting a loop body."""
        fn = self.function_of(loop)
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
        scope = self.scope_of(loop)
        for name in stored - {target}:
            for n in self.names.get((scope, name), []):
                if isinstance(n.ctx, ast.Load) and n.lineno > loop.end_lineno:
                    return "the loop body sets `%s`, which is read after the loop" % name, [], []
        outer_mut = []
        for m in mutated:
            recv = m.func.value.id if isinstance(m, ast.Call) else m.value.id
            if recv not in stored and recv != target:
                outer_mut.append(m)
        return None, continues, outer_mut

    def free_names(self, body_nodes, exclude, fn):
        """Names read in body_nodes that are locals of the enclosing function (or of the main guard)."""
        local = set()
        if isinstance(fn, FUNCS):
            s = fn
            while isinstance(s, FUNCS + (ast.Lambda,)):
                local |= self.bound_in(s)
                s = self.function_of(s)
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

    def body_text(self, loop, new_indent, continues, return_stmt=None):
        first = self.first_line(loop.body[0], with_comments=True)
        last = loop.body[-1].end_lineno
        old = self.indent_of(loop.body[0].lineno)
        lines = self.lines[:]  # edit a copy: `continue` -> `return`, `X.append(e)` -> `return e`
        for c in continues:
            line = lines[c.lineno - 1]
            i = len(line.encode("utf-8")[:c.col_offset].decode("utf-8"))
            lines[c.lineno - 1] = line[:i] + "return" + line[i + len("continue"):]
        saved, self.lines = self.lines, lines
        try:
            if return_stmt is not None:
                arg = return_stmt.value.args[0]
                ind = self.indent_of(return_stmt.lineno)
                seg = self.segment(arg).split(self.eol)
                new = [ind + "return " + seg[0]] + seg[1:]
                before = self.reindent(first, return_stmt.lineno - 1, old, new_indent) if return_stmt.lineno > first else []
                ret = [new_indent + x[len(old):] if i == 0 else x for i, x in enumerate(new)]
                return before + ret
            return self.reindent(first, last, old, new_indent)
        finally:
            self.lines = saved

    def rewrite_pool(self, loop):
        title = "Rewrite into a multiprocessing Pool (one task per file)"
        if not isinstance(loop.target, ast.Name):
            return {"kind": "pool", "title": title, "unavailable": "the loop target is not a single name"}
        reason, continues, mutated = self.body_problems(loop)
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
        fn = self.function_of(loop)
        free = self.free_names(loop.body, {loop.target.id}, fn)
        if fn is self.tree and self.in_guard(loop):
            # names assigned in the __main__ block do not exist in a spawned worker: pass them along
            guard_locals = {n.id for n in ast.walk(self.guards[0]) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            free = [n for n in dict.fromkeys(x.id for b in loop.body for x in ast.walk(b)
                                             if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Load))
                    if n in guard_locals and n != loop.target.id]
        edits = Edits()
        mp = self.pool_namespace(edits)
        fname = self.unique_name("process_file")
        top = self.top_statement(loop)
        params = ", ".join(free + [loop.target.id])
        func = ["def %s(%s):" % (fname, params)]
        func.append('    """One file\'s work; runs in a worker process."""')
        func += self.body_text(loop, "    ", continues, collect)
        self.insert_before(edits, self.first_line(top, with_comments=True), func + ["", ""])
        callable_text = fname
        if free:
            ft = self.ensure_import(edits, "functools")
            callable_text = "%s.partial(%s, %s)" % (ft, fname, ", ".join(free))
        ind = self.indent_of(loop.lineno)
        wrap = self.function_of(loop) is self.tree and not self.in_guard(loop)
        pre = []
        if wrap:
            pre, ind = [ind + 'if __name__ == "__main__":'], ind + "    "
        call = "pool.map(%s, %s)" % (callable_text, self.segment(loop.iter))
        if collect is not None:
            call = "%s.extend(%s)" % (collect.value.func.value.id, call)
        # close + join lets the workers exit normally (their buffered output is flushed); the end of
        # the `with` block alone terminates them
        new = pre + [ind + "with %s() as pool:" % mp, ind + "    " + call, ind + "    pool.close()", ind + "    pool.join()"]
        self.replace_lines(edits, loop.lineno, loop.end_lineno, new)
        return {"kind": "pool", "title": title, "edits": edits.result()}

    def pool_namespace(self, edits):
        """Text that names multiprocessing.Pool here (`Pool`, `mp.Pool`, ...), importing if needed."""
        for name, q in self.aliases.items():
            if q in ("multiprocessing.Pool",):
                return name
        return self.ensure_import(edits, "multiprocessing") + ".Pool"

    def rewrite_main(self, loop):
        title = "Extract the body into main(path) so Parallel Run can run it per file"
        top_level = self.parent.get(loop) is self.tree or (self.parent.get(loop) in self.guards and self.in_guard(loop))
        if not top_level:
            return {"kind": "main", "title": title,
                    "unavailable": "only a loop at the top level of the script (or of its __main__ block) can become main(path)"}
        if not isinstance(loop.target, ast.Name):
            return {"kind": "main", "title": title, "unavailable": "the loop target is not a single name"}
        reason, continues, mutated = self.body_problems(loop)
        if reason is None and mutated:
            m = mutated[0]
            name = m.func.value.id if isinstance(m, ast.Call) else m.value.id
            reason = "the loop body collects into `%s`; with one process per file each file must write its own result" % name
        if reason:
            return {"kind": "main", "title": title, "unavailable": reason}
        edits = Edits()
        taken = self.all_names()
        fname = "main" if "main" not in taken else self.unique_name("process_file", taken)
        sysname = self.ensure_import(edits, "sys")
        target = loop.target.id
        func = ["def %s(%s):" % (fname, target)]
        func.append('    """Process one file (Parallel Run runs this script once per file: `python SCRIPT FILE`)."""')
        func += self.body_text(loop, "    ", continues)
        top = self.top_statement(loop)
        ind = self.indent_of(loop.lineno)
        pre = []
        if self.parent.get(loop) is self.tree:
            pre, ind = [ind + 'if __name__ == "__main__":'], ind + "    "
        new = pre + [
            ind + "if len(%s.argv) > 1:  # files on the command line, e.g. one per process from Parallel Run" % sysname,
            ind + "    for %s in %s.argv[1:]:" % (target, sysname),
            ind + "        %s(%s)" % (fname, target),
            ind + "else:",
            ind + "    for %s in %s:" % (target, self.segment(loop.iter)),
            ind + "        %s(%s)" % (fname, target),
        ]
        self.insert_before(edits, self.first_line(top, with_comments=True), func + ["", ""])
        self.replace_lines(edits, loop.lineno, loop.end_lineno, new)
        return {"kind": "main", "title": title, "edits": edits.result()}

    # ------------------------------------------------------------------ PR001 module-level pool
    def check_unguarded(self):
        bad = [(c, k) for c, k in self.pool_calls if self.function_of(c) is self.tree and not self.in_guard(c)
               and not isinstance(self.scope_of(c), ast.ClassDef)]
        if not bad:
            return
        fix = self.fix_wrap_guard(self.top_statement(bad[0][0]))
        for call, kind in bad:
            self.diag("PR001", "warning", call,
                      "%s created at module level without an `if __name__ == \"__main__\":` guard. With the spawn or "
                      "forkserver start method (Windows, macOS, Python 3.14+ on Linux) every worker re-imports this "
                      "module and starts its own pool: RuntimeError or endless process creation." % kind, [fix])

    def fix_wrap_guard(self, first_top):
        body = self.tree.body
        i0 = next(i for i, s in enumerate(body) if s is first_top)
        region = body[i0:]
        keep, move = [], []
        for s in region:
            (keep if isinstance(s, FUNCS + (ast.ClassDef, ast.Import, ast.ImportFrom)) else move).append(s)
        out = []
        for s in keep:
            out += self.lines[self.first_line(s, True) - 1:s.end_lineno] + ["", ""]
        out.append('if __name__ == "__main__":')
        prev_end = None
        for s in move:
            if isinstance(s, ast.If) and s in self.guards:
                first, last = s.body[0], s.body[-1]
                chunk = self.reindent(self.first_line(first, True), last.end_lineno, self.indent_of(first.lineno), "    ")
                start = self.first_line(first, True)
            else:
                start = self.first_line(s, True)
                chunk = self.reindent(start, s.end_lineno, "", "    ")
            if prev_end is not None and any(not l.strip() for l in self.lines[prev_end:start - 1]):
                out.append("")
            out += chunk
            prev_end = s.end_lineno
        last = max(region[-1].end_lineno, len(self.lines) if self.lines[-1].strip() else len(self.lines) - 1)
        trailing = [l for l in self.lines[region[-1].end_lineno:last] if l.strip()]
        out += trailing
        edits = Edits()
        self.replace_lines(edits, self.first_line(first_top, True), last, out)
        return {"title": 'Wrap the module-level code in `if __name__ == "__main__":`', "edits": edits.result(),
                "isPreferred": True}

    # ------------------------------------------------------------------ PR002 pool not closed
    def references(self, node, names):
        return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))

    def check_unclosed(self):
        for call, kind in self.pool_calls:
            if kind == "Process":
                continue
            p = self.parent.get(call)
            if isinstance(p, ast.withitem):
                continue
            if isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name):
                name = p.targets[0].id
                scope = self.scope_of(call)
                scopes = [scope] if scope is not self.tree else list(self.name_scopes.get(name, ()))
                uses = [n for sc in scopes for n in self.names.get((sc, name), []) if isinstance(n.ctx, ast.Load)]
                attrs = set()
                escaped = False
                for n in uses:
                    q = self.parent.get(n)
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
                fix = self.fix_with_assigned(p, name, call)
            elif isinstance(p, ast.Attribute) and p.value is call:
                fix = self.fix_with_inline(call)
            else:
                continue  # stored on an object, passed along: someone else owns it
            what = "shut down (`.shutdown()`)" if kind == "ProcessPoolExecutor" else "closed and joined (`.close()` + `.join()`)"
            self.diag("PR002", "warning", call,
                      "%s is neither used in a `with` block nor %s: its worker processes may outlive the work, and an "
                      "exception leaves them running." % (kind, what), [fix])

    def fix_with_assigned(self, assign, name, call):
        block, k = self.block_of(assign)
        if block is None:
            return None
        tainted, end = {name}, k
        for j in range(k + 1, len(block)):
            s = block[j]
            if self.references(s, tainted):
                end = j
                for n in ast.walk(s):
                    if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                        tainted.add(n.id)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) \
                            and self.references(ast.Module(body=[], type_ignores=[]) if not n.args else n.args[0], tainted):
                        tainted.add(n.func.value.id)
        ind = self.indent_of(assign.lineno)
        tail = self.lines[assign.end_lineno - 1].encode("utf-8")[assign.end_col_offset:].decode("utf-8").strip()
        head = ind + "with %s as %s:" % (self.segment(call), name) + ("  " + tail if tail.startswith("#") else "")
        # definitions between the pool and its last use stay outside the `with` block (hoisted above it)
        hoisted, body = [], []
        for s in block[k + 1:end + 1]:
            first = self.first_line(s, True)
            if isinstance(s, FUNCS + (ast.ClassDef, ast.Import, ast.ImportFrom)):
                hoisted += self.lines[first - 1:s.end_lineno] + ["", ""]
            else:
                if body and not self.lines[first - 2].strip():
                    body.append("")
                body += self.reindent(first, s.end_lineno, ind, ind + "    ")
        edits = Edits()
        self.replace_lines(edits, self.first_line(assign), block[end].end_lineno,
                           hoisted + [head] + (body or [ind + "    pass"]))
        return {"title": "Use the pool in a `with` block (closes it and reaps its processes)", "edits": edits.result(),
                "isPreferred": True}

    def fix_with_inline(self, call):
        stmt = self.statement_of(call)
        if not isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)) or isinstance(stmt, ast.Return):
            return None
        name = self.unique_name("pool")
        ind = self.indent_of(stmt.lineno)
        text = self.segment(stmt)
        rel = self.segment(call)
        body = text.replace(rel, name, 1)
        lines = [ind + "with %s as %s:" % (rel, name)] + [ind + "    " + l if i == 0 else l for i, l in enumerate(body.split(self.eol))]
        edits = Edits()
        self.replace_lines(edits, stmt.lineno, stmt.end_lineno, lines)
        return {"title": "Create the pool in a `with` block (closes it and reaps its processes)", "edits": edits.result(),
                "isPreferred": True}

    # ------------------------------------------------------------------ PR003 apply_async never fetched
    def collection_fetched(self, coll, scope):
        for n in self.names.get((scope, coll), []):
            if not isinstance(n.ctx, ast.Load):
                continue
            q = self.parent.get(n)
            if isinstance(q, ast.Attribute) and q.value is n and q.attr in ("append", "extend", "insert"):
                continue
            if isinstance(q, ast.Attribute) and q.value is n and q.attr in ("values", "items"):
                q = self.parent.get(self.parent.get(q))  # D.values() -> the call -> its user
                n = self.parent.get(self.parent.get(n))
            if isinstance(q, ast.Subscript) and q.value is n:
                return True  # results[i].get() or handed along
            if isinstance(q, (ast.For, ast.comprehension)) and q.iter is n or (
                    isinstance(q, ast.Call) and isinstance(self.parent.get(q), (ast.For, ast.comprehension))
                    and self.parent.get(q).iter is q):
                loop = q if isinstance(q, (ast.For, ast.comprehension)) else self.parent.get(q)
                targets = {t.id for t in ast.walk(loop.target) if isinstance(t, ast.Name)}
                where = loop.body if isinstance(loop, ast.For) else [self.parent.get(loop)]
                for w in where:
                    for c in ast.walk(w):
                        if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "get" \
                                and isinstance(c.func.value, ast.Name) and c.func.value.id in targets:
                            return True
                continue
            if isinstance(q, ast.Call) and self.qualname(q.func) in HARMLESS_BUILTINS:
                continue  # len(jobs), print(jobs): looks at the list, fetches nothing
            return True  # passed to a function, returned, ...: assume it is fetched there
        return False

    def name_fetched(self, name, scope, after):
        for n in self.names.get((scope, name), []):
            if not isinstance(n.ctx, ast.Load):
                continue
            q = self.parent.get(n)
            if isinstance(q, ast.Attribute) and q.value is n:
                if q.attr == "get":
                    return True, None
                continue
            if isinstance(q, ast.Call) and isinstance(q.func, ast.Attribute) and q.func.attr in ("append", "extend") \
                    and isinstance(q.func.value, ast.Name) and n in q.args:
                return self.collection_fetched(q.func.value.id, scope), q.func.value.id
            return True, None
        return False, None

    def check_async_results(self):
        for call in self.calls:
            if not (isinstance(call.func, ast.Attribute) and call.func.attr in ASYNC_METHODS):
                continue
            if any(k.arg == "error_callback" for k in call.keywords):
                continue
            p = self.parent.get(call)
            scope = self.scope_of(call)
            fix = None
            if isinstance(p, ast.Expr):
                fix = self.fix_collect(call, p)
            elif isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name):
                ok, coll = self.name_fetched(p.targets[0].id, scope, p)
                if ok:
                    continue
                fix = self.fix_get_collection(coll, scope, p) if coll else self.fix_get_name(p.targets[0].id, p)
            elif isinstance(p, ast.Call) and isinstance(p.func, ast.Attribute) and p.func.attr == "append" \
                    and isinstance(p.func.value, ast.Name):
                if self.collection_fetched(p.func.value.id, scope):
                    continue
                fix = self.fix_get_collection(p.func.value.id, scope, self.statement_of(p))
            elif isinstance(p, (ast.ListComp, ast.DictComp)) and isinstance(self.parent.get(p), ast.Assign) \
                    and isinstance(self.parent[p].targets[0], ast.Name):
                coll = self.parent[p].targets[0].id
                if self.collection_fetched(coll, scope):
                    continue
                fix = self.fix_get_collection(coll, scope, self.parent[p], values=isinstance(p, ast.DictComp))
            else:
                continue
            fn = call.args[0] if call.args else None
            fname = self.segment(fn) if fn is not None else "the task"
            self.diag("PR003", "warning", call,
                      "The result of `%s(...)` is never fetched with `.get()`: if `%s` raises, the exception is "
                      "silently lost (and the pool may be closed before the task finishes)." % (self.segment(call.func), fname),
                      [fix])

    def enclosing_loop(self, stmt):
        fn = self.function_of(stmt)
        node, loop = stmt, None
        while node is not None and node is not fn:
            p = self.parent.get(node)
            if isinstance(p, (ast.For, ast.While, ast.AsyncFor)) and any(s is node for s in p.body):
                loop = p
                break
            node = p
        return loop

    def get_loop(self, ind, coll, values=False):
        return [ind + "for async_result in %s%s:" % (coll, ".values()" if values else ""),
                ind + "    async_result.get()  # re-raises the task's exception here"]

    def fix_collect(self, call, stmt):
        edits = Edits()
        loop = self.enclosing_loop(stmt)
        title = "Collect the async results and call `.get()` on each"
        if loop is None:
            name = self.unique_name("async_result")
            s = self.pos(call.lineno, call.col_offset)
            edits.add(s, s, name + " = ")
            ind = self.indent_of(stmt.lineno)
            self.insert_after(edits, stmt.end_lineno, [ind + name + ".get()  # re-raises the task's exception here"])
            return {"title": "Keep the async result and call `.get()`", "edits": edits.result(), "isPreferred": True}
        coll = self.unique_name("async_results")
        ind = self.indent_of(loop.lineno)
        self.insert_before(edits, self.first_line(loop, True), [ind + coll + " = []"])
        s, e = self.pos(call.lineno, call.col_offset), self.pos(call.end_lineno, call.end_col_offset)
        edits.add(s, s, coll + ".append(")
        edits.add(e, e, ")")
        self.insert_after(edits, loop.end_lineno, self.get_loop(ind, coll))
        return {"title": title, "edits": edits.result(), "isPreferred": True}

    def fix_get_name(self, name, stmt):
        edits = Edits()
        loop = self.enclosing_loop(stmt)
        if loop is None:
            self.insert_after(edits, stmt.end_lineno, [self.indent_of(stmt.lineno) + name + ".get()  # re-raises the task's exception here"])
            return {"title": "Call `%s.get()`" % name, "edits": edits.result(), "isPreferred": True}
        coll = self.unique_name("async_results")
        ind = self.indent_of(loop.lineno)
        self.insert_before(edits, self.first_line(loop, True), [ind + coll + " = []"])
        self.insert_after(edits, stmt.end_lineno, [self.indent_of(stmt.lineno) + "%s.append(%s)" % (coll, name)])
        self.insert_after(edits, loop.end_lineno, self.get_loop(ind, coll))
        return {"title": "Collect the async results and call `.get()` on each", "edits": edits.result(), "isPreferred": True}

    def fix_get_collection(self, coll, scope, stmt, values=False):
        loop = self.enclosing_loop(stmt)
        # fetch after the loop that fills the collection (or after the comprehension)
        anchor = loop if loop is not None and not isinstance(stmt, ast.Assign) else stmt
        edits = Edits()
        self.insert_after(edits, anchor.end_lineno, self.get_loop(self.indent_of(anchor.lineno), coll, values))
        return {"title": "Call `.get()` on every result in `%s`" % coll, "edits": edits.result(), "isPreferred": True}

    # ------------------------------------------------------------------ PR004 unpicklable callable
    def process_pool_receivers(self):
        """Names bound to process pools: (scope, name)."""
        out = set()
        for call, kind in self.pool_calls:
            if kind == "Process":
                continue
            p = self.parent.get(call)
            if isinstance(p, ast.withitem) and isinstance(p.optional_vars, ast.Name):
                out.add((self.scope_of(call), p.optional_vars.id))
            elif isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name):
                out.add((self.scope_of(call), p.targets[0].id))
        return out

    def resolve_callable(self, expr, at):
        """('lambda'|'nested'|'guarded', node) when expr cannot be pickled by reference, else None."""
        if isinstance(expr, ast.Lambda):
            return "lambda", expr
        if isinstance(expr, ast.Call) and (self.qualname(expr.func) or "") in ("functools.partial",) and expr.args:
            return self.resolve_callable(expr.args[0], at)
        if not isinstance(expr, ast.Name):
            return None
        scope = self.scope_of(at)
        while scope is not None:
            d = self.defs.get((scope, expr.id))
            if d is not None:
                if isinstance(scope, FUNCS):
                    return "nested", d
                if scope is self.tree and self.in_guard(d):
                    return "guarded", d
                return None
            for n in self.names.get((scope, expr.id), []):
                p = self.parent.get(n)
                if isinstance(n.ctx, ast.Store) and isinstance(p, ast.Assign) and isinstance(p.value, ast.Lambda):
                    return "namedLambda", p
            if (scope, expr.id) in self.names and any(not isinstance(n.ctx, ast.Load) for n in self.names[(scope, expr.id)]):
                return None
            scope = self.scope_of(scope) if scope is not self.tree else None
        return None

    def check_unpicklable(self):
        receivers = self.process_pool_receivers()
        for call in self.calls:
            target, where = None, None
            if isinstance(call.func, ast.Attribute) and call.func.attr in SUBMIT_METHODS:
                recv = call.func.value
                known = False
                if isinstance(recv, ast.Name):
                    s = self.scope_of(call)
                    while s is not None:
                        if (s, recv.id) in receivers:
                            known = True
                            break
                        s = self.scope_of(s) if s is not self.tree else None
                elif isinstance(recv, ast.Call) and POOL_CTORS.get(self.qualname(recv.func)) in ("Pool", "ProcessPoolExecutor"):
                    known = True
                if not known:
                    continue
                kw = SUBMIT_METHODS[call.func.attr]
                target = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == kw), None)
                where = "pool"
            elif POOL_CTORS.get(self.qualname(call.func)) == "Process":
                target = next((k.value for k in call.keywords if k.arg == "target"), call.args[1] if len(call.args) > 1 else None)
                where = "process"
            if target is None:
                continue
            found = self.resolve_callable(target, call)
            if not found:
                continue
            what, node = found
            desc = {"lambda": "A lambda", "namedLambda": "`%s` is a lambda and" % self.segment(target),
                    "nested": "`%s` is a nested function and" % getattr(node, "name", "?"),
                    "guarded": "`%s` is defined inside `if __name__ == \"__main__\":` and" % getattr(node, "name", "?")}[what]
            if where == "pool" and what != "guarded":
                sev, msg = "error", ("%s cannot be pickled, so the process pool cannot send it to its workers "
                                     "(PicklingError / \"Can't pickle local object\" at run time). Define it with `def` "
                                     "at module level." % desc)
            else:
                sev, msg = "warning", ("%s cannot be pickled: it works only with the fork start method and fails with "
                                       "spawn/forkserver (Windows, macOS, Python 3.14+ on Linux). Define it with `def` "
                                       "at module level." % desc)
            self.diag("PR004", sev, target, msg, [self.fix_unpicklable(what, node, target)])

    def fix_unpicklable(self, what, node, use):
        edits = Edits()
        if what == "namedLambda":
            name = node.targets[0].id
            lam = node.value
            if self.function_of(node) is self.tree and not self.in_guard(node):
                ind = self.indent_of(node.lineno)
                body = self.segment(lam.body).split(self.eol)
                lines = [ind + "def %s(%s):" % (name, self.lambda_params(lam)), ind + "    return " + body[0]] + body[1:]
                self.replace_lines(edits, node.lineno, node.end_lineno, lines)
                return {"title": "Turn `%s` into a module-level `def`" % name, "edits": edits.result(), "isPreferred": True}
            return self.move_to_module(edits, name, lam, node, use, is_lambda=True)
        if what == "lambda":
            name = self.unique_name("_pool_task")
            return self.move_to_module(edits, name, node, None, use, is_lambda=True)
        return self.move_to_module(edits, node.name, node, node, use, is_lambda=False)

    def lambda_params(self, lam):
        """`x, y=1` of `lambda x, y=1: ...`, as written (ast.unparse needs Python 3.9)."""
        start = self.lines[lam.lineno - 1].encode("utf-8")[lam.col_offset:]
        if lam.body.lineno == lam.lineno:
            text = start[: lam.body.col_offset - lam.col_offset].decode("utf-8")
        else:
            text = self.segment(lam).split(":", 1)[0] + ":"
        text = text.strip()
        return text[len("lambda"):].rstrip().rstrip(":").strip()

    def move_to_module(self, edits, name, fn, stmt, use, is_lambda):
        """Define fn at module level (free variables become leading parameters bound with functools.partial)."""
        host = self.function_of(fn)
        if any(isinstance(n, (ast.Nonlocal, ast.Global)) for n in ast.walk(fn)):
            return None
        own = self.bound_in(fn)
        free = []
        s = host
        local = set()
        while isinstance(s, FUNCS + (ast.Lambda,)):
            local |= self.bound_in(s)
            s = self.function_of(s)
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in local and n.id not in own \
                    and n.id != name and n.id not in free:
                free.append(n.id)
        top = self.top_statement(fn)
        if stmt is not None and self.function_of(stmt) is self.tree and not free and self.in_guard(stmt):
            top = next(g for g in self.guards if self.in_guard(stmt))
        if is_lambda:
            args = self.lambda_params(fn)
            params = ", ".join(free + ([args] if args else []))
            body = self.segment(fn.body).split(self.eol)
            lines = ["def %s(%s):" % (name, params), "    return " + body[0]] + body[1:]
        else:
            if name in self.module_names() - {name} or (self.tree, name) in self.defs:
                return None
            a = fn.args
            args = bool(a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg)
            head_old = self.indent_of(fn.lineno)
            src = self.reindent(self.first_line(fn, True), fn.end_lineno, head_old, "")
            if free:
                # add the captured names as leading parameters
                k = next(i for i, l in enumerate(src) if l.lstrip().startswith(("def ", "async def ")))
                src[k] = src[k].replace("(", "(" + ", ".join(free) + (", " if args else ""), 1)
            lines = src
        self.insert_before(edits, self.first_line(top, True), lines + ["", ""])
        if stmt is not None:
            block, i = self.block_of(stmt)
            first, last = self.first_line(stmt, True), stmt.end_lineno
            if len(block) == 1:
                self.replace_lines(edits, first, last, [self.indent_of(stmt.lineno) + "pass"])
            else:
                while last < len(self.lines) - 1 and not self.lines[last].strip():
                    last += 1  # take the blank lines after the removed definition too
                if last < len(self.lines):
                    edits.add((first - 1, 0), (last, 0), "")
                else:
                    edits.add((first - 2, u16len(self.lines[first - 2])), (last - 1, u16len(self.lines[last - 1])), "")
        ref = name
        if free:
            ft = self.ensure_import(edits, "functools")
            ref = "%s.partial(%s, %s)" % (ft, name, ", ".join(free))
        uses = [use]
        if stmt is not None and free:
            uses = [n for n in self.names.get((self.scope_of(use), name), []) if isinstance(n.ctx, ast.Load)] or [use]
        if is_lambda and stmt is None or free or ref != self.segment(use):
            for u in uses:
                # functools.partial(nested, ...): replace only the function inside it
                target = u.args[0] if isinstance(u, ast.Call) and u.args else u
                s, e = self.pos(target.lineno, target.col_offset), self.pos(target.end_lineno, target.end_col_offset)
                edits.add(s, e, ref)
        title = ("Move `%s` to module level" % name) if not is_lambda or stmt is not None else \
            "Replace the lambda with a module-level function `%s`" % name
        if free:
            title += " (passing %s with functools.partial)" % ", ".join("`%s`" % f for f in free)
        return {"title": title, "edits": edits.result(), "isPreferred": True}

    # ------------------------------------------------------------------ PR005 BLAS import before limits
    def check_blas_import(self):
        if not self.pool_calls:
            return
        module_level_pool = any(self.function_of(c) is self.tree for c, _ in self.pool_calls)
        if not (self.guards or module_level_pool):
            return  # a library module: the script that imports it decides about threads
        if self.threadpool_limit_calls() or any(q.startswith("threadpoolctl") for q in self.aliases.values()):
            return
        imports = []
        for stmt in self.nodes(ast.Import, ast.ImportFrom):
            if self.function_of(stmt) is self.tree:
                mods = [a.name for a in stmt.names] if isinstance(stmt, ast.Import) else [stmt.module or ""]
                if any(m.split(".")[0] in BLAS_MODULES for m in mods) and (not isinstance(stmt, ast.ImportFrom) or stmt.level == 0):
                    imports.append(stmt)
        if not imports:
            return
        first = min(imports, key=lambda s: s.lineno)
        limits = self.env_limit_stmts()
        if any(s.lineno < first.lineno for s, _, _ in limits):
            return
        late = " (the `os.environ` limit on line %d comes after it: too late, BLAS reads it at import)" % (limits[0][0].lineno) if limits else ""
        mod = next(m for m in ([a.name for a in first.names] if isinstance(first, ast.Import) else [first.module])
                   if m.split(".")[0] in BLAS_MODULES).split(".")[0]
        self.diag("PR005", "warning", first,
                  "`%s` is imported before BLAS threads are limited%s, and this script starts a process pool: every "
                  "worker process starts its own full set of BLAS threads (one per core), so processes × cores "
                  "threads compete for the cores. Limit threads before the import, or with threadpoolctl." % (mod, late),
                  [self.fix_env_limits(first), self.fix_threadpoolctl()])

    def fix_env_limits(self, first):
        edits = Edits()
        ind = self.indent_of(first.lineno)
        lines = []
        has_os = any(any(a.name == "os" and not a.asname for a in s.names) and s.lineno < first.lineno
                     for s in self.nodes(ast.Import))
        if not has_os:
            lines.append(ind + "import os")
        lines.append(ind + "# One BLAS thread per process, set before numpy loads: the process pool already uses every core.")
        lines += [ind + 'os.environ.setdefault("%s", "1")' % v for v in self.thread_vars]
        self.insert_before(edits, self.first_line(first, True), lines)
        return {"title": "Limit BLAS threads (os.environ) before the import", "edits": edits.result(), "isPreferred": True}

    def fix_threadpoolctl(self):
        edits = Edits()
        last = None
        for s in self.tree.body:
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
            self.insert_after(edits, anchor, lines)
        else:
            self.insert_before(edits, 1, lines)
        return {"title": "Limit BLAS threads with threadpoolctl.threadpool_limits (pip install threadpoolctl)",
                "edits": edits.result(), "isPreferred": False}


def analyze(source, options=None):
    """Analysis result for one source text (never raises for bad user code)."""
    try:
        analyzer = Analyzer(source, options)
    except SyntaxError as e:
        return {"protocol": PROTOCOL_VERSION, "syntaxError": {"message": e.msg, "line": (e.lineno or 1) - 1,
                                                              "character": max(0, (e.offset or 1) - 1)},
                "entryPoint": None, "pools": [], "threadLimit": None, "fileLoops": [], "diagnostics": []}
    except (ValueError, RecursionError) as e:  # null bytes, absurd nesting
        return {"protocol": PROTOCOL_VERSION, "syntaxError": {"message": str(e), "line": 0, "character": 0},
                "entryPoint": None, "pools": [], "threadLimit": None, "fileLoops": [], "diagnostics": []}
    return analyzer.run()


def serve():
    """Line protocol: {"id", "method": "analyze"|"ping", "source", "options"} -> {"id", "result"|"error"}."""
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            method = req.get("method", "analyze")
            if method == "ping":
                out = {"id": rid, "result": {"protocol": PROTOCOL_VERSION, "python": sys.version.split()[0]}}
            elif method == "analyze":
                out = {"id": rid, "result": analyze(req["source"], req.get("options"))}
            else:
                out = {"id": rid, "error": "unknown method %r" % method}
        except Exception as e:  # keep serving: one bad request must not kill the analyzer
            out = {"id": rid, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def main(argv):
    for stream in (sys.stdin, sys.stdout):
        try:
            stream.reconfigure(encoding="utf-8")
        except AttributeError:
            pass
    if "--serve" in argv:
        serve()
        return 0
    options = {"cores": 1}
    files, i = [], 0
    while i < len(argv):
        if argv[i] == "--cores":
            options["cores"] = int(argv[i + 1])
            i += 2
            continue
        files.append(argv[i])
        i += 1
    if "--stdin" in files:
        print(json.dumps(analyze(sys.stdin.read(), options), indent=1))
        return 0
    if not files:
        sys.stderr.write("usage: analyze_source.py --serve | [--cores N] FILE... | --stdin\n")
        return 2
    out = {}
    for f in files:
        with open(f, encoding="utf-8") as fh:
            out[f] = analyze(fh.read(), options)
    print(json.dumps({"files": out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
