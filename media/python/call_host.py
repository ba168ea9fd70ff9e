"""Parallel Run in-process call host (--call FUNC): one long-lived Python per pool worker that imports
the script ONCE (as a module: its `if __name__ == "__main__"` block does not run) and calls FUNC for
each task in this same process, with no fork per task.

  call_host.py call SCRIPT FUNC [--grace-ms N] [--done FILE]
                                                  serve tasks (the protocol of warm_host.py, its
                                                  completion tokens and --done file included)
  call_host.py --signature SCRIPT FUNC            print FUNC's parameters as JSON, from the source
                                                  alone (nothing of the script runs), or an error

Each request's last field is a JSON object {"args": [...], "kwargs": {...}}: the task's inputs by
name (the file, when the run has a file source, goes first as a positional argument). Values are
converted by FUNC's annotations (int, float, bool, str, Path), else passed as strings. The return
value is the task's result: written as JSON to the file named by $PARALLEL_RUN_RESULT (a dict, or a
scalar the runner files as "result"). An exception is a failed task (exit status 1) with its
traceback in the task's stderr log. A task's stdout and stderr (fds 1 and 2, and sys.stdout /
sys.stderr) go to its logs while it runs.

The replies are warm_host.py's ("S pid", "D pid status user sys rss start end"), with this host's own
pid as the task's, and the result's JSON text after them as one more field ("D ... end {...}", no space in it) when it is small (else in
the $PARALLEL_RUN_RESULT file, and for no result, neither): no file to create, write and read back per
call; a timeout kills the host's process group, that is the host, and the runner starts
a new one. SIGUSR1 (cancel, halt) ends the host at once. State (globals, caches, open files) can leak
from one call to the next in a worker: that is the price of no fork.
"""
import json
import os
import signal
import sys
import time


def set_parent_death_signal():
    """Linux: die with the runner thread that started us (nothing of a dead run may stay)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() == 1:
        os._exit(1)


def signature_of(script, func):
    """FUNC's parameters from the script's source (ast: nothing runs), or the reason it cannot be called."""
    import ast

    try:
        with open(script, "rb") as f:
            tree = ast.parse(f.read(), script)
    except (OSError, SyntaxError) as e:
        return {"error": "cannot read %s: %s" % (script, e)}
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == func]
    if not defs:
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        return {"error": "no top-level function %r in %s" % (func, script), "functions": names}
    fn = defs[-1]
    if isinstance(fn, ast.AsyncFunctionDef):
        return {"error": "%s is an async function: --call runs plain functions" % func}
    a = fn.args
    params = []
    positional = a.posonlyargs + a.args
    first_default = len(positional) - len(a.defaults)
    for i, p in enumerate(positional):
        params.append({"name": p.arg, "kind": "posonly" if i < len(a.posonlyargs) else "normal", "default": i >= first_default})
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        params.append({"name": p.arg, "kind": "kwonly", "default": d is not None})
    return {"params": params, "varargs": a.vararg is not None, "varkw": a.kwarg is not None}


def converter(annotation):
    """The conversion of a text value for a parameter annotated `annotation` (a type or its name)."""
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    name = name.rsplit(".", 1)[-1]
    if name == "int":
        return int
    if name == "float":
        return float
    if name == "bool":
        def to_bool(v):
            t = v.strip().lower()
            if t in ("1", "true", "yes", "on", "y", "t"):
                return True
            if t in ("0", "false", "no", "off", "n", "f", ""):
                return False
            raise ValueError("%r is not a truth value (true/false, 1/0, yes/no)" % v)
        return to_bool
    if name in ("Path", "PurePath", "PosixPath"):
        from pathlib import Path

        return Path
    return None


def load(script, func):
    import importlib.util
    import inspect

    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    sys.argv = [script]
    name = os.path.splitext(os.path.basename(script))[0]
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so pickle and dataclasses find what it defines
    spec.loader.exec_module(module)
    fn = getattr(module, func)
    convert = {}
    positional = []  # the names of the positional parameters, in order (the file goes to the first)
    try:
        for p in inspect.signature(fn).parameters.values():
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                positional.append(p.name)
            if p.annotation is not inspect.Parameter.empty:
                c = converter(p.annotation)
                if c is not None:
                    convert[p.name] = c
    except (TypeError, ValueError):
        pass
    return fn, convert, positional


def jsonable(v):
    item = getattr(v, "item", None)  # numpy scalars
    if callable(item):
        try:
            return item()
        except Exception:
            pass
    tolist = getattr(v, "tolist", None)  # numpy arrays
    if callable(tolist):
        return tolist()
    return str(v)


INLINE_RESULT_MAX = 65536  # a larger result goes through the $PARALLEL_RUN_RESULT file


def main():
    script, func = sys.argv[2], sys.argv[3]
    set_parent_death_signal()
    # SIGUSR1 = stop: nothing more runs; a call under way cannot be interrupted safely, so the host goes
    signal.signal(signal.SIGUSR1, lambda s, f: os._exit(128 + signal.SIGTERM))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the protocol lives on private fds; fd 1 points at stderr, fd 0 at /dev/null (as in warm_host.py)
    rd, wr, err = os.dup(0), os.dup(1), os.dup(2)
    done = -1
    if "--done" in sys.argv:
        try:
            done = os.open(sys.argv[sys.argv.index("--done") + 1], os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError:
            done = -1
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    try:
        fn, convert, positional = load(script, func)
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)
    sys.stdout.flush()
    sys.stderr.flush()
    import resource
    import traceback

    os.write(wr, (json.dumps({"ready": True, "pid": os.getpid(), "imports": [], "failedImports": [], "fork": "none"}) + "\n").encode())
    pid = os.getpid()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    cwd_now = [None]
    buf = b""
    # one getrusage per task: the end of one task is the start of the next (the loop between them is
    # a few microseconds; the call costs ~50 us on a small VM)
    ru_prev = resource.getrusage(resource.RUSAGE_SELF)
    while True:
        end = buf.find(b"\0\0")
        while end < 0:
            more = os.read(rd, 65536)
            if not more:
                return
            buf += more
            end = buf.find(b"\0\0")
        req = buf[: end + 2]
        buf = buf[end + 2:]
        f = [x.decode("utf-8", "surrogateescape") for x in req[1:-2].split(b"\0=")]
        cwd, out_log, err_log, k = f[1], f[2], f[3], int(f[5])
        env = {f[6 + 2 * i]: f[7 + 2 * i] for i in range(k)}
        call = json.loads(f[6 + 2 * k])
        t0 = time.time() * 1000.0
        ru0 = ru_prev
        inline = b""
        try:
            out = os.open(out_log, flags, 0o666)
            errfd = os.open(err_log, flags, 0o666)
        except OSError as e:
            os.write(err, ("parallel-run: cannot open the task's logs: %s\n" % e).encode())
            t = time.time() * 1000.0
            os.write(wr, b"D 0 %d 0 0 -1 %.3f %.3f\n" % (70 << 8, t0, t))
            continue
        if f[0][:1] == "p":
            os.write(wr, b"S %d\n" % pid)
        os.dup2(out, 1)
        os.dup2(errfd, 2)
        os.close(out)
        os.close(errfd)
        os.environ.update(env)
        status = 0
        try:
            if cwd != cwd_now[0]:
                os.chdir(cwd)
                cwd_now[0] = cwd
            kwargs = {}
            args = []
            for i, v in enumerate(call.get("args", [])):
                c = convert.get(positional[i]) if i < len(positional) else None
                args.append(c(v) if c else v)
            for name, v in call["kwargs"].items():
                c = convert.get(name)
                try:
                    kwargs[name] = c(v) if c else v
                except ValueError as e:
                    raise ValueError("input %s=%r cannot be converted for %s(): %s" % (name, v, func, e)) from None
            result = fn(*args, **kwargs)
            if result is not None:
                # one word: compact, and a space inside a string escaped (the reply and the --done
                # line are space-separated fields)
                text = json.dumps(result, default=jsonable, separators=(",", ":")).replace(" ", "\\u0020")
                if len(text) <= INLINE_RESULT_MAX:
                    inline = b" " + text.encode("utf-8", "surrogateescape")
                elif env.get("PARALLEL_RUN_RESULT"):
                    with open(env["PARALLEL_RUN_RESULT"], "w") as rf:
                        rf.write(text)
        except BaseException as e:
            if isinstance(e, SystemExit) and (e.code is None or e.code == 0):
                status = 0
            else:
                # the traceback from the function down (this host's frame is no help to anyone)
                traceback.print_exception(type(e), e, e.__traceback__.tb_next)
                status = (e.code if isinstance(e, SystemExit) and isinstance(e.code, int) else 1) & 0xFF
                status <<= 8
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os.dup2(err, 1)
        os.dup2(err, 2)
        ru1 = ru_prev = resource.getrusage(resource.RUSAGE_SELF)
        t1 = time.time() * 1000.0
        line = b"D %d %d %.6f %.6f %d %.3f %.3f%s\n" % (pid, status, ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime, ru1.ru_maxrss, t0, t1, inline)
        # a completion token ("p"?, then "J" + token) goes to the --done file before the reply
        tok = f[0][1:] if f[0][:1] == "p" else f[0]
        if status == 0 and done >= 0 and tok[:1] == "J":
            try:
                os.write(done, tok[1:].encode("utf-8", "surrogateescape") + b" " + line)
            except OSError:
                pass
        os.write(wr, line)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--signature":
        print(json.dumps(signature_of(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) >= 4 and sys.argv[1] == "call":
        main()
    else:
        sys.stderr.write("usage: call_host.py call SCRIPT FUNC | --signature SCRIPT FUNC\n")
        sys.exit(2)
