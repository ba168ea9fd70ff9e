#!/usr/bin/env python3
"""Runs a notebook for one input in a Jupyter kernel and saves the executed copy (Parallel Run).

  run_notebook.py FILE NOTEBOOK FILE_VAR OUTPUTS_DIR

The input is assigned in a cell injected right after the cell tagged "parameters" (papermill's
convention; the injected cell is tagged "injected-parameters"), the notebook runs top to bottom in a
kernel of this interpreter (nbclient + ipykernel), and the executed copy, with its outputs, goes to
OUTPUTS_DIR/<the input's path, relative to the notebook's folder, extension dropped>.ipynb (see
copy_path: inputs of the same name in different folders keep their own copies), also when a cell fails (the error is in the copy and on stderr, and
the exit status is 1). The cell outputs are echoed to stdout/stderr, so the task logs hold them too.
"""
import os
import sys


def copy_path(path, notebook, outputs):
    """Where the executed copy for input `path` goes: the input's path relative to the notebook's folder
    (else to the working folder, else its absolute path), mirrored under `outputs`, with .ipynb for its
    extension: data/a/x.csv -> OUTPUTS/data/a/x.ipynb, so a/x.csv and b/x.csv never share a copy."""
    absolute = os.path.abspath(path)
    for base in (os.path.dirname(os.path.abspath(notebook)), os.getcwd()):
        rel = os.path.relpath(absolute, base)
        if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            break
    else:
        rel = absolute.lstrip(os.sep)
    stem = os.path.splitext(rel)[0]
    return os.path.join(outputs, (stem if os.path.basename(stem) else os.path.join(stem, "input")) + ".ipynb")


def main(argv):
    if len(argv) != 5:
        sys.stderr.write("usage: run_notebook.py FILE NOTEBOOK FILE_VAR OUTPUTS_DIR\n")
        return 2
    _, path, notebook, file_var, outputs = argv
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as e:
        sys.stderr.write("parallel-run: saving executed notebooks needs nbformat, nbclient and ipykernel (%s). "
                         "Debian: sudo apt install python3-nbformat python3-nbclient python3-ipykernel\n" % e)
        return 2
    nb = nbformat.read(notebook, as_version=4)
    index = next((i for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if index is None:
        sys.stderr.write("parallel-run: %s has no cell tagged \"parameters\"\n" % notebook)
        return 2
    injected = nbformat.v4.new_code_cell("# Parameters injected by Parallel Run\n%s = %r" % (file_var, path))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, injected)
    folder = os.path.dirname(os.path.abspath(notebook))
    client = NotebookClient(nb, timeout=None, kernel_name="python3", resources={"metadata": {"path": folder}})
    status = 0
    try:
        client.execute()
    except CellExecutionError as e:
        sys.stderr.write("%s\n" % e)
        status = 1
    finally:
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    (sys.stderr if out.get("name") == "stderr" else sys.stdout).write(out.get("text", ""))
        target = copy_path(path, notebook, outputs)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = "%s.%d.tmp" % (target, os.getpid())
        nbformat.write(nb, tmp)
        os.replace(tmp, target)
        sys.stdout.write("executed notebook: %s\n" % target)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
