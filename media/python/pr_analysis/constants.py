"""Names the checks recognise: pool constructors, submit methods, listing calls, BLAS modules."""
import ast
import json
import os

PROTOCOL_VERSION = 1

# the thread variables of the BLAS/OpenMP runtimes: one list, shared with the extension
with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "thread_env_vars.json")) as _f:
    DEFAULT_THREAD_VARS = tuple(json.load(_f)["threadEnvVars"])
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
