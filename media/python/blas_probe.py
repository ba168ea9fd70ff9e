"""BLAS probe for Parallel Run: what numpy's BLAS is and how many threads it uses.

Prints ONE JSON object on stdout (interpreted by extension/core/python/blasProbe.ts):
  python, numpy (or numpyError), config (np.show_config(mode='dicts') on numpy >= 1.25) or
  configText (the printed build config of older numpy), threadpoolctl (threadpool_info() when
  installed), loaded (BLAS/OpenMP libraries found in this process via ctypes, when threadpoolctl is
  not installed), env (the thread environment variables as this process sees them).

  --bench N   also time `mat.dot(mat.T)` for a ROWS x COLS random matrix N times (the tutorial's
              benchmark). Thread limits come from the environment the caller sets, so each thread
              count is measured in a fresh process.
  --rows R --cols C   matrix shape for --bench (default 1000 x 1500)
  --env-vars A,B,...  thread variables to report (default: the usual BLAS/OpenMP ones)

Standard library only (numpy and threadpoolctl are optional); never raises: errors are fields.
"""
import argparse
import contextlib
import ctypes
import io
import json
import os
import platform
import re
import sys
import time


def _thread_env_vars():
    """The thread variables (thread_env_vars.json beside this file, shared with the extension)."""
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "thread_env_vars.json")) as f:
            j = json.load(f)
        return list(j["threadEnvVars"]) + list(j["legacy"])
    except (OSError, ValueError, KeyError):
        return []  # the caller passes --env-vars anyway


DEFAULT_ENV_VARS = _thread_env_vars()

# Symbol prefixes/suffixes as threadpoolctl uses them: numpy >= 2 wheels ship scipy-openblas with
# prefixed and (for 64-bit ints) suffixed symbols.
OPENBLAS_PREFIXES = ["openblas", "scipy_openblas"]
OPENBLAS_SUFFIXES = ["", "64_", "_64"]


def _openblas_fn(lib, name):
    for prefix in OPENBLAS_PREFIXES:
        for suffix in OPENBLAS_SUFFIXES:
            fn = getattr(lib, "%s_%s%s" % (prefix, name, suffix), None)
            if fn is not None:
                return fn
    return None


def _loaded_library_paths():
    """Shared objects mapped into this process (Linux); empty elsewhere."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split()
                if len(parts) >= 6 and ".so" in parts[-1] and parts[-1] not in paths:
                    paths.append(parts[-1])
    except OSError:
        pass
    return paths


def _probe_library(path):
    base = os.path.basename(path).lower()
    info = {"path": path}
    try:
        if "openblas" in base or re.match(r"lib(c)?blas", base):
            # Debian/conda ship OpenBLAS as a generic libblas.so.3 (alternatives): decide by symbols.
            lib = ctypes.CDLL(path)
            fn = _openblas_fn(lib, "get_num_threads")
            if fn is None:
                if "openblas" not in base:
                    info["api"] = "blas"  # reference BLAS or another vendor without a thread API
                    return info
            else:
                fn.restype = ctypes.c_int
                info["numThreads"] = fn()
            info["api"] = "openblas"
            fn = _openblas_fn(lib, "get_config")
            if fn is not None:
                fn.restype = ctypes.c_char_p
                config = (fn() or b"").decode("utf-8", "replace")
                info["config"] = config
                m = re.search(r"OpenBLAS\s+([\d.]+)", config)
                if m:
                    info["version"] = m.group(1)
            fn = _openblas_fn(lib, "get_parallel")
            if fn is not None:
                fn.restype = ctypes.c_int
                info["threadingLayer"] = {0: "disabled", 1: "pthreads", 2: "openmp"}.get(fn(), "unknown")
            fn = _openblas_fn(lib, "get_corename")
            if fn is not None:
                fn.restype = ctypes.c_char_p
                info["architecture"] = (fn() or b"").decode("utf-8", "replace")
        elif "mkl_rt" in base:
            lib = ctypes.CDLL(path)
            info["api"] = "mkl"
            info["numThreads"] = lib.MKL_Get_Max_Threads()
            buf = ctypes.create_string_buffer(256)
            lib.MKL_Get_Version_String(buf, len(buf))
            text = buf.value.decode("utf-8", "replace")
            m = re.search(r"(\d+(\.\d+)+)", text)
            info["version"] = m.group(1) if m else text
            layer = lib.MKL_Set_Threading_Layer(-1)  # -1 = query
            info["threadingLayer"] = {0: "intel", 1: "sequential", 2: "pgi", 3: "gnu", 4: "tbb"}.get(layer, "unknown")
        elif re.match(r"libblis", base):
            lib = ctypes.CDLL(path)
            info["api"] = "blis"
            lib.bli_thread_get_num_threads.restype = ctypes.c_int
            info["numThreads"] = lib.bli_thread_get_num_threads()
            lib.bli_info_get_version_str.restype = ctypes.c_char_p
            info["version"] = lib.bli_info_get_version_str().decode()
        elif re.match(r"lib(g|i)?omp", base):
            lib = ctypes.CDLL(path)
            info["api"] = "openmp"
            info["numThreads"] = lib.omp_get_max_threads()
        else:
            return None
    except Exception as exc:  # a library without the expected symbols: report, don't fail
        info["error"] = "%s: %s" % (type(exc).__name__, exc)
    return info


def probe(env_vars):
    out = {
        "probe": 1,
        "python": {"executable": sys.executable, "version": platform.python_version(), "platform": sys.platform},
        "env": {name: os.environ.get(name) for name in env_vars},
        "cpuCount": os.cpu_count(),
    }
    try:
        import numpy as np
    except Exception as exc:
        out["numpy"] = None
        out["numpyError"] = "%s: %s" % (type(exc).__name__, exc)
        return out, None
    out["numpy"] = {"version": np.__version__, "file": getattr(np, "__file__", None)}
    try:
        out["config"] = np.show_config(mode="dicts")
    except TypeError:  # numpy < 1.25 has no mode=: capture the printed text instead
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            np.show_config()
        out["configText"] = buf.getvalue()
    except Exception as exc:
        out["configError"] = "%s: %s" % (type(exc).__name__, exc)
    try:
        import threadpoolctl
        out["threadpoolctl"] = {"version": threadpoolctl.__version__, "info": threadpoolctl.threadpool_info()}
    except ImportError:
        out["threadpoolctl"] = None
        loaded = [_probe_library(p) for p in _loaded_library_paths()]
        out["loaded"] = [x for x in loaded if x is not None]
    except Exception as exc:
        out["threadpoolctl"] = None
        out["threadpoolctlError"] = "%s: %s" % (type(exc).__name__, exc)
    return out, np


def bench(np, number, rows, cols):
    rng = np.random.default_rng(0)
    mat = rng.random((rows, cols))
    mat.dot(mat.T)  # warm-up: thread pool start, page faults
    start = time.perf_counter()
    for _ in range(number):
        mat.dot(mat.T)
    seconds = time.perf_counter() - start
    return {"number": number, "rows": rows, "cols": cols, "seconds": seconds, "perCallMs": seconds * 1000.0 / number}


def main():
    parser = argparse.ArgumentParser(description="Parallel Run BLAS probe")
    parser.add_argument("--bench", type=int, default=0)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--cols", type=int, default=1500)
    parser.add_argument("--env-vars", default=",".join(DEFAULT_ENV_VARS))
    args = parser.parse_args()
    env_vars = [v for v in args.env_vars.split(",") if v]
    out, np = probe(env_vars)
    if args.bench > 0:
        if np is None:
            out["benchError"] = "numpy is not installed in this interpreter"
        else:
            try:
                out["bench"] = bench(np, args.bench, args.rows, args.cols)
            except Exception as exc:
                out["benchError"] = "%s: %s" % (type(exc).__name__, exc)
    sys.stdout.write(json.dumps(out, default=str))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
