"""Tests of scripts/tutobook.py on small synthetic tutobooks, and of the
tutorial's three forms: script, notebook and web page."""

import ast
import builtins
import base64
import json
import re

import matplotlib.image
import nbformat
import pytest
import tutobook

from conftest import ROOT

HEADER = '''"""
Title: A tiny example
Author: [Someone](https://example.com/)
Date created: 2024/01/02
Last modified: 2024/03/04
Description: Shows every kind of cell.
Accelerator: GPU
"""
'''

BODY = '''
"""
## Setup

Some prose.
"""

"""shell
pip install -q numpy
echo done
"""


# A comment.
import os


def double(value):
    """Return twice the value."""
    return 2 * value

"""
## Use it
"""
"""
Two prose blocks in a row make no empty code cell.
"""

print(double(21))

if __name__ == "__main__":
    print("main")
'''

SAMPLE = HEADER + BODY

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def problems_with(replacement_pairs, text=SAMPLE):
    """Return check()'s problems after replacing each old string by its new one."""
    for old, new in replacement_pairs:
        assert old in text
        text = text.replace(old, new)
    return tutobook.check(text)


def test_parse_reads_header_and_cells():
    header, cells = tutobook.parse(SAMPLE)
    assert header["Title"] == "A tiny example"
    assert header["Author"] == "[Someone](https://example.com/)"
    assert list(header)[-1] == "Accelerator"
    assert [kind for kind, _ in cells] == [
        "markdown",
        "shell",
        "code",
        "markdown",
        "markdown",
        "code",
    ]
    assert cells[0][1] == "## Setup\n\nSome prose."
    assert cells[1][1] == "pip install -q numpy\necho done"
    assert cells[2][1].startswith("# A comment.\nimport os")
    assert cells[2][1].endswith("return 2 * value")
    assert cells[5][1].startswith("print(double(21))")
    assert cells[5][1].endswith('    print("main")')


def test_a_clean_tutobook_has_no_problems():
    assert tutobook.check(SAMPLE) == []
    assert tutobook.check(SAMPLE.replace("Author:", "Authors:")) == []


def test_check_catches_trailing_whitespace():
    problems = problems_with([("import os\n", "import os \n")])
    assert problems == ["line 23: trailing whitespace"]


def test_check_catches_description_rules():
    long_text = "Shows " + "very " * 20 + "much."
    assert "characters" in problems_with([("Shows every kind of cell.", long_text)])[0]
    for bad in ("shows every kind of cell.", "Shows every kind of cell"):
        problems = problems_with([("Shows every kind of cell.", bad)])
        assert problems == [
            "Description must start with a capital and end with a period"
        ]


def test_check_catches_a_wrong_accelerator():
    problems = problems_with([("Accelerator: GPU", "Accelerator: CPU")])
    assert problems == ["Accelerator must be one of GPU, TPU, None"]


def test_check_catches_header_key_order():
    swapped = [
        ("Date created: 2024/01/02\n", "Last modified: 2024/03/04\n"),
        ("Last modified: 2024/03/04\nD", "Date created: 2024/01/02\nD"),
    ]
    problems = problems_with(swapped)
    assert len(problems) == 1 and problems[0].startswith("header keys")
    problems = problems_with([("Accelerator: GPU\n", "")])
    assert len(problems) == 2 and problems[0].startswith("header keys")


def test_check_catches_prose_not_at_column_0():
    indented = '\nif True:\n    """\n    ## Hidden heading\n    """\n    x = 1\n'
    assert tutobook.check(SAMPLE + indented) == ["line 43: prose block not at column 0"]
    inline = '\n"""## A heading on the opening line\n"""\n'
    assert tutobook.check(SAMPLE + inline) == [
        'line 42: prose must open and close on """ lines'
    ]


def test_check_allows_docstrings_that_open_on_their_own_line():
    docstring = '\n\ndef f():\n    """\n    Docstring.\n    """\n'
    assert tutobook.check(SAMPLE + docstring) == []


def test_check_catches_too_much_code():
    code_lines = tutobook.count_code_lines(SAMPLE)
    extra = "x = 1\n" * (301 - code_lines)
    assert tutobook.check(SAMPLE + extra) == ["301 lines of code (max 300)"]
    assert tutobook.check(SAMPLE + extra[6:]) == []


def test_code_line_count_skips_blanks_comments_and_prose():
    # import, def, docstring, return, print, if, print: 7 lines.
    assert tutobook.count_code_lines(SAMPLE) == 7
    more = '\n# comment\n\n    # indented comment\n"""\nprose = 1\n"""\ny = 2\n'
    assert tutobook.count_code_lines(SAMPLE + more) == 8


def test_a_syntax_error_is_a_problem():
    assert tutobook.check(SAMPLE + "def broken(:\n")[0].startswith("cannot parse")


def test_notebook_has_cells_metadata_and_validates():
    notebook = tutobook.to_notebook(SAMPLE, "tiny")
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    types = [cell.cell_type for cell in notebook.cells]
    assert types == ["markdown", "markdown", "code", "code", "markdown"] + [
        "markdown",
        "code",
    ]
    assert notebook.cells[0].source.startswith("# A tiny example\n\n**Author:** ")
    assert "**Description:** Shows every kind of cell." in notebook.cells[0].source
    assert "Accelerator" not in notebook.cells[0].source
    assert notebook.cells[2].source == "!pip install -q numpy\n!echo done"
    assert [cell.id for cell in notebook.cells] == [f"cell-{n}" for n in range(7)]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert notebook.metadata["colab"] == {
        "name": "tiny.ipynb",
        "provenance": [],
        "toc_visible": True,
    }
    assert notebook.metadata["accelerator"] == "GPU"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert notebook.metadata["language_info"] == {"name": "python"}
    no_gpu = tutobook.to_notebook(SAMPLE.replace("GPU", "None"))
    assert "accelerator" not in no_gpu.metadata


def test_notebook_text_is_deterministic(tmp_path):
    first = tutobook.notebook_text(tutobook.to_notebook(SAMPLE, "tiny"))
    second = tutobook.notebook_text(tutobook.to_notebook(SAMPLE, "tiny"))
    assert first == second and first.endswith("}\n")
    nbformat.write(tutobook.to_notebook(SAMPLE, "tiny"), tmp_path / "tiny.ipynb")
    assert (tmp_path / "tiny.ipynb").read_text() == first


def test_markdown_has_fences_and_outputs():
    outputs = {6: ("42\nmain", ["tiny_6_1.png"])}
    page = tutobook.to_markdown(SAMPLE, outputs, "tiny")
    assert page.startswith("# A tiny example\n\n**Author:** [Someone]")
    assert "<!-- generated from tiny.py sha256:" in page
    assert "## Setup\n\nSome prose.\n\n```shell\npip install -q numpy\n" in page
    assert "```python\n# A comment.\nimport os\n" in page
    assert (
        '    print("main")\n```\n\n```\n42\nmain\n```\n\n'
        "![tiny_6_1.png](tiny_6_1.png)\n"
    ) in page
    assert page.endswith("\n") and not page.endswith("\n\n")
    assert "```\n42" not in tutobook.to_markdown(SAMPLE)


def test_collect_outputs_writes_images_and_cleans_text(tmp_path):
    notebook = tutobook.to_notebook(SAMPLE, "tiny")
    notebook.cells[6].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1/2 \x1b[1m..\r2/2 ok\n"),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Fig>"},
        ),
        nbformat.v4.new_output("execute_result", data={"text/plain": "7"}),
    ]
    outputs = tutobook.collect_outputs(notebook, tmp_path, "tiny")
    assert outputs == {6: ("2/2 ok\n7", ["tiny_6_1.png"])}
    assert (tmp_path / "tiny_6_1.png").read_bytes() == PNG


def test_cli_writes_files_and_check_finds_staleness(tmp_path, capsys):
    script = tmp_path / "tiny.py"
    script.write_text(SAMPLE)
    assert tutobook.main([str(script), "--check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "tiny.ipynb is missing or stale",
        "tiny.md is missing or stale",
    ]
    assert tutobook.main([str(script)]) == 0
    assert nbformat.read(tmp_path / "tiny.ipynb", as_version=4).cells
    assert tutobook.main([str(script), "--check"]) == 0
    assert capsys.readouterr().out == ""
    script.write_text(SAMPLE.replace("Some prose.", "Some prose. "))
    assert tutobook.main([str(script), "--check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "tiny.py: line 13: trailing whitespace",
        "tiny.ipynb is missing or stale",
        "tiny.md is missing or stale",
    ]


def test_execute_notebook_runs_in_workdir_with_env(tmp_path):
    pytest.importorskip("ipykernel")
    pytest.importorskip("nbclient")
    source = HEADER + (
        '\nimport os\n\nprint(1)\n\n"""\nProse.\n"""\n\n'
        'print(os.environ["TUTOBOOK_TEST"], os.path.basename(os.getcwd()))\n'
    )
    (tmp_path / "work").mkdir()
    notebook = tutobook.to_notebook(source, "tiny")
    executed = tutobook.execute_notebook(
        notebook, tmp_path / "work", timeout=60, env={"TUTOBOOK_TEST": "hello"}
    )
    assert notebook.cells[1].outputs == []  # The input is left as it was.
    outputs = tutobook.collect_outputs(executed, tmp_path, "tiny")
    assert outputs == {1: ("1", []), 3: ("hello work", [])}


def test_execute_notebook_can_skip_shell_cells(tmp_path):
    pytest.importorskip("ipykernel")
    pytest.importorskip("nbclient")
    source = HEADER + '\n"""shell\necho from-the-shell\n"""\n\nprint(2)\n'
    notebook = tutobook.to_notebook(source, "tiny")
    executed = tutobook.execute_notebook(notebook, tmp_path, 60, skip_shell=True)
    outputs = tutobook.collect_outputs(executed, tmp_path, "tiny")
    assert outputs == {2: ("2", [])}  # Indices as in the notebook: 1 is the shell.
    assert tutobook.is_shell_cell(notebook.cells[1])
    assert notebook.cells[1].source == "!echo from-the-shell"


def test_markdown_note_says_which_run_made_the_outputs():
    page = tutobook.to_markdown(SAMPLE, {}, "tiny", note="A reduced run.")
    assert "-->\n\n> A reduced run.\n\n## Setup" in page


def test_the_tutorial_follows_keras_ios_rules():
    """Header, prose at column 0, no trailing spaces, at most 300 lines of code."""
    source = (ROOT / "fnet_classification.py").read_text(encoding="utf-8")
    assert tutobook.check(source) == []
    assert tutobook.count_code_lines(source) <= 300


def test_the_three_forms_agree():
    """The notebook and the page are current, and hold every cell in order; the
    page shows a run's table and its pictures, which lie beside it."""
    script = ROOT / "fnet_classification.py"
    assert tutobook.stale_files(script) == []
    notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    page = script.with_suffix(".md").read_text(encoding="utf-8")
    position = 0
    for cell in notebook.cells[1:]:
        text = cell.source
        if tutobook.is_shell_cell(cell):
            text = "```shell\n" + "\n".join(line[1:] for line in text.splitlines())
        elif cell.cell_type == "code":
            text = f"```python\n{text}\n```"
        position = page.index(text, position) + len(text)
    assert "| **#Params** |" in page and "Epoch 1/" in page  # A run's outputs.
    images = re.findall(r"!\[[^]]*\]\((img/[^)]+\.png)\)", page)
    assert len(images) == 2
    for image in images:
        assert (ROOT / image).is_file()


def output_lines_by_section(page):
    """Output lines under each "## " section: the lines of fenced blocks
    without a language, and five for each picture."""
    counts, section = {}, None
    for block_start, block in enumerate(page.split("```")):
        if block_start % 2 == 0:  # Prose between fences: headings and pictures.
            for line in block.splitlines():
                if line.startswith("## "):
                    section = line[3:]
                elif line.startswith("![") and section:
                    counts[section] = counts.get(section, 0) + 5
        elif block.startswith("\n"):  # An output: a fence with no language.
            lines = block.strip("\n").splitlines()
            counts[section] = counts.get(section, 0) + len(lines)
    return counts


MACHINE_PATH = re.compile(r"/(work|tmp|home|root|usr|content)/|site-packages|\\Users")


def check_step_outputs(page):
    """At least eight steps show their own output, none holds more than half
    of it all, and no output names a path of the machine that ran it."""
    counts = output_lines_by_section(page)
    assert len(counts) >= 8, counts
    assert max(counts.values()) <= 0.5 * sum(counts.values()), counts
    outputs = page.split("```")[1::2]
    assert not [o for o in outputs if o.startswith("\n") and MACHINE_PATH.search(o)]


def test_the_page_shows_each_steps_output_under_its_code():
    check_step_outputs(ROOT.joinpath("fnet_classification.md").read_text("utf-8"))


def test_the_page_is_a_run_of_the_whole_recipe():
    """The page's outputs come from the recipe on the real reviews: at least
    16,000 for training, a test table of at least 4,000, and both models at
    80% or more there (a model that did not learn shows)."""
    page = ROOT.joinpath("fnet_classification.md").read_text("utf-8")
    assert (
        int(re.search(r"^train: ([\d,]+) reviews", page, re.M)[1].replace(",", ""))
        >= 16000
    )
    test = re.search(
        r"^\| \*\*(Stand-in test|Test) accuracy \(([\d,]+) reviews\)\*\* \| (.+) \|$",
        page,
        re.M,
    )
    assert int(test[2].replace(",", "")) >= 4000
    accuracies = [float(cell.strip().rstrip("%")) for cell in test[3].split("|")]
    assert len(accuracies) == 2 and min(accuracies) >= 80, test[0]
    assert "max_seq_len = 512" in page and "epochs = 3" in page


def called_names(nodes):
    """The names of the functions and methods called anywhere in `nodes`."""
    return {
        node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        for top in nodes
        for node in ast.walk(top)
        if isinstance(node, ast.Call)
        and isinstance(node.func, (ast.Attribute, ast.Name))
    }


def test_the_tutorial_shows_the_keras_workflow():
    """The recipe's keras and keras-hub calls are in the tutorial, and each
    model's `summary`, `compile`, `fit`, `predict` and the scoring of its test
    probabilities by Keras's metric and loss stand at its top level, in no
    function."""
    tree = ast.parse(ROOT.joinpath("fnet_classification.py").read_text("utf-8"))
    assert {
        "text_dataset_from_directory",
        "compute_word_piece_vocabulary",
        "WordPieceTokenizer",
        "TokenAndPositionEmbedding",
        "FNetEncoder",
        "TransformerEncoder",
    } <= called_names(tree.body)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    top_level = [node for node in tree.body if not isinstance(node, ast.FunctionDef)]
    workflow = {"summary", "compile", "fit", "predict"}
    workflow |= {"BinaryAccuracy", "BinaryCrossentropy"}
    assert workflow <= called_names(top_level)
    assert not workflow & called_names(functions)


def test_the_tutorial_reports_errors_in_one_line():
    """Its excepthook is `cli.one_line_errors`, set at top level in view."""
    tree = ast.parse(ROOT.joinpath("fnet_classification.py").read_text("utf-8"))
    assigned = [
        ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and ast.unparse(node.targets[0]) == "sys.excepthook"
    ]
    assert assigned == ["sys.excepthook = cli.one_line_errors"]


def test_the_tutorials_functions_take_what_they_read():
    """No function of the tutorial reads a lower-case module variable that it
    was not passed (upper-case constants and imported modules are fine)."""
    tree = ast.parse(ROOT.joinpath("fnet_classification.py").read_text("utf-8"))
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        local = {a.arg for a in function.args.args + function.args.kwonlyargs}
        local |= {
            node.id
            for node in ast.walk(function)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        }
        local |= {
            alias.asname or alias.name
            for node in ast.walk(function)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        read = {
            node.id
            for node in ast.walk(function)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
        }
        outside = read - local - imported - defined - set(dir(builtins))
        assert not {name for name in outside if not name.isupper()}, function.name


def test_the_notebook_runs_end_to_end_on_the_fixture(tmp_path):
    """The committed notebook, as Colab runs it but offline: its shell cells
    (install, download) are skipped and the flags come from FNET_IMDB_FLAGS.
    Each step shows its own output, the comparison its table and pictures."""
    pytest.importorskip("ipykernel")
    pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "fnet_classification.ipynb", as_version=4)
    flags = f"--smoke --epochs 2 --output-dir {tmp_path / 'run'}"
    environment = {
        "FNET_IMDB_FLAGS": flags,
        "PYTHONPATH": str(ROOT),
    }
    executed = tutobook.execute_notebook(
        notebook, tmp_path, timeout=300, env=environment, skip_shell=True
    )
    outputs = tutobook.collect_outputs(executed, tmp_path, "notebook")
    cells = enumerate(executed.cells)
    (last,) = [n for n, c in cells if c.source.startswith("record.finish(")]
    text, images = outputs[last]
    shown = executed.cells[last].outputs
    table = [n for n, o in enumerate(shown) if "#Params" in o.get("text", "")]
    pictures = [n for n, o in enumerate(shown) if "image/png" in o.get("data", {})]
    assert len(table) == 1 and len(pictures) == 2 and table[0] < pictures[0]
    assert "| **Test accuracy (100 reviews)** |" in text
    assert len(images) == 2
    for image in images:
        assert matplotlib.image.imread(tmp_path / image).shape == (400, 1000, 4)
    page = tutobook.to_markdown(
        ROOT.joinpath("fnet_classification.py").read_text("utf-8"),
        {
            index: (text.replace(str(tmp_path), "RUN"), images)
            for index, (text, images) in outputs.items()
        },
    )
    check_step_outputs(page)
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["complete"] and saved["config"]["epochs"] == 2


def package_objects(tree):
    """The tutorial's names for the package's modules, and for what calls into
    them returned (its `options`, its `record`, and names bound from those)."""
    modules = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and (getattr(node, "module", None) or "").startswith("fnet_imdb")
        for alias in node.names
    }

    def root(node):
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    objects, grew = set(), True
    while grew:
        grew = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.For):
                targets, value = [node.target], node.iter
            else:
                continue
            if root(value) in modules | objects and not isinstance(value, ast.Name):
                names = {
                    n.id
                    for t in targets
                    for n in ast.walk(t)
                    if isinstance(n, ast.Name)
                }
                grew |= not names <= objects | modules
                objects |= names - modules
    return modules, objects, root


def test_the_tutorial_calls_the_package_sparingly():
    """Plumbing stays out of the reader's path: at most 26 calls into the
    package (or on what it returned) and 31 reads of such objects' attributes
    or string keys, half of what the tutorial once had (52 and 70)."""
    tree = ast.parse(ROOT.joinpath("fnet_classification.py").read_text("utf-8"))
    modules, objects, root = package_objects(tree)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and root(node.func) in modules | objects
    ]
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    reads = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and id(node) not in called
        and isinstance(node.value, ast.Name)
        and node.value.id in objects
    ]
    reads += [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and root(node.value) in objects
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ]
    assert {"options", "record"} <= objects
    assert len(calls) <= 26 and len(reads) <= 31, (len(calls), len(reads))
