#!/usr/bin/env python3
"""Parallel Run's Python source analyzer: the command line over the ``pr_analysis`` package beside it
(see its docstring for what the analysis reports).

Modes:
  analyze_source.py --serve            one JSON request per stdin line, one JSON response per line
  analyze_source.py [--cores N] FILE.. one-shot batch: prints {"files": {FILE: result}}
  analyze_source.py --stdin            one-shot on the source read from stdin
"""
import json
import os
import sys

# the package beside this file (python -I leaves the script's folder off sys.path)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pr_analysis import PROTOCOL_VERSION, analyze  # noqa: E402


def serve():
    """Line protocol: {"id", "method": "analyze"|"ping", "source", "options"} -> {"id", "result"|"error"}."""
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            method = req.get("method", "analyze")
            if method == "ping":
                out = {"id": rid, "result": {"protocol": PROTOCOL_VERSION, "python": sys.version.split()[0]}}
            elif method == "analyze":
                out = {"id": rid, "result": analyze(req["source"], req.get("options"))}
            else:
                out = {"id": rid, "error": "unknown method %r" % method}
        except Exception as e:  # keep serving: one bad request must not kill the analyzer
            out = {"id": rid, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def main(argv):
    for stream in (sys.stdin, sys.stdout):
        try:
            stream.reconfigure(encoding="utf-8")
        except AttributeError:
            pass
    if "--serve" in argv:
        serve()
        return 0
    options = {"cores": 1}
    files, i = [], 0
    while i < len(argv):
        if argv[i] == "--cores":
            options["cores"] = int(argv[i + 1])
            i += 2
            continue
        files.append(argv[i])
        i += 1
    if "--stdin" in files:
        print(json.dumps(analyze(sys.stdin.read(), options), indent=1))
        return 0
    if not files:
        sys.stderr.write("usage: analyze_source.py --serve | [--cores N] FILE... | --stdin\n")
        return 2
    out = {}
    for f in files:
        with open(f, encoding="utf-8") as fh:
            out[f] = analyze(fh.read(), options)
    print(json.dumps({"files": out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
