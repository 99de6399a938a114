"""Turn a keras-io "tutobook" script into a notebook and a web page, and check it."""

import argparse
import ast
import base64
import copy
import hashlib
import os
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # Run as a script.
from fnet_imdb.atomic import write_text  # noqa: E402

HEADER_KEYS = ["Title", "Author", "Date created", "Last modified", "Description"]
HEADER_KEYS.append("Accelerator")
ACCELERATORS = ("GPU", "TPU", "None")
MAX_CODE_LINES = 300
MAX_DESCRIPTION_LENGTH = 100
PROSE_OPENERS = ('"""', '"""shell')
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
HASH_PATTERN = re.compile(r"<!-- generated from .* sha256:([0-9a-f]{64}) -->")
TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x08")


def prose_blocks(source_text):
    """Return the 1-based (first, last) lines of each module-level string statement."""
    return [
        (node.lineno, node.end_lineno)
        for node in ast.parse(source_text).body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


def block_text(lines, first, last):
    """Return (kind, text) of the prose block on lines first..last."""
    text = "\n".join(lines[first - 1 : last])
    quote = '"""' if text.startswith('"""') else text[:1]
    text, kind = text[len(quote) : -len(quote)], "markdown"
    if text.startswith("shell\n"):
        text, kind = text[len("shell") :], "shell"
    return kind, text.strip("\n")


def parse(source_text):
    """Split a tutobook into its header dict and its (kind, text) cells."""
    lines, blocks = source_text.splitlines(), prose_blocks(source_text)
    if not blocks or blocks[0][0] != 1:
        raise ValueError("a tutobook starts with its header docstring on line 1")
    header = {}
    for line in block_text(lines, *blocks[0])[1].splitlines():
        key, _, value = line.partition(":")
        if line.strip():
            header[key.strip()] = value.strip()
    cells, code_start = [], blocks[0][1]
    for first, last in blocks[1:] + [(len(lines) + 1, None)]:
        code = "\n".join(lines[code_start : first - 1]).strip("\n")
        if code.strip():
            cells.append(("code", code))
        if last is not None:
            cells.append(block_text(lines, first, last))
        code_start = last
    return header, cells


def indented_prose(source_text):
    """Return the lines where an indented string statement, not a docstring, opens."""
    tree, lines = ast.parse(source_text), source_text.splitlines()
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    docstrings = {
        id(node.body[0]) for node in ast.walk(tree) if isinstance(node, definitions)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and node.col_offset > 0
        and id(node) not in docstrings
        and lines[node.lineno - 1].strip() in PROSE_OPENERS
    ]


def count_code_lines(source_text):
    """Count code lines as keras-io does: no blank, comment or prose-block lines."""
    blocks = prose_blocks(source_text)
    prose = {line for first, last in blocks for line in range(first, last + 1)}
    return sum(
        1
        for number, line in enumerate(source_text.splitlines(), start=1)
        if number not in prose and line.strip() and not line.strip().startswith("#")
    )


def check(source_text):
    """Return the ways the script breaks keras-io's tutobook rules (empty if none)."""
    try:
        header, _ = parse(source_text)
    except (SyntaxError, ValueError) as error:
        return [f"cannot parse: {error}"]
    problems, lines = [], source_text.splitlines()
    if [("Author" if key == "Authors" else key) for key in header] != HEADER_KEYS:
        problems.append(f"header keys {list(header)} should be {HEADER_KEYS}")
    description = header.get("Description", "")
    if not description[:1].isupper() or not description.endswith("."):
        problems.append("Description must start with a capital and end with a period")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(f"Description has {len(description)} characters (max 100)")
    if header.get("Accelerator") not in ACCELERATORS:
        problems.append(f"Accelerator must be one of {', '.join(ACCELERATORS)}")
    for first, last in prose_blocks(source_text)[1:]:
        if lines[first - 1] not in PROSE_OPENERS or lines[last - 1] != '"""':
            problems.append(f'line {first}: prose must open and close on """ lines')
    for number in indented_prose(source_text):
        problems.append(f"line {number}: prose block not at column 0")
    for number, line in enumerate(lines, start=1):
        if line != line.rstrip():
            problems.append(f"line {number}: trailing whitespace")
    code_lines = count_code_lines(source_text)
    if code_lines > MAX_CODE_LINES:
        problems.append(f"{code_lines} lines of code (max {MAX_CODE_LINES})")
    return problems


def header_lines(header):
    """Return the header fields but Title and Accelerator as bold Markdown lines."""
    shown = [key for key in header if key not in ("Title", "Accelerator")]
    return "<br>\n".join(f"**{key}:** {header[key]}" for key in shown)


def to_notebook(source_text, name="tutobook"):
    """Return the script as a validated nbformat v4 notebook; name is the stem."""
    header, cells = parse(source_text)
    title_cell = f"# {header.get('Title', name)}\n\n{header_lines(header)}"
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell(title_cell))
    for kind, text in cells:
        if kind == "markdown":
            notebook.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            if kind == "shell":
                text = "\n".join(f"!{line}" for line in text.splitlines() if line)
            notebook.cells.append(nbformat.v4.new_code_cell(text))
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    notebook.metadata = {
        "colab": {"name": f"{name}.ipynb", "provenance": [], "toc_visible": True},
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }
    if header.get("Accelerator") == "GPU":
        notebook.metadata["accelerator"] = "GPU"
    nbformat.validate(notebook)
    return notebook


def notebook_text(notebook):
    """Return the text nbformat.write puts in a file: JSON and a trailing newline."""
    return nbformat.writes(notebook).rstrip("\n") + "\n"


def is_shell_cell(cell):
    """Whether a cell came from a shell block (setup: installs, downloads)."""
    return cell.cell_type == "code" and cell.source.startswith("!")


def execute_notebook(notebook, workdir, timeout, env=None, skip_shell=False):
    """Run a copy of the notebook in workdir, env added to os.environ; return it.
    With skip_shell, the shell cells are emptied, so nbclient skips them (no
    network, say) and the cells keep their indices."""
    from nbclient import NotebookClient

    executed = copy.deepcopy(notebook)
    for cell in executed.cells:
        if skip_shell and is_shell_cell(cell):
            cell.source = ""
    resources = {"metadata": {"path": str(workdir)}}
    client = NotebookClient(
        executed, timeout=timeout, kernel_name="python3", resources=resources
    )
    client.execute(env={**os.environ, **(env or {})})
    return executed


def collect_outputs(notebook, image_dir, stem):
    """Map cell indices to (output text, PNG names); write the PNGs to image_dir."""
    outputs = {}
    for index, cell in enumerate(notebook.cells):
        texts, images = [], []
        for number, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if output.output_type == "stream":
                texts.append(output.text)
            elif "image/png" in data:
                images.append(f"{stem}_{index}_{number}.png")
                png = base64.b64decode(data["image/png"])
                Path(image_dir, images[-1]).write_bytes(png)
            elif "text/plain" in data:
                texts.append(data["text/plain"] + "\n")
        text = TERMINAL_ESCAPE.sub("", "".join(texts))
        text = "\n".join(line.split("\r")[-1] for line in text.split("\n"))
        if text.strip() or images:
            outputs[index] = (text.strip("\n"), images)
    return outputs


def source_hash(source_text):
    """Return the SHA-256 of the script's text, which the web page records."""
    return hashlib.sha256(source_text.encode("utf-8")).hexdigest()


def to_markdown(source_text, outputs=None, name="tutobook", note=None):
    """Return the web page; outputs maps notebook cell indices to (text, PNG
    names); note, if any, says under the header which run made the outputs."""
    header, cells = parse(source_text)
    parts = [f"# {header.get('Title', name)}", header_lines(header)]
    parts.append(f"<!-- generated from {name}.py sha256:{source_hash(source_text)} -->")
    if note:
        parts.append(f"> {note}")
    for index, (kind, text) in enumerate(cells, start=1):  # Cell 0 is the title.
        language = "shell" if kind == "shell" else "python"
        parts.append(text if kind == "markdown" else f"```{language}\n{text}\n```")
        output_text, images = (outputs or {}).get(index, ("", []))
        if output_text:
            parts.append(f"```\n{output_text}\n```")
        parts.extend(f"![{image}]({image})" for image in images)
    return "\n\n".join(parts) + "\n"


def stale_files(script):
    """Return check()'s problems and which of the .ipynb and .md are out of date."""
    script = Path(script)
    source_text = script.read_text(encoding="utf-8")
    problems = [f"{script.name}: {problem}" for problem in check(source_text)]
    notebook_file = script.with_suffix(".ipynb")
    markdown_file = script.with_suffix(".md")
    expected = notebook_text(to_notebook(source_text, script.stem))
    if not notebook_file.exists() or notebook_file.read_text("utf-8") != expected:
        problems.append(f"{notebook_file.name} is missing or stale")
    page = markdown_file.read_text("utf-8") if markdown_file.exists() else ""
    found = HASH_PATTERN.search(page)
    if not found or found.group(1) != source_hash(source_text):
        problems.append(f"{markdown_file.name} is missing or stale")
    return problems


def main(argv=None):
    """Write the .ipynb and .md next to the script, or check that they are current."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("script", type=Path, help="the tutobook script")
    parser.add_argument("--check", action="store_true", help="exit 1 if stale")
    parser.add_argument(
        "--md-outputs",
        metavar="WORKDIR",
        type=Path,
        help="run the notebook in WORKDIR and put its outputs in the .md",
    )
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--note", help="a line under the header: the run it shows")
    # The recipe's training cells take about an hour each on 2 CPU cores.
    parser.add_argument("--timeout", type=int, default=4 * 3600, help="s per cell")
    arguments = parser.parse_args(argv)
    script = arguments.script
    if arguments.check:
        problems = stale_files(script)
        print("".join(f"{problem}\n" for problem in problems), end="")
        return 1 if problems else 0
    source_text = script.read_text(encoding="utf-8")
    notebook = to_notebook(source_text, script.stem)
    nbformat.write(notebook, script.with_suffix(".ipynb"))
    outputs = None
    if arguments.md_outputs:
        env = dict(item.split("=", 1) for item in arguments.env)
        paths = [str(script.parent.resolve()), os.environ.get("PYTHONPATH", "")]
        env.setdefault("PYTHONPATH", os.pathsep.join(filter(None, paths)))
        executed = execute_notebook(
            notebook, arguments.md_outputs, arguments.timeout, env, skip_shell=True
        )
        image_dir = script.parent / "img" / script.stem  # As keras-io keeps them.
        image_dir.mkdir(parents=True, exist_ok=True)
        for old in image_dir.glob("*.png"):
            old.unlink()
        outputs = {
            index: (text, [f"img/{script.stem}/{name}" for name in images])
            for index, (text, images) in collect_outputs(
                executed, image_dir, script.stem
            ).items()
        }
    markdown = to_markdown(source_text, outputs, script.stem, arguments.note)
    write_text(script.with_suffix(".md"), markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
