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
sys.stderr) go to this host's scratch logs in the logs folder while it runs, and become its logs
after it (renamed): a call that wrote nothing to a stream has no log file for it.

The replies are warm_host.py's ("S pid", "D pid status user sys rss start end"), with this host's own
pid as the task's, then "oN" (N: 1 = the call made a stdout log, 2 = a stderr log, 3 = both, 0 = none),
and the result's JSON text after them as one more field ("D ... end oN {...}", no space in it) when it is small (else in
the $PARALLEL_RUN_RESULT file, and for no result, neither): no file to create, write and read back per
call; replies of short calls go a few at a time (HOLD_MS); a timeout kills the host's process group,
that is the host, and the runner starts a new one. SIGUSR1 (cancel, halt) ends the host at once,
after the replies it held. State (globals, caches, open files) can leak
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


KEEP_MB_DEFAULT = 64


def keep_freed_memory():
    """glibc: keep the memory one call frees for the next instead of handing it back to the system.

    By default glibc serves blocks of 128 KiB and more (numpy's temporaries) with mmap and unmaps them
    on free, and trims the heap's free top: a call that makes a few such arrays pays a page fault for
    every 4 KiB of them, every call (half the CPU time of a 1 ms numpy likelihood here; see
    bench/experiments.js). Blocks below KEEP/2 (at most 32 MiB) come from the heap instead, and up to
    KEEP MiB of free heap stay mapped. PARALLEL_RUN_CALL_KEEP_MB sets KEEP (default 64; 0 = glibc's
    own behaviour). The cost: up to KEEP MiB per host that the system does not get back between calls.
    Not glibc (musl, macOS): nothing to do."""
    try:
        keep = int(os.environ.get("PARALLEL_RUN_CALL_KEEP_MB", KEEP_MB_DEFAULT))
    except ValueError:
        keep = KEEP_MB_DEFAULT
    if keep <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3
        libc.mallopt(M_MMAP_THRESHOLD, min(keep << 19, 32 << 20))
        libc.mallopt(M_TOP_PAD, keep << 20)
    except (OSError, AttributeError):
        pass


def signature_of(script, func):
    """FUNC's parameters from the script's source (ast: nothing runs), or the reason it cannot be called.
    The whole script is compiled first (as the runner's syntax check does, in this same interpreter
    start): a syntax error comes back as {"syntax": {...}}."""
    import ast

    try:
        with open(script, "rb") as f:
            source = f.read()
    except OSError as e:
        return {"error": "cannot read %s: %s" % (script, e)}
    try:
        compile(source, script, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        return {"syntax": {"type": type(e).__name__, "msg": getattr(e, "msg", None) or str(e), "line": getattr(e, "lineno", None) or 0,
                           "column": getattr(e, "offset", None) or 0, "text": getattr(e, "text", None)}}
    tree = ast.parse(source, script)
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

# Replies of short calls go out a few at a time: one write (and one wake-up of the runner, one message
# to its main thread) for several calls. A reply waits at most HOLD_MS for the ones after it, and none
# waits once the call before took HOLD_AFTER_MS or more (the next may be long too), nor when the host
# has no request left to start, nor for the start of a call that has a timeout ("S").
HOLD_MS = 10.0
HOLD_AFTER_MS = 2.0


def main():
    script, func = sys.argv[2], sys.argv[3]
    set_parent_death_signal()
    # SIGUSR1 = stop: nothing more runs; a call under way cannot be interrupted safely, so the host goes
    held = []  # replies not sent yet (see HOLD_MS)

    def send():
        data = b"".join(held)
        del held[:]
        os.write(wr, data)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def stop(signum, frame):
        # the calls that ended are reported first: a stop must not turn them into failures
        if held:
            os.write(wr, b"".join(held))
        if signum == signal.SIGUSR1:
            os._exit(128 + signal.SIGTERM)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGUSR1, stop)
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
    keep_freed_memory()
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
    # A task's output goes to this host's two scratch files in the logs folder (".call-PID.out/.err");
    # after the call, a scratch that got output is renamed to the task's log and a new one opened, an
    # empty one stays for the next call: no file is created per call that writes nothing (a task with
    # no output has no log files). The task's old logs (an earlier attempt's) are removed before the
    # call. If the host dies in a call, the runner renames what the scratch holds to the task's logs.
    scratch = {}  # fd (1, 2) -> [path, the open fd] (one logs folder at a time)

    def scratch_in(folder):
        if scratch and os.path.dirname(scratch[1][0]) == folder:
            return
        for fd_path in scratch.values():
            os.close(fd_path[1])
            try:
                os.unlink(fd_path[0])
            except OSError:
                pass
        scratch.clear()
        for fd, ext in ((1, "out"), (2, "err")):
            path = os.path.join(folder, ".call-%d.%s" % (pid, ext))
            scratch[fd] = [path, os.open(path, flags, 0o666)]

    def drop(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    buf = b""
    pos = 0  # where the next request starts in buf (no copy of the rest per request)
    # one getrusage per task: the end of one task is the start of the next (the loop between them is
    # a few microseconds; the call costs ~50 us on a small VM)
    ru_prev = resource.getrusage(resource.RUSAGE_SELF)
    held_since = last_ms = 0.0
    while True:
        end = buf.find(b"\0\0", pos)
        while end < 0:
            if held:
                send()
            more = os.read(rd, 262144)
            if not more:
                for fd_path in scratch.values():
                    drop(fd_path[0])
                return
            buf = buf[pos:] + more
            pos = 0
            end = buf.find(b"\0\0")
        raw = buf[pos + 1: end].split(b"\0=")
        pos = end + 2
        # the first field (flags, completion token) stays bytes: it is only passed on
        flag = raw[0]
        f = [flag] + [x.decode("utf-8", "surrogateescape") for x in raw[1:]]
        cwd, out_log, err_log, k = f[1], f[2], f[3], int(f[5])
        env = {f[6 + 2 * i]: f[7 + 2 * i] for i in range(k)}
        call = json.loads(f[6 + 2 * k])
        t0 = time.time() * 1000.0
        ru0 = ru_prev
        inline = b""
        try:
            scratch_in(os.path.dirname(out_log))
            drop(out_log)
            drop(err_log)
        except OSError as e:
            os.write(err, ("parallel-run: cannot open the task's logs: %s\n" % e).encode())
            t = time.time() * 1000.0
            held.append(b"D 0 %d 0 0 -1 %.3f %.3f\n" % (70 << 8, t0, t))
            continue
        if flag[:1] == b"p":
            held.append(b"S %d\n" % pid)
            send()
        elif held and (t0 - held_since >= HOLD_MS or last_ms >= HOLD_AFTER_MS):
            send()
        os.dup2(scratch[1][1], 1)
        os.dup2(scratch[2][1], 2)
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
        # the output the call wrote becomes its log (see scratch above)
        wrote = 0  # bit 1: a stdout log, bit 2: a stderr log (the runner reads no tail of a log not made)
        for fd, log in ((1, out_log), (2, err_log)):
            sp = scratch[fd]
            try:
                if os.fstat(sp[1]).st_size > 0:
                    wrote |= fd
                    os.rename(sp[0], log)
                    os.close(sp[1])
                    sp[1] = os.open(sp[0], flags, 0o666)
            except OSError as e:
                os.write(err, ("parallel-run: cannot write the task's log %s: %s\n" % (log, e)).encode())
                if status == 0:
                    status = 70 << 8
                for fd_path in scratch.values():  # new scratch files for the next call
                    try:
                        os.close(fd_path[1])
                    except OSError:
                        pass
                scratch.clear()
                break
        ru1 = ru_prev = resource.getrusage(resource.RUSAGE_SELF)
        t1 = time.time() * 1000.0
        line = b"D %d %d %.6f %.6f %d %.3f %.3f" % (pid, status, ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime, ru1.ru_maxrss, t0, t1)
        # a completion token ("p"?, then "J" + token) goes to the --done file before the reply
        tok = flag[1:] if flag[:1] == b"p" else flag
        if status == 0 and done >= 0 and tok[:1] == b"J":
            try:
                os.write(done, tok[1:] + b" " + line + inline + b"\n")
            except OSError:
                pass
        # the reply says which logs the call made ("o" + the bits of `wrote`)
        line += b" o%d%s\n" % (wrote, inline)
        if not held:
            held_since = t1
            # a SIGTERM (a memory kill of this host) reports the calls that ended before it kills
            signal.signal(signal.SIGTERM, stop)
        held.append(line)
        last_ms = t1 - t0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--signature":
        print(json.dumps(signature_of(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) >= 4 and sys.argv[1] == "call":
        main()
    else:
        sys.stderr.write("usage: call_host.py call SCRIPT FUNC | --signature SCRIPT FUNC\n")
        sys.exit(2)
