"""Static analysis of a Python source for Parallel Run's editor features.

Parses with Python's own ``ast`` (the real grammar of the interpreter that will run the script) and
reports, as JSON:

* ``entryPoint``  -- where the script starts (``if __name__ == "__main__":`` or ``def main``);
* ``pools``       -- process pool / Process constructors with their processes argument;
* ``fileLoops``   -- ``for`` loops over files, each with ready-made rewrites as text edits;
* ``diagnostics`` -- PR001.. with ranges, messages and quick-fix text edits.

Positions are 0-based lines and UTF-16 columns (what VS Code and LSP use), so the TypeScript side
applies the edits as they are.

Layout: ``scope`` (the parsed source and its scope index), ``edits`` (text edits), ``findings`` (what
the lenses show), ``rewrites`` (loop rewrites), ``checks/`` (one module per diagnostic).
"""
from . import start_method
from .checks import CHECKS
from .findings import entry_point, pool_info, thread_limit
from .rewrites import file_loops
from .scope import ScopeIndex

PROTOCOL_VERSION = 1


def _empty(message, line, character):
    return {"protocol": PROTOCOL_VERSION, "syntaxError": {"message": message, "line": line, "character": character},
            "entryPoint": None, "pools": [], "threadLimit": None, "fileLoops": [], "diagnostics": []}


def analyze(source, options=None):
    """Analysis result for one source text (never raises for bad user code)."""
    try:
        ix = ScopeIndex(source, options)
    except SyntaxError as e:
        return _empty(e.msg, (e.lineno or 1) - 1, max(0, (e.offset or 1) - 1))
    except (ValueError, RecursionError) as e:  # null bytes, absurd nesting
        return _empty(str(e), 0, 0)
    result = {
        "protocol": PROTOCOL_VERSION,
        "entryPoint": entry_point(ix),
        "pools": [pool_info(ix, c, k) for c, k in ix.pool_calls],
        "threadLimit": thread_limit(ix),
        "fileLoops": file_loops(ix),
        "startMethod": start_method.resolve(ix),
    }
    for check in CHECKS:
        check(ix)
    ix.diags.sort(key=lambda d: (d["range"]["start"]["line"], d["range"]["start"]["character"], d["code"]))
    result["diagnostics"] = ix.diags
    return result
