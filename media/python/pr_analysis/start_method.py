"""The multiprocessing start method in effect: set in the code, or the default of the platform and Python.

* ``multiprocessing.set_start_method("spawn")`` at module level sets it for every pool after it;
* ``ctx = multiprocessing.get_context("forkserver")`` then ``ctx.Pool()`` sets it for that pool;
* otherwise the default: spawn on Windows and macOS (Python 3.8+), forkserver on Linux from Python
  3.14, fork on Linux before that. The platform and version are those of the interpreter running the
  analysis (the one the script runs with), unless the options name others (tests).

spawn and forkserver start each worker as a fresh interpreter: everything sent to it is pickled, and
the worker finds functions by importing the module that defined them. fork copies the parent, which
hides both: code that works under fork can fail under the others.
"""
import ast
import sys

PICKLING = ("spawn", "forkserver")
SET_FUNCS = ("multiprocessing.set_start_method", "multiprocessing.context.set_start_method")
CONTEXT_FUNCS = ("multiprocessing.get_context", "multiprocessing.context.get_context")


def platform_default(platform=None, version=None):
    """(method, why) of the default start method for `platform` (sys.platform) and `version` (tuple)."""
    platform = platform if platform is not None else sys.platform
    version = tuple(version) if version is not None else sys.version_info[:2]
    if platform.startswith("win"):
        return "spawn", "the default on Windows"
    if platform == "darwin":
        return ("spawn", "the default on macOS") if version >= (3, 8) else ("fork", "the default on macOS before Python 3.8")
    if version >= (3, 14):
        return "forkserver", "the default on Linux from Python 3.14"
    return "fork", "the default on Linux before Python 3.14; Python %d.%d here" % version[:2]


def _method_arg(call):
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "method"), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def resolve(ix):
    """The module's start method {method, why, line, source} (also stored on ix.start_method)."""
    opts = ix.options
    method, why = platform_default(opts.get("platform"), opts.get("pythonVersion"))
    found = {"method": method, "why": why, "line": None, "source": "default"}
    for call in ix.calls:
        if ix.qualname(call.func) in SET_FUNCS and ix.function_of(call) is ix.tree or (
                ix.qualname(call.func) in SET_FUNCS and ix.in_guard(call)):
            m = _method_arg(call)
            if m:
                found = {"method": m, "why": "set with set_start_method on line %d" % call.lineno,
                         "line": call.lineno - 1, "source": "code"}
                break
    contexts = {}
    for node in ix.nodes(ast.Assign):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call) \
                and ix.qualname(node.value.func) in CONTEXT_FUNCS:
            m = _method_arg(node.value)
            if m:
                contexts[node.targets[0].id] = (m, node.lineno)
    ix.start_method = found
    ix.start_contexts = contexts
    return found


def for_pool(ix, call):
    """The start method a pool / Process constructor call uses: its context's, else the module's."""
    func = call.func
    if isinstance(func, ast.Attribute):
        base = func.value
        if isinstance(base, ast.Name) and base.id in ix.start_contexts:
            m, line = ix.start_contexts[base.id]
            return {"method": m, "why": "`%s = get_context(%r)` on line %d" % (base.id, m, line), "line": line - 1,
                    "source": "code"}
        if isinstance(base, ast.Call) and ix.qualname(base.func) in CONTEXT_FUNCS and _method_arg(base):
            m = _method_arg(base)
            return {"method": m, "why": "get_context(%r) on line %d" % (m, call.lineno), "line": call.lineno - 1,
                    "source": "code"}
    return ix.start_method


def describe(sm):
    """`spawn (the default on macOS)`"""
    return "%s (%s)" % (sm["method"], sm["why"])


def pickles(sm):
    return sm["method"] in PICKLING
