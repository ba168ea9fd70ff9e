"""Parallel Run exec host: warm_host.py in exec mode (see its docstring), imported as a module rather
than run as a script, so Python reads its compiled code from __pycache__ instead of compiling 1,000
lines at every host's start (where bytecode may be written: PYTHONDONTWRITEBYTECODE and a read-only
install only cost that time)."""
import warm_host

warm_host.main()
