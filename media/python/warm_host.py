"""Parallel Run worker host: one long-lived Python per pool worker.

Modes (argv[1]):
  exec  -- fork + exec each task's argv (cold mode, templates): the host only measures the child with
           os.wait4 (exit status, user/system CPU, peak RSS), which Node cannot do for its children.
  warm  -- argv[2] is the script. Its top-level imports run ONCE here; then for each file a forked child
           runs the script as __main__ (compiled once in the host; what runpy.run_path does) with sys.argv = [script, file, *args].

Protocol: one JSON object per line. Requests on stdin:
  {"id": n, "argv": [...], "cwd": "...", "stdout": path, "stderr": path, "env": {...}}
Replies on stdout: {"ready": true, "pid": host_pid, "imports": [...], "failedImports": [...]} once, then per task
  {"id": n, "event": "started", "pid": child_pid}
  {"id": n, "event": "done", "exitCode": int|null, "signal": "SIGTERM"|null, "utime": s, "stime": s, "maxrssKb": int}
The child is a session leader (its pid is its process group id) so the runner can kill its whole tree.
The host dies with its parent (PR_SET_PDEATHSIG) and exits on stdin EOF.
"""
import ast
import json
import os
import signal
import sys


_current = [0]  # pid (= process group) of the task running now, 0 between tasks


def on_parent_death(signum, frame):
    """The runner (or its worker thread) is gone: the running task's whole group goes with us."""
    pid = _current[0]
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(1)


def set_parent_death_signal():
    """Linux: SIGTERM us when the thread that spawned us dies; the handler kills the running task's
    group, so a killed runner leaves neither a host nor a task (the runner then needs no message per
    task to know what to kill)."""
    if not sys.platform.startswith("linux"):
        return
    signal.signal(signal.SIGTERM, on_parent_death)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass
    # the parent may have died before prctl took effect
    if os.getppid() == 1:
        os._exit(1)


def top_level_imports(script):
    """The script's module-level import statements (and those under `if __name__ == "__main__"`)."""
    try:
        with open(script, "rb") as f:
            tree = ast.parse(f.read(), filename=script)
    except Exception:
        return []
    nodes = []

    def visit(body, depth):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.ImportFrom) and node.level:
                    continue  # relative imports need a package context
                nodes.append(node)
            elif isinstance(node, (ast.If, ast.Try)) and depth < 2:
                visit(node.body, depth + 1)
                for h in getattr(node, "handlers", []):
                    visit(h.body, depth + 1)
                visit(node.orelse, depth + 1)
    visit(tree.body, 0)
    return nodes


def preimport(script):
    done, failed = [], []
    for node in top_level_imports(script):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        for name in names:
            if not name or name in done or name in failed:
                continue
            try:
                __import__(name)
                done.append(name)
            except BaseException:  # noqa: the child will meet the same error and report it properly
                failed.append(name)
    return done, failed


def main():
    mode = sys.argv[1]
    script = sys.argv[2] if mode == "warm" else None
    set_parent_death_signal()
    # Our protocol channel lives on private fds: whatever the script or its imports print must never
    # reach it. fd 1 then points at stderr, fd 0 at /dev/null.
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8", buffering=1)
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when tasks stop

    imports, failed = [], []
    if script:
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        sys.argv = [script]
        imports, failed = preimport(script)
        compile_script(script)
        # everything imported so far is shared copy-on-write with every child: keep the collector from
        # touching (and so copying) those pages in each child
        import gc

        gc.collect()
        gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()

    def send(obj):
        proto_out.write(json.dumps(obj) + "\n")
        proto_out.flush()

    send({"ready": True, "pid": os.getpid(), "imports": imports, "failedImports": failed, "fork": hasattr(os, "fork")})
    for line in proto_in:
        if not line.strip():
            continue
        req = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        if script is None and hasattr(os, "posix_spawnp"):
            # exec mode: posix_spawn (vfork) costs a third of fork+exec of this interpreter
            pid = spawn(req)
            if pid is None:
                send({"id": req["id"], "event": "done", "exitCode": 127, "signal": None, "utime": 0, "stime": 0, "maxrssKb": None})
                continue
        else:
            # what every child needs is set up here, in the host, where it touches no shared page:
            # each page a forked child writes is copied first (the main cost of a warm task)
            enter_cwd(req)
            os.environ.update(req.get("env") or {})
            pid = os.fork()
            if pid == 0:
                child(req, script, proto_in, proto_out)
                os._exit(70)  # not reached
        _current[0] = pid
        send({"id": req["id"], "event": "started", "pid": pid})
        while True:
            try:
                _, status, ru = os.wait4(pid, 0)
                break
            except InterruptedError:
                continue
        _current[0] = 0
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = str(sig)
            code, signame = None, name
        else:
            code, signame = os.WEXITSTATUS(status), None
        send({"id": req["id"], "event": "done", "exitCode": code, "signal": signame,
              "utime": ru.ru_utime, "stime": ru.ru_stime, "maxrssKb": ru.ru_maxrss})


_cwd = [None]  # the host's current directory, so it is not asked of the kernel per task


def enter_cwd(req):
    """The host moves to the task's directory (posix_spawn has no chdir action, and a forked child
    should not pay for it); every task of a run shares one cwd, so this is one chdir per run."""
    cwd = req.get("cwd") or "."
    if _cwd[0] != cwd:
        os.chdir(cwd)
        _cwd[0] = cwd


def spawn(req):
    """posix_spawnp the task's argv in its own session with its logs as stdout/stderr; None if it cannot start."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, req["stdout"], flags, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, req["stderr"], flags, 0o644),
    ]
    env = dict(os.environ)
    env.update(req.get("env") or {})
    argv = req["argv"]
    try:
        enter_cwd(req)
        exe = req.get("exe")
        # a path resolved once by the runner skips execvp's walk over PATH (one failed execve per
        # PATH entry before the right one, per task)
        run = os.posix_spawn if exe else os.posix_spawnp
        return run(exe or argv[0], argv, env, file_actions=actions, setsid=True,
                   setsigdef=(signal.SIGINT, signal.SIGPIPE, signal.SIGTERM, signal.SIGQUIT))
    except OSError as e:
        try:
            with open(req["stderr"], "a", encoding="utf-8") as f:
                f.write("parallel-run: cannot run %s: %s\n" % (argv[0], e.strerror or e))
            open(req["stdout"], "w").close()
        except OSError:
            pass
        return None


_code = [None]  # the warm script, compiled once


def compile_script(script):
    """Compile the script once in the host, as runpy would (io.open_code + compile). runpy.run_path in
    each child costs ~14 ms of imports and file reading per task on a small VM; exec of this code
    object costs nothing. A script that does not compile is left to runpy, which reports it as Python would."""
    try:
        import io

        with io.open_code(script) as f:
            _code[0] = compile(f.read(), script, "exec")
    except Exception:
        _code[0] = None


def run_main(script):
    """What runpy.run_path(script, run_name="__main__") does, with the code object compiled once."""
    code = _code[0]
    if code is None:
        import runpy

        runpy.run_path(script, run_name="__main__")
        return
    import builtins
    import types

    mod = types.ModuleType("__main__")
    mod.__dict__.update(__file__=script, __cached__=None, __doc__=None, __loader__=None,
                        __package__="", __spec__=None, __builtins__=builtins)
    sys.modules["__main__"] = mod
    exec(code, mod.__dict__)


def child(req, script, proto_in, proto_out):
    try:
        os.setsid()
        try:
            proto_in.close()
            proto_out.close()
        except Exception:
            pass
        out = os.open(req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        for s in (signal.SIGPIPE, signal.SIGTERM, signal.SIGQUIT):
            signal.signal(s, signal.SIG_DFL)
        argv = req["argv"]
        if script is None:
            try:
                exe = req.get("exe")
                os.execv(exe, argv) if exe else os.execvp(argv[0], argv)
            except OSError as e:
                os.write(2, ("parallel-run: cannot run %s: %s\n" % (argv[0], e.strerror)).encode())
                os._exit(127)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = [script] + list(argv)
        code = 0
        try:
            run_main(script)
        except SystemExit as e:
            c = e.code
            if c is None:
                code = 0
            elif isinstance(c, int):
                code = c & 0xFF
            else:
                sys.stderr.write(str(c) + "\n")
                code = 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        # what a real interpreter does at exit: join non-daemon threads, run atexit handlers
        try:
            threading = sys.modules.get("threading")
            if threading is not None and threading.active_count() > 1:
                threading._shutdown()
        except BaseException:
            pass
        try:
            import atexit

            atexit._run_exitfuncs()
        except BaseException:
            pass
        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(code)
    except BaseException as e:  # setup failed: say so in the task's stderr if we can
        try:
            os.write(2, ("parallel-run warm host: %r\n" % (e,)).encode())
        except Exception:
            pass
        os._exit(70)


if __name__ == "__main__":
    main()
