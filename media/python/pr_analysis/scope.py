"""The parsed source and its scope index, shared by every finding, check and rewrite."""
import ast
import re

from .constants import DEFAULT_THREAD_VARS, FUNCS, POOL_CTORS, SCOPES


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


class ScopeIndex:
    """The parsed source: tree, lines, parent links, scopes, names, imports; positions and text of nodes."""

    def __init__(self, source, options):
        self.source = source
        self.options = options or {}
        # a notebook analysed as one module (its code cells joined): no file, no `__main__` guard
        self.notebook = bool(self.options.get("notebook"))
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
        # (call, "Pool" | "ProcessPoolExecutor" | "Process") for every process pool / Process constructor
        self.pool_calls = [(c, POOL_CTORS[q]) for c in self.calls for q in [self.qualname(c.func)] if q in POOL_CTORS]
        self.diags = []

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

    def diag(self, code, severity, node, message, fixes, end=None):
        """Records a diagnostic on `node` (to `end`) with its quick fixes (None entries dropped)."""
        self.diags.append({"code": code, "severity": severity, "range": self.rng(node, end), "message": message,
                           "fixes": [f for f in fixes if f]})
