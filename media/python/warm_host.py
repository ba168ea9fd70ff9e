"""Parallel Run worker host: one long-lived Python per pool worker.

Modes (argv[1]):
  exec  -- fork + exec each task's argv (cold mode, templates): the host only measures the child with
           os.wait4 (exit status, user/system CPU, peak RSS), which Node cannot do for its children.
  warm  -- argv[2] is the script. Its top-level imports run ONCE here; then for each file a forked child
           runs the script as __main__ (compiled once in the host; what runpy.run_path does) with sys.argv = [script, file, *args].

Protocol (binary-safe, and cheap to read: see main()). A request on stdin is its fields, each preceded by
"=" and followed by NUL, then one more NUL (so it ends with b"\0\0", which no field can hold):
  flags, cwd, stdout-log, stderr-log, exe, k, [env key, value] * k, argv...
(flags: "p" = send the child's pid when it starts, then optionally "J" + a completion token; exe:
argv[0] resolved by the runner, or empty;
argv: warm = [file, *args], exec = the full command). Replies on stdout, one line each:
  {"ready": true, "pid": host_pid, "imports": [...], "failedImports": [...], "fork": "raw"|"os"|"none"}  once
  S <pid>                                                   the child started (only when flags has "p")
  D <pid> <wait status> <user s> <system s> <peak RSS KiB> <start ms> <end ms>
                                                            it ended (status as waitpid gives it; -1 with
                                                            pid 0 when nothing started, RSS -1 when unknown;
                                                            start/end: epoch ms around the fork and the wait)
Tasks run one at a time, in the order of their requests, so replies need no id. The runner may queue
several requests at once (short tasks go in batches): the host runs the next as soon as one ends. The child is a session leader (its pid is its process
group id) so the runner can kill its whole tree.
SIGUSR1 = stop (cancel/halt): the running task's group gets SIGTERM, then SIGKILL after the grace (argv:
--grace-ms), and every later request is answered "not started" (D 0 15 ..., killed by SIGTERM) without forking.
The host dies with its parent (PR_SET_PDEATHSIG) and exits on stdin EOF.
--done FILE: when a task with a completion token exits 0, the host appends "<token> <its D line>" to FILE
(one write, before the reply, which may wait for the next ones of a batch): a runner killed before it
journals that task finds it there on resume and does not run it again.
"""
import _signal
import _thread
import atexit
import time as _time
import os
import _signal as signal  # not the signal module: it wraps these in enums (enum costs ~6 ms at start)
import sys


_current = [0]  # pid (= process group) of the task running now, 0 between tasks


_parent = [0]  # the runner's pid when this host started


def on_parent_death(signum, frame):
    """SIGTERM: the runner thread that started us ended. The running task's whole tree goes at once.
    If the runner itself died (a kill ends all its threads within milliseconds, and we are then
    re-parented), every process of the run goes too: everything below this host (orphans come back to
    it, a child subreaper), every task cgroup of the run, and every process carrying the run's marker
    (see kill_marked): hosts are the runner's watchdog. A runner that lost only that thread keeps its
    other tasks."""
    leave_task_cgroup()
    pid = _current[0]
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    if _task_cg[1]:
        kill_cgroup(_task_cg[1])
    marker = os.environ.get(SESSION_MARKER_VAR)
    end = _time.monotonic() + 2.0
    while os.getppid() == _parent[0] and _time.monotonic() < end:
        _time.sleep(0.02)
    if os.getppid() != _parent[0]:
        needle = ("%s=%s\0" % (SESSION_MARKER_VAR, marker)).encode() if marker else None
        for attempt in range(6):  # a process may fork while we kill
            hits = len(kill_all(tree_pids(), signal.SIGKILL))
            if _cg["run"]:
                hits += kill_cgroup(_cg["run"])
            if needle:
                hits += kill_marked(needle)
            reap_orphans()
            if hits == 0 and attempt > 0:
                break
            _time.sleep(0.05)
        if _cg["run"]:
            remove_cgroups(_cg["run"])
    os._exit(1)


SESSION_MARKER_VAR = "PARALLEL_RUN_SESSION"  # every process of a run carries it (core/run/watchdog.ts)


def read_cmdline(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return None


def read_ppid(pid):
    try:
        with open("/proc/%s/stat" % pid, "rb") as f:
            s = f.read()
        return int(s[s.rindex(b")") + 2:].split(b" ", 2)[1])
    except (OSError, ValueError):
        return 0


def kill_marked(needle):
    """SIGKILLs every process whose environment holds the entry `needle` (b"NAME=VALUE\0"); how many.
    The run's other hosts are spared: they carry the marker too and run this same scan at the same
    moment, and hosts that killed each other mid-scan left the processes neither had reached yet. A
    host is a process with our command line whose parent has another one: a warm task forked from a
    host, and whatever it forks without exec, has our command line too, but a host (or a process below
    one) for a parent, so it is not spared. Each host exits after its scan."""
    hits = 0
    me = os.getpid()
    mine = read_cmdline("self")
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                env = f.read()
        except OSError:
            continue  # gone, or another user's
        i = env.find(needle)
        if i < 0 or (i > 0 and env[i - 1] != 0):
            continue
        if mine and read_cmdline(name) == mine and read_cmdline(read_ppid(name)) != mine:
            continue  # a host of this run (see above)
        try:
            os.kill(int(name), signal.SIGKILL)
            hits += 1
        except OSError:
            pass
    return hits


# ---- A task's whole tree ------------------------------------------------------------------------
# Everything a task starts must end with it when it is stopped, however it left its process group:
# - the host is a child subreaper (become_subreaper): a process whose parent died is re-parented to
#   the nearest subreaper above it, so a task's double-forked daemons come back to the host, which
#   can then find them (tree_pids) and must reap them (reap_orphans);
# - with --cgroup DIR (Linux, where the runner could make the run a cgroup: core/run/taskCgroup.ts),
#   each task runs in DIR/<its PARALLEL_SEQ>, which no process can leave on its own (not even with
#   `env -i`, which drops the run's marker): a stop kills that cgroup.
# Every kill path (stop: end_tree; a dead runner: on_parent_death) uses these.

_cg = {"run": None, "home": -1}  # the run's cgroup dir (bytes) and an fd on our own cgroup's process list
_task_cg = [-1, b""]  # the running task's cgroup: an fd on its process list, its directory
_SEQ_KEY = b"\0=PARALLEL_SEQ\0="  # the task's PARALLEL_SEQ in a request names its cgroup


def become_subreaper(argv):
    """Linux: PR_SET_CHILD_SUBREAPER (orphans of our tasks come back to us); --cgroup DIR: tasks go
    into DIR's sub-cgroups (we keep an fd on our own cgroup to return to: the exec host joins a task's
    cgroup for the instant of its spawn, see spawn())."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass
    if "--cgroup" in argv:
        run = os.fsencode(argv[argv.index("--cgroup") + 1])
        try:
            _cg["home"] = os.open(os.path.join(os.path.dirname(run), b"cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
            _cg["run"] = run
        except OSError:
            pass


def open_task_cgroup(req):
    """Makes the cgroup of the task `req` (named by its PARALLEL_SEQ) and opens its process list: the
    child (or, for an exec host, the host for the instant of the spawn) joins it by writing "0"."""
    i = req.find(_SEQ_KEY)
    if i < 0:
        return
    i += len(_SEQ_KEY)
    d = _cg["run"] + b"/" + req[i:req.index(b"\0", i)]
    try:
        os.mkdir(d)
    except FileExistsError:
        pass
    except OSError:
        return
    try:
        _task_cg[0] = os.open(d + b"/cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
        _task_cg[1] = d
    except OSError:
        pass


def close_task_cgroup():
    """The task ended: its cgroup goes, unless processes it left are still in it (the run's end takes care)."""
    fd = _task_cg[0]
    d = _task_cg[1]
    _task_cg[0] = -1
    _task_cg[1] = b""
    if fd >= 0:
        os.close(fd)
    if d:
        try:
            os.rmdir(d)
        except OSError:
            pass


def join_task_cgroup():
    """In a forked task, before anything of it runs: into its cgroup (see open_task_cgroup)."""
    fd = _task_cg[0]
    if fd >= 0:
        try:
            os.write(fd, b"0")
        except OSError:
            pass
        os.close(fd)
        _task_cg[0] = -1


def leave_task_cgroup():
    """Back to our own cgroup (an exec host stopped between joining a task's cgroup and leaving it)."""
    if _cg["home"] >= 0:
        try:
            os.write(_cg["home"], b"0")
        except OSError:
            pass


def cgroup_pids(d):
    """Pids in the cgroup `d` and its sub-cgroups."""
    out = set()
    try:
        with open(d + b"/cgroup.procs", "rb") as f:
            out.update(int(x) for x in f.read().split())
        subs = [e.path for e in os.scandir(d) if e.is_dir()]
    except (OSError, ValueError):
        return out
    for s in subs:
        out |= cgroup_pids(s)
    return out


def kill_cgroup(d):
    """SIGKILLs everything in the cgroup `d` (cgroup.kill where the kernel has it); how many it hit."""
    pids = cgroup_pids(d)
    pids.discard(os.getpid())
    if not pids:
        return 0
    try:
        fd = os.open(d + b"/cgroup.kill", os.O_WRONLY)
        try:
            os.write(fd, b"1")
            return len(pids)
        finally:
            os.close(fd)
    except OSError:
        return len(kill_all(pids, signal.SIGKILL))  # cgroup v1, or a kernel before 5.14


def remove_cgroups(d):
    """Removes the cgroup `d` and its sub-cgroups, deepest first (each once its processes are reaped)."""
    for _ in range(25):
        try:
            subs = [e.path for e in os.scandir(d) if e.is_dir()]
        except OSError:
            return
        for s in subs:
            try:
                os.rmdir(s)
            except OSError:
                pass
        try:
            os.rmdir(d)
            return
        except FileNotFoundError:
            return
        except OSError:
            _time.sleep(0.02)


def proc_table():
    """{pid: (parent pid, state)} of every process we can see."""
    out = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                s = f.read()
            f2 = s[s.rindex(b")") + 2:].split(b" ", 2)
            out[int(name)] = (int(f2[1]), f2[0])
        except (OSError, ValueError):
            continue
    return out


def tree_pids():
    """Live (not zombie) processes below this host: what its tasks started, orphans included."""
    table = proc_table()
    children = {}
    for pid, (ppid, state) in table.items():
        children.setdefault(ppid, []).append(pid)
    out = set()
    todo = [os.getpid()]
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in out:
                out.add(c)
                todo.append(c)
    return {p for p in out if table[p][1] != b"Z"}


def kill_all(pids, sig):
    hit = []
    for p in pids:
        try:
            os.kill(p, sig)
            hit.append(p)
        except OSError:
            pass
    return hit


def reap_orphans():
    """Reaps ended orphans (re-parented to us as their subreaper); the task itself is reaped by wait4."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def end_tree(grace):
    """A stop (cancel, halt): every process below this host and in the stopped task's cgroup gets
    SIGTERM, and SIGKILL once `grace` seconds have passed; returns when none is left."""
    d = _task_cg[1]

    def left():
        pids = tree_pids()
        if d:
            pids |= cgroup_pids(d)
        pids.discard(os.getpid())
        return pids

    pids = left()
    if not pids:
        return
    kill_all(pids, signal.SIGTERM)
    end = _time.monotonic() + grace
    while _time.monotonic() < end:
        _time.sleep(0.02)
        reap_orphans()
        if not left():
            return
    for _ in range(50):
        pids = left()
        if not pids:
            return
        kill_all(pids, signal.SIGKILL)
        if d:
            kill_cgroup(d)
        _time.sleep(0.02)
        reap_orphans()


_stop = {"stopped": False, "group": 0, "grace": 2.0}


def on_stop(signum, frame):
    """SIGUSR1 from the runner (cancel, or halt at the first failure): what runs gets SIGTERM and, after the
    grace, SIGKILL (its whole group); nothing starts any more."""
    _stop["stopped"] = True
    pid = _current[0]
    if pid:
        kill_group(pid, signal.SIGTERM)


def kill_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except OSError:
        return
    if sig == signal.SIGTERM:
        _stop["group"] = pid
        # installed only now: no child forked before a stop has a SIGALRM handler to reset
        signal.signal(signal.SIGALRM, on_grace_over)
        signal.setitimer(signal.ITIMER_REAL, _stop["grace"])


def on_grace_over(signum, frame):
    pid = _stop["group"]
    _stop["group"] = 0
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def set_parent_death_signal():
    """Linux: SIGTERM us when the thread that spawned us dies; the handler kills the running task's
    group, and every process of the run if the runner died, so a killed runner leaves neither a host nor
    a task (the runner then needs no message per task to know what to kill, nor a watchdog process)."""
    _parent[0] = os.getppid()
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
    import ast  # warm hosts only: an exec host starts without it (and json), ~20 ms sooner

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
    import ast

    done, failed = [], []
    for node in top_level_imports(script):
        if isinstance(node, ast.Import):
            wanted = [(a.name, ()) for a in node.names]
        else:
            # `from scipy import stats`: the names may be submodules, which importing the package does
            # not import (scipy.stats alone takes ~0.5 s): the fromlist imports them as the statement does
            wanted = [(node.module, tuple(a.name for a in node.names if a.name != "*"))]
        for name, fromlist in wanted:
            label = "%s (%s)" % (name, ", ".join(fromlist)) if fromlist else name
            if not name or label in done or label in failed:
                continue
            try:
                __import__(name, fromlist=fromlist)
                done.append(label)
            except BaseException:  # noqa: the child will meet the same error and report it properly
                failed.append(label)
    return done, failed


# ---- The low-level tricks, behind one switch ---------------------------------------------------------
# PARALLEL_RUN_WARM_TRICKS turns the warm host's low-level tricks on or off: "all", "none", or a comma
# list of their names:
#   fork   libc's fork instead of os.fork, skipping CPython's after-fork work (choose_fork)
#   pools  fill the small-object allocator's free blocks before the first fork (fill_pools)
#   code   write each code mapping's first byte back in place through /proc/self/mem (share_code_mappings)
# Unset: DEFAULT_TRICKS. What each saves and what it risks is measured and weighed in CONTRIBUTING.md
# (bench/warmTricks.js measures each on and off); names it does not know are ignored.
TRICKS = ("fork", "pools", "code")
DEFAULT_TRICKS = ("fork", "pools", "code")


def tricks_on():
    v = os.environ.get("PARALLEL_RUN_WARM_TRICKS")
    if v is None:
        return frozenset(DEFAULT_TRICKS)
    names = {x.strip() for x in v.lower().split(",")}
    if "all" in names:
        return frozenset(TRICKS)
    return frozenset(names & set(TRICKS))


_tricks = tricks_on()


def choose_fork():
    """The fork a warm task uses. os.fork runs CPython's after-fork work in every child: re-creating the
    GIL and the runtime's locks, and the Python at-fork hooks (threading's _after_fork, random's reseed,
    logging's lock reset). On a VM where each page a child touches costs a copy-on-write fault at tens of
    microseconds, that work alone touched ~180 pages and cost ~5.5 ms per task (measured: child of a
    numpy-loaded host 238 faults with os.fork, 47 with a plain fork). In THIS host that work has nothing
    to repair: it runs one thread (checked before every fork), holds the GIL across the call (ctypes.PyDLL
    keeps it), takes no lock and imports nothing while forking; random's reseed is done here, in the
    parent, before each fork (see reseed()). Hooks other modules registered with os.register_at_fork are
    recorded (see record_at_fork_hooks) and run in the child. Anything unusual (not CPython 3.8-3.13 on
    Linux with the GIL, no libc fork, the "fork" trick off) uses os.fork."""
    if not hasattr(os, "fork"):
        return None, "none"
    ok = (sys.platform.startswith("linux") and sys.implementation.name == "cpython"
          and (3, 8) <= sys.version_info[:2] <= (3, 13) and getattr(sys, "_is_gil_enabled", lambda: True)()
          and "fork" in _tricks)
    if ok:
        try:
            import ctypes

            raw = ctypes.PyDLL(None).fork
            raw.restype = ctypes.c_int
            raw.argtypes = []
            return raw, "raw"
        except Exception:
            pass
    return os.fork, "os"


def warm_text_io(script):
    """Read a text file and print to one once, as nearly every task does (its input file, its output):
    what Python builds lazily on first use on that path (codec and method-cache entries, I/O object
    state) is then built here, shared by every child, instead of being built, page by page at a
    copy-on-write fault each, in every child (~12 fewer faults per child measured). Nothing is written."""
    try:
        with open(script, encoding=None) as f:
            text = f.read(4096)
        with open(os.devnull, "w") as f:
            print(int("3"), float("1.5"), text[:16].split(), file=f)
    except Exception:
        pass


_fillers = []  # see fill_pools: kept for the host's life


def free_small_blocks():
    """Free blocks per size class in CPython's small-object allocator (pymalloc), from
    sys._debugmallocstats(), which prints its table on the C stderr: it is caught in a memfd. {} where
    that is not available (another Python, PYTHONMALLOC=malloc, no memfd)."""
    stats = getattr(sys, "_debugmallocstats", None)
    memfd = getattr(os, "memfd_create", None)
    if stats is None or memfd is None:
        return {}
    try:
        fd = memfd("parallel-run-mallocstats")
    except OSError:
        return {}
    saved = os.dup(2)
    try:
        os.dup2(fd, 2)
        try:
            stats()
        finally:
            os.dup2(saved, 2)
        out = b""
        pos = 0
        while True:
            chunk = os.pread(fd, 65536, pos)
            if not chunk:
                break
            out += chunk
            pos += len(chunk)
    finally:
        os.close(saved)
        os.close(fd)
    free = {}
    for line in out.split(b"\n"):
        f = line.split()
        # "class   size   num pools   blocks in use  avail blocks"
        if len(f) == 5 and all(x.isdigit() for x in f):
            free[int(f[1])] = int(f[4])
    return free


def fill_pools():
    """Fill every free block of the allocator's pools with an object kept for good, so that what the loop
    and each child allocate from then on comes from fresh pools, packed onto few pages, instead of from
    the holes that the imports left in hundreds of pools: every page such an allocation writes costs a
    copy-on-write fault after each fork (~10 fewer faults in the host per task, and ~10 in each child, were
    measured). Costs a few hundred KiB. The "pools" trick (see TRICKS). Returns the objects made."""
    if "pools" not in _tricks:
        return 0
    try:
        for _ in range(2):  # making the fillers' list allocates too
            for size, n in free_small_blocks().items():
                if size <= 16:
                    _fillers.extend([object() for _ in range(n)])
                elif size <= 32:
                    _fillers.extend([float(i) + 0.5 for i in range(n)])  # 24-byte objects
                else:
                    _fillers.extend([bytes(size - 33) for _ in range(n)])  # 33 + length bytes
    except Exception:
        pass
    return len(_fillers)


def share_code_mappings():
    """Linux: at fork, the kernel copies the page-table entries only of mappings that hold private
    (anonymous) pages; the interpreter's and the extension modules' code and read-only data are plain
    file mappings, so every child faulted their pages in again, a fault per 64 KiB touched (~100 faults per
    child running a small numpy script, at ~20-60 us each on a small VM). Writing one byte back in place,
    through /proc/self/mem, gives each such mapping one private page (4 KiB, the same bytes): fork then
    copies its entries, and the child starts with the code the host has already mapped. Nothing changes
    where the kernel refuses the write; mappings made later (modules a task imports) are left as they are.
    The "code" trick (see TRICKS): off where a security monitor flags writes to /proc/self/mem."""
    if not sys.platform.startswith("linux") or "code" not in _tricks:
        return
    try:
        fd = os.open("/proc/self/mem", os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        with open("/proc/self/maps", "rb") as f:
            maps = f.read().split(b"\n")
        done = 0
        for line in maps:
            fields = line.split(None, 5)
            # private, readable, not writable, backed by a file (writable ones have private pages once
            # written; unreadable ones are guard gaps nothing touches)
            perms = fields[1] if len(fields) >= 6 else b""
            if not perms.startswith(b"r") or perms[1:2] == b"w" or perms[3:4] != b"p" or not fields[5].startswith(b"/"):
                continue
            start = int(fields[0].split(b"-")[0], 16)
            try:
                os.pwrite(fd, os.pread(fd, 1, start), start)
                done += 1
            except OSError:
                if done == 0:
                    return  # refused (a hardened kernel): every other mapping would be refused as well
    except (OSError, ValueError):
        pass
    finally:
        os.close(fd)


_at_fork_child = []  # after_in_child hooks registered by the script's imports (other than the known ones)
# stdlib hooks that only repair state a second thread could have left behind (this host runs one) or
# that reseed() does in the parent instead
_KNOWN_HOOK_MODULES = ("threading", "logging", "concurrent.futures.thread", "random")


def record_at_fork_hooks():
    """Wrap os.register_at_fork so the after_in_child hooks that the pre-imported modules register are known:
    a raw fork runs them itself in the child (os.fork would run them)."""
    orig = getattr(os, "register_at_fork", None)
    if orig is None:
        return

    def register_at_fork(*, before=None, after_in_child=None, after_in_parent=None):
        kw = {k: v for k, v in (("before", before), ("after_in_child", after_in_child), ("after_in_parent", after_in_parent)) if v is not None}
        orig(**kw)
        if after_in_child is not None and getattr(after_in_child, "__module__", None) not in _KNOWN_HOOK_MODULES:
            _at_fork_child.append(after_in_child)

    os.register_at_fork = register_at_fork


def make_reseed():
    """What random's at-fork hook does in each child (a fresh seed from the OS), done by the host right
    before each fork, through the C method bound here once (the Python one, and an import per call,
    touched ten times the pages)."""
    inst = getattr(sys.modules.get("random"), "_inst", None)
    if inst is None:
        return None
    try:
        import _random

        seed = _random.Random.seed
    except Exception:
        return None

    def reseed():
        seed(inst)
        inst.gauss_next = None

    return reseed


def main():
    mode = sys.argv[1]
    script = sys.argv[2] if mode == "warm" else None
    _script[0] = script
    if "--grace-ms" in sys.argv:
        _stop["grace"] = int(sys.argv[sys.argv.index("--grace-ms") + 1]) / 1000.0
    done = open_done(sys.argv)
    set_parent_death_signal()
    become_subreaper(sys.argv)
    record_at_fork_hooks()
    signal.signal(signal.SIGUSR1, on_stop)
    # Our protocol channel lives on private fds: whatever the script or its imports print must never
    # reach it. fd 1 then points at stderr, fd 0 at /dev/null; `err` keeps the host's stderr, which fds
    # 1 and 2 point at again after each task (see main's loop).
    rd = os.dup(0)
    wr = os.dup(1)
    err = os.dup(2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when tasks stop

    imports, failed = [], []
    if script:
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        sys.argv = [script]
        imports, failed = preimport(script)
        compile_script(script)
        prepare_main(script)
    # nothing the imports buffered may be flushed again by every child into its log
    sys.stdout.flush()
    sys.stderr.flush()
    fork, fork_kind = choose_fork() if script else (None, "none")
    thread_count = _thread._count
    if script:
        import json

        ready = {"ready": True, "pid": os.getpid(), "imports": imports, "failedImports": failed, "fork": fork_kind}
        line = json.dumps(ready)
    else:
        line = '{"ready": true, "pid": %d, "imports": [], "failedImports": [], "fork": "none"}' % os.getpid()
    os.write(wr, (line + "\n").encode())
    if script:
        # everything imported so far is shared copy-on-write with every child: keep the collector from
        # touching (and so copying) those pages in each child
        import gc

        warm_text_io(script)
        gc.collect()
        fill_pools()
        gc.freeze()
        if fork_kind != "none":
            share_code_mappings()
    # The loop below is the host's whole per-task work, kept to a few statements on purpose: after each
    # fork every page of the host is write-protected, and each page the host (or the child) then writes
    # costs a fault, ~20 us on a small VM (and faults of the two cores' processes did not overlap there).
    reseed = make_reseed()
    read = os.read
    write = os.write
    wait4 = os.wait4
    dup2 = os.dup2
    current = _current
    stop = _stop
    raw_fork = fork_kind == "raw"
    now = _time.time
    cgroups = _cg["run"] is not None
    _channel[:] = [rd, wr, err] + ([_cg["home"]] if _cg["home"] >= 0 else []) + ([done] if done >= 0 else [])
    buf = b""  # requests read but not run yet (a batch), each ending in b"\0\0"
    # Replies of a batch go out together: while the next request is already here, a reply may wait up
    # to HOLD_S for the ones after it (a write per task woke the runner ~1,000 times a second per slot,
    # and on a small machine those wake-ups took the CPU from the tasks: ~10% of a run of tiny tasks).
    # A task still running when the window closes gets the held replies sent (see send_held_by).
    held = []
    held_at = [0.0]
    can_hold = _pidfd_open is not None

    def reply(line):
        held.append(line)
        t = now()
        if len(held) == 1:
            held_at[0] = t
        if can_hold and b"\0\0" in buf and not stop["stopped"] and t - held_at[0] < HOLD_S:
            return
        write(wr, b"".join(held))
        del held[:]

    def send_held_by(pid):
        """Waits for the task `pid` only as long as the held replies may still wait, then sends them."""
        left = HOLD_S - (now() - held_at[0])
        if left > 0 and task_ended_within(pid, left):
            return  # its reply will join them
        write(wr, b"".join(held))
        del held[:]

    while True:
        end = buf.find(b"\0\0")
        while end < 0:  # (a field starts with "=", so two NULs in a row only end a request)
            more = read(rd, 65536)
            if not more:
                return
            buf += more
            end = buf.find(b"\0\0")
        req = buf[:end + 2]
        buf = buf[end + 2:]
        if stop["stopped"]:
            t = now() * 1000.0
            reply(b"D 0 15 0 0 -1 %.3f %.3f\n" % (t, t))
            continue
        # the completion token: flags are "p"?, then "J" + token (see --done)
        j = 2 if req[1] == 112 else 1
        tok = req[j + 1:req.index(b"\0", j)] if req[j] == 74 and done >= 0 else None
        t0 = now() * 1000.0
        if cgroups:
            open_task_cgroup(req)
        if script is None:
            pid = spawn(req)
        else:
            # Everything a child needs that can be done here is done here, before the fork: after it,
            # each page the child first writes is a copy-on-write fault (~20-60 us on a small VM), while
            # this loop touches the same pages on every task. So the host sets the task's environment and
            # sys.argv, and points its own fds 1 and 2 at the task's logs (the child inherits them as its
            # stdout/stderr); it points them back at its stderr once the child has ended.
            f = req[1:-2].split(b"\0=")
            k = int(f[5])
            set_env(f, 6, 6 + 2 * k)
            if open_logs(f[2], f[3]):
                sys.argv = [script] + [x.decode(_FS_ENCODING, "surrogateescape") for x in f[6 + 2 * k:]]
                if reseed is not None:
                    reseed()
                cwd = f[1]
                if raw_fork and thread_count() == 0:
                    pid = fork()
                    if pid == 0:
                        if _at_fork_child:
                            run_at_fork_hooks()
                        child(cwd)
                else:
                    pid = os.fork()
                    if pid == 0:
                        child(cwd)
            else:
                pid = None
        if pid is None or pid < 0:
            if script is not None:
                dup2(err, 1)
                dup2(err, 2)
            if cgroups:
                close_task_cgroup()
            t = now() * 1000.0
            reply(b"D 0 %d 0 0 -1 %.3f %.3f\n" % ((127 if script is None else 70) << 8, t0, t))
            continue
        current[0] = pid
        if stop["stopped"]:  # the stop came between the check above and now
            kill_group(pid, signal.SIGTERM)
        if req[1] == 112:  # flags "p"
            write(wr, b"".join(held) + b"S %d\n" % pid)
            del held[:]
        elif held:
            send_held_by(pid)
        while True:
            try:
                _, status, ru = wait4(pid, 0)
                break
            except InterruptedError:
                continue
        current[0] = 0
        if script is not None:
            dup2(err, 1)
            dup2(err, 2)
        # orphans of the task that ended meanwhile (we are their subreaper); on a stop, the rest of
        # its tree goes before its reply does (see end_tree)
        reap_orphans()
        if stop["stopped"]:
            end_tree(stop["grace"])
        if cgroups:
            close_task_cgroup()
        line = b"D %d %d %.6f %.6f %d %.3f %.3f\n" % (pid, status, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, t0, now() * 1000.0)
        if tok is not None and status == 0:
            try:
                write(done, tok + b" " + line)
            except OSError:
                pass  # a full disk: the journal's own write says so
        reply(line)


_channel = []  # the host's protocol fds and its own stderr: [rd, wr, err] (+ our cgroup, the --done file)


def open_done(argv):
    """--done FILE: the completions file, opened for appending (-1 without one, or when it cannot be)."""
    if "--done" not in argv:
        return -1
    try:
        return os.open(argv[argv.index("--done") + 1], os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        return -1

HOLD_S = 0.02  # how long a reply may wait for the next ones of its batch (see main)
_pidfd_open = getattr(os, "pidfd_open", None)  # Linux 5.3+: a child's end can be waited for with a timeout


def task_ended_within(pid, seconds):
    """True when the child `pid` ends within `seconds` (it is not reaped: wait4 does that)."""
    try:
        fd = _pidfd_open(pid)
    except OSError:
        return False
    try:
        import select

        return bool(select.select([fd], [], [], seconds)[0])
    except OSError:
        return False
    finally:
        os.close(fd)


def run_at_fork_hooks():
    for hook in _at_fork_child:
        try:
            hook()
        except Exception:
            pass


_FS_ENCODING = sys.getfilesystemencoding()
_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_env_now = {}  # the per-task variables as the host's environment has them now
_environ_data = getattr(os.environ, "_data", None)  # os.environ's bytes mapping (POSIX)
if not isinstance(_environ_data, dict) or os.name != "posix":
    _environ_data = None


def set_env(f, lo, hi):
    """The task's variables (PARALLEL_SEQ, PARALLEL_JOBSLOT: fields f[lo:hi], key and value as bytes) go into
    the host's environment before the fork, and only those that changed."""
    for j in range(lo, hi, 2):
        k = f[j]
        v = f[j + 1]
        if _env_now.get(k) == v:
            continue
        if _environ_data is None:
            os.environ[os.fsdecode(k)] = os.fsdecode(v)
        else:
            os.putenv(k, v)  # what os.environ[k] = v does, without its encode calls
            _environ_data[k] = v
        _env_now[k] = v


def open_logs(stdout, stderr):
    """Points fds 1 and 2 at the task's logs (paths as bytes); False when one cannot be opened: the task
    does not start, and the reason goes into the other log if it can."""
    try:
        out = os.open(stdout, _LOG_FLAGS, 0o644)
    except OSError as e:
        log_setup_error(stderr, "cannot open %s: %s" % (os.fsdecode(stdout), e.strerror))
        return False
    try:
        err = os.open(stderr, _LOG_FLAGS, 0o644)
    except OSError as e:
        os.close(out)
        log_setup_error(stdout, "cannot open %s: %s" % (os.fsdecode(stderr), e.strerror))
        return False
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.close(out)
    os.close(err)
    return True


def log_setup_error(path, msg):
    """A task whose logs cannot be opened did not start: say why in the log we can write, if any."""
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write("parallel-run warm host: %s\n" % msg)
    except OSError:
        pass


_cwd = [None]  # the exec host's current directory, so it is not asked of the kernel per task


def enter_cwd(cwd):
    """The exec host moves to the task's directory (posix_spawn has no chdir action); every task of a
    run shares one cwd, so this is one chdir per run."""
    cwd = cwd or b"."
    if _cwd[0] != cwd:
        os.chdir(cwd)
        _cwd[0] = cwd


_spawn_env = [None]  # the host's environment as bytes, copied per task (see spawn)


def spawn(raw):
    """posix_spawnp the task's argv in its own session with its logs as stdout/stderr; None if it cannot start.
    Everything stays bytes, as the request came: no decoding here, and posix_spawn encodes nothing (a
    dict(os.environ) and its encoding for each task took ~25 us, a quarter of the host's own time)."""
    f = raw[1:-2].split(b"\0=")
    k = int(f[5])
    cwd, stdout, stderr, exe, pairs, argv = f[1], f[2], f[3], f[4], f[6:6 + 2 * k], f[6 + 2 * k:]
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, flags, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, stderr, flags, 0o644),
    ]
    base = _spawn_env[0]
    if base is None:
        base = _spawn_env[0] = dict(os.environb)
    env = base.copy()
    for j in range(0, len(pairs), 2):
        env[pairs[j]] = pairs[j + 1]
    if not hasattr(os, "posix_spawn"):
        return fork_exec(cwd, stdout, stderr, exe, env, argv)
    try:
        enter_cwd(cwd)
        # a path resolved once by the runner skips execvp's walk over PATH (one failed execve per
        # PATH entry before the right one, per task)
        run = os.posix_spawn if exe else os.posix_spawnp
        # posix_spawn cannot put the child in a cgroup: the host joins the task's cgroup for the
        # instant of the spawn (the child is born in it) and returns to its own
        cg = _task_cg[0]
        if cg >= 0:
            try:
                os.write(cg, b"0")
            except OSError:
                cg = -1
        try:
            return run(exe or argv[0], argv, env, file_actions=actions, setsid=True,
                       setsigdef=(signal.SIGINT, signal.SIGPIPE, signal.SIGTERM, signal.SIGQUIT))
        finally:
            if cg >= 0:
                leave_task_cgroup()
    except OSError as e:
        try:
            with open(stderr, "a", encoding="utf-8") as f:
                f.write("parallel-run: cannot run %s: %s\n" % (os.fsdecode(argv[0]), e.strerror or e))
            open(stdout, "w").close()
        except OSError:
            pass
        return None


def fork_exec(cwd, stdout, stderr, exe, env, argv):
    """spawn() where os.posix_spawn is missing."""
    enter_cwd(cwd)
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setsid()
        join_task_cgroup()
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        for fd, path, mode in ((0, os.devnull, os.O_RDONLY), (1, stdout, flags), (2, stderr, flags)):
            f = os.open(path, mode, 0o644)
            os.dup2(f, fd)
            os.close(f)
        for s in (signal.SIGINT, signal.SIGPIPE, signal.SIGTERM, signal.SIGQUIT):
            signal.signal(s, signal.SIG_DFL)
        try:
            os.execve(exe, argv, env) if exe else os.execvpe(argv[0], argv, env)
        except OSError as e:
            os.write(2, ("parallel-run: cannot run %s: %s\n" % (os.fsdecode(argv[0]), e.strerror)).encode())
            os._exit(127)
    finally:
        os._exit(70)


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


_main = [None]  # the module the warm script runs in, as runpy would make it


def prepare_main(script):
    """The script's __main__ module, made once in the host and registered in sys.modules, so a child only
    fills its (copied) namespace; the host's own module stays referenced here."""
    if _code[0] is None:
        return
    import builtins
    import types

    mod = types.ModuleType("__main__")
    mod.__dict__.update(__file__=script, __cached__=None, __doc__=None, __loader__=None,
                        __package__="", __spec__=None, __builtins__=builtins)
    _main.append(sys.modules.get("__main__"))
    _main[0] = mod
    sys.modules["__main__"] = mod


def run_main(script):
    """What runpy.run_path(script, run_name="__main__") does, with the code object compiled once."""
    mod = _main[0]
    if mod is None:
        import runpy

        runpy.run_path(script, run_name="__main__")
        return
    exec(_code[0], mod.__dict__)


def child(cwd):
    """The forked task: never returns. Every statement here costs copy-on-write faults (see main()):
    only C-level calls (_signal, not the enum-wrapping signal module), names bound in advance, nothing
    that is not needed; the logs (fds 1 and 2), sys.argv and the environment were set by the host."""
    try:
        os.setsid()
        join_task_cgroup()
        # the host's protocol pipes and stderr (close-on-exec already for programs the script runs)
        for fd in _channel:
            os.close(fd)
        if cwd and cwd != _host_cwd[0]:
            os.chdir(cwd)
        # the host's own handlers go; SIGPIPE stays ignored, as in any Python interpreter
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        _signal.signal(_signal.SIGUSR1, _signal.SIG_DFL)
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        script = _script[0]
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
            if _thread._count() > 0:
                threading = sys.modules.get("threading")
                if threading is not None:
                    threading._shutdown()
        except BaseException:
            pass
        try:
            atexit._run_exitfuncs()
        except BaseException:
            pass
        # then the interpreter clears the modules: the script's globals are released, so a file it left
        # open is flushed and closed by its finalizer (os._exit below would drop its buffer)
        mod = _main[0]
        if mod is not None:
            try:
                mod.__dict__.clear()
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


_host_cwd = [os.fsencode(os.getcwd())]
_script = [None]


if __name__ == "__main__":
    main()
