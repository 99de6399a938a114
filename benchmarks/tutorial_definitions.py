"""The tutorial's own definitions, without running its recipe: for the tests and benchmarks, never for the package."""

import ast
import types
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "fnet_classification.py"


def load(*names):
    """The tutorial's top-level functions and assignments named `names`, after
    its imports, as a namespace; nothing else of it runs.

    Importing the tutorial runs the whole recipe, as a keras-io example does:
    Python has no way to import only some definitions of a script.
    """
    from fnet_imdb import backend

    backend.choose_backend()  # Before Keras is imported, as the tutorial does.
    path = SOURCE
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    missing = set(names)
    body = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            body.append(node)
        elif defined_name(node) in names:
            body.append(node)
            missing.discard(defined_name(node))
    if missing:
        raise ValueError(f"the tutorial defines no {', '.join(sorted(missing))}")
    namespace = {"__name__": "fnet_classification_definitions"}
    exec(compile(ast.Module(body, []), str(path), "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in names})


def recipe():
    """The tutorial's recipe block, read from its source: nothing of it runs
    and nothing is imported (for a parent process that must stay light)."""
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"), filename=str(SOURCE))
    (call,) = [node.value for node in tree.body if defined_name(node) == "recipe"]
    return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}


def defined_name(node):
    """The name a top-level `def` or single-target assignment defines, or None."""
    if isinstance(node, ast.FunctionDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    return None


def build(kind, config):
    """The tutorial's classifier of `kind` for a namespace of its settings
    (recipe and options, as tests and benchmarks keep them)."""
    (build_classifier,) = vars(load("build_classifier")).values()
    dtype = "mixed_bfloat16" if config.mixed_precision else "float32"
    return build_classifier(kind, vars(config), config.fourier, dtype)


def compile_model(model, config):
    """Compile `model` as the tutorial's training steps do."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=keras.losses.BinaryCrossentropy(reduction="mean_with_sample_weight"),
        weighted_metrics=["accuracy"],
    )
