"""The tutorials as Jupyter notebooks, stored with their outputs, and the code that runs them.

``python -m notebooks`` executes every notebook here from a fresh kernel and writes it
back with its outputs (run it after changing the library, so the stored outputs are what
the code prints); ``python -m notebooks --check`` executes them without writing and exits
with status 1 if one fails.  The test suite runs `execute` on each notebook.

Running needs nbclient, nbformat and ipykernel (in the ``[dev]`` extra); they are imported
only when a notebook is run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["FOLDER", "ROOT", "NOTEBOOKS", "execute", "store", "missing_tools"]

#: this folder, and the repository root the kernel runs in (so it imports this checkout)
FOLDER = Path(__file__).resolve().parent
ROOT = FOLDER.parent
#: the notebooks, in reading order
NOTEBOOKS: tuple[Path, ...] = tuple(sorted(FOLDER.glob("[0-9][0-9]_*.ipynb")))
#: seconds any one cell may run
CELL_TIMEOUT = 300


def missing_tools() -> list[str]:
    """The packages running a notebook needs that are not installed (empty if none)."""
    import importlib.util

    return [name for name in ("nbclient", "nbformat", "ipykernel")
            if importlib.util.find_spec(name) is None]


def execute(path: str | os.PathLike[str], timeout: int = CELL_TIMEOUT) -> Any:
    """Run the notebook at `path` in a fresh Python kernel; returns the executed notebook.

    The kernel starts in the repository root with it first on ``PYTHONPATH``, so it
    imports this checkout's `autograd`, `mlp` and `viz`.  A cell that raises makes this
    raise ``nbclient.exceptions.CellExecutionError``, which names the cell and the error.
    """
    import nbclient
    import nbformat
    from jupyter_client.manager import AsyncKernelManager

    notebook = nbformat.read(path, as_version=4)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), saved) if p)
    try:
        with tempfile.TemporaryDirectory(prefix="notebook-kernel-") as sockets:

            class LocalKernelManager(AsyncKernelManager):
                """Talks to the kernel through sockets in a private temporary folder
                (not an unencrypted TCP port, not files in the working directory)."""

                def __init__(self, **kwargs: Any) -> None:
                    super().__init__(transport="ipc", ip=os.path.join(sockets, "kernel"),
                                     **kwargs)

            client = nbclient.NotebookClient(
                notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                kernel_manager_class=LocalKernelManager,
                resources={"metadata": {"path": str(ROOT)}},
            )
            client.execute()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    return notebook


def store(notebook: Any, path: str | os.PathLike[str]) -> Path:
    """Write an executed notebook back to `path` (atomically), without kernel-specific
    metadata that would change from machine to machine."""
    import nbformat

    from autograd.files import atomic_write

    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                       "name": "python3"}
    language = notebook.metadata.get("language_info", {})
    notebook.metadata["language_info"] = {"name": language.get("name", "python")}
    return atomic_write(path, nbformat.writes(notebook) + "\n")
