"""Text edits (0-based lines, UTF-16 columns) and the line-level insertions every fix is made of."""
import ast

from .scope import u16len


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


def replace_lines(ix, edits, first, last, new_lines):
    if last < len(ix.lines):
        edits.add((first - 1, 0), (last, 0), ix.eol.join(new_lines) + ix.eol)
    else:
        edits.add((first - 1, 0), (last - 1, u16len(ix.lines[last - 1])), ix.eol.join(new_lines))


def insert_before(ix, edits, lineno, new_lines):
    edits.add((lineno - 1, 0), (lineno - 1, 0), ix.eol.join(new_lines) + ix.eol)


def insert_after(ix, edits, lineno, new_lines):
    if lineno < len(ix.lines):
        insert_before(ix, edits, lineno + 1, new_lines)
    else:
        end = (lineno - 1, u16len(ix.lines[lineno - 1]))
        edits.add(end, end, ix.eol + ix.eol.join(new_lines))


def import_line(ix):
    """Line before which a new top-level import goes: after the docstring and __future__ imports."""
    for stmt in ix.tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str) \
                and stmt is ix.tree.body[0]:
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            continue
        return ix.first_line(stmt, with_comments=True)
    return len(ix.lines)


def ensure_import(ix, edits, module):
    """Local name of `module` (imported as a module at top level), adding `import module` if needed."""
    for name, q in ix.aliases.items():
        if q == module and any(isinstance(s, ast.Import) for s in ix.tree.body
                               if any((a.asname or a.name) == name for a in getattr(s, "names", []))):
            return name
    line = import_line(ix)
    if line >= len(ix.lines) and not ix.lines[-1].strip():
        insert_before(ix, edits, line, ["import " + module])
    else:
        insert_before(ix, edits, line, ["import " + module])
    return module
