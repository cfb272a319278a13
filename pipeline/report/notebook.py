"""The analyst notebook: build it from the template, execute it in the run folder, export it.

The template is a jupytext percent script (``reports/analyst_notebook.py``), kept in git
without outputs. It is executed with nbclient on the ``python3`` kernel of the environment
pulsecheck runs in (ipykernel installs its kernel spec inside the environment, so nothing is
registered globally). Everything that would differ between two runs is fixed: cell ids,
no execution timings, no remote MathJax or require.js in the HTML.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat

from pipeline.errors import PulsecheckError
from pipeline.resources import data_root

#: The analyst notebook template, shipped with pulsecheck (pipeline.resources).
TEMPLATE = data_root() / "reports" / "analyst_notebook.py"
#: The trends notebook template, executed in a trends folder.
TRENDS_TEMPLATE = TEMPLATE.parent / "trends_notebook.py"
#: Seconds a single cell may run before the notebook is declared stuck.
_CELL_TIMEOUT = 300


def build_notebook(template: Path = TEMPLATE) -> nbformat.NotebookNode:
    """The template as a notebook with stable cell ids and no outputs."""
    import jupytext

    notebook = jupytext.read(str(template), fmt="py:percent")
    for index, cell in enumerate(notebook.cells):
        # Random ids (nbformat's default) would change the file on every run.
        cell["id"] = f"cell-{index:02d}"
        cell.get("metadata", {}).pop("lines_to_next_cell", None)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                       "name": "python3"}
    return notebook


def execute_notebook(notebook: nbformat.NotebookNode, folder: Path,
                     template: Path = TEMPLATE) -> nbformat.NotebookNode:
    """Run every cell with ``folder`` as the working directory; errors become RENDER_002."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    # The kernel runs on this interpreter, so it sees the same pulsecheck and packages.
    manager = KernelManager(kernel_name="python3")
    client = NotebookClient(notebook, km=manager, timeout=_CELL_TIMEOUT,
                            record_timing=False, allow_errors=False, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(folder)}})
    try:
        # The kernel's own log (e.g. a transport notice) is not the user's business; cell
        # errors still arrive through the kernel's messages and stop the run.
        client.execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as error:
        raise PulsecheckError("RENDER_002", name=template.name,
                              reason=str(error).strip().splitlines()[-1]) from error
    return notebook


def notebook_html(notebook: nbformat.NotebookNode) -> str:
    """Self-contained HTML of an executed notebook (no remote scripts or fonts)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True, mathjax_url="",
                            require_js_url="", jquery_url="", widget_renderer_url="",
                            mermaid_js_url="", mermaid_layout_elk_js_url="",
                            jupyter_widgets_base_url="")
    body, _ = exporter.from_notebook_node(notebook)
    return body


def write_analyst_notebook(folder: Path, out: Path | None = None) -> list[str]:
    """Execute the analyst notebook in a run folder; write ``analyst.ipynb`` and
    ``analyst.html`` into ``out`` (default: the run folder)."""
    return write_notebook(folder, TEMPLATE, "analyst", out)


def write_notebook(folder: Path, template: Path, stem: str,
                   out: Path | None = None) -> list[str]:
    """Execute ``template`` for the run folder ``folder`` and write ``<stem>.ipynb`` and
    ``<stem>.html`` into ``out`` (default ``folder``).

    The notebook is executed in ``out``, where it is written: it finds its run folder from
    there, as it does when someone opens it later, so the executed copy proves that it runs
    from the run folder alone (wherever the folder is copied, with the installed package).
    """
    folder = Path(folder)
    out = Path(out) if out is not None else folder
    notebook = execute_notebook(build_notebook(template), out, template)
    (out / f"{stem}.ipynb").write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    (out / f"{stem}.html").write_text(notebook_html(notebook), encoding="utf-8")
    return [f"{stem}.ipynb", f"{stem}.html"]
