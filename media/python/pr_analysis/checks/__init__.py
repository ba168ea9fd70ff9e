"""The diagnostics, one module each; every check records its findings with `index.diag(...)`."""
from . import async_results, blas_import, notebook_functions, unclosed, unguarded, unpicklable

# in the order they run (the result is sorted by position afterwards)
CHECKS = (
    unguarded.check_unguarded,          # PR001
    unclosed.check_unclosed,            # PR002
    async_results.check_async_results,  # PR003
    unpicklable.check_unpicklable,      # PR004
    blas_import.check_blas_import,      # PR005
    notebook_functions.check_notebook_functions,  # PR006 (notebooks only)
)
