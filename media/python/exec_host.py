"""Parallel Run exec host: warm_host.py in exec mode (see its docstring), imported as a module rather
than run as a script, so Python reads its compiled code from __pycache__ instead of compiling 1,000
lines at every host's start (where the install is read-only, each start still compiles it)."""
import sys

# The host's own code is compiled into media/python/__pycache__ even where PYTHONDONTWRITEBYTECODE is
# set (Docker images often set it, for the user's code): the tasks are processes of their own, and
# keep the setting.
_dont_write = sys.dont_write_bytecode
sys.dont_write_bytecode = False
import warm_host  # noqa: E402

sys.dont_write_bytecode = _dont_write
warm_host.main()
