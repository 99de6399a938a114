"""Tests of scripts/report.py: the committed pages match their records, a
changed record or table spec makes a page stale until the tables are made
again, the README's figures come from a generated table of docs/ and its
verdict from the paired record; and of benchmarks/gpu_summary.py's tables."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import gpu_summary
import report
from fnet_imdb import comparison, paired, verdicts
from test_paired import fake_run_folder

ROOT = Path(__file__).resolve().parents[1]

# A measured figure: a percentage, a duration, a ratio or a gap in points.
FIGURE = re.compile(
    r"[+-]?\d[\d,]*(?:\.\d+)?(?: ± [\d,.]+)? ?(?:%|(?:ms|s|points)\b|x(?! \d))"
)


@pytest.fixture
def checkout(tmp_path):
    """A copy of README.md and docs/ (without pictures) to change freely."""
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(
        ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("*.png")
    )
    return tmp_path


def regions(text):
    """The generated tables of a page, by name."""
    pattern = re.compile(r"<!-- table:([a-z0-9_]+) -->\n(.*?)<!-- end -->", re.S)
    return dict(pattern.findall(text))


def test_committed_pages_match_their_records(capsys):
    assert report.main(["--check"]) == 0
    assert capsys.readouterr().out == ""


def test_a_changed_record_makes_pages_stale_until_regenerated(checkout, capsys):
    record = checkout / "docs" / "cpu_official_test" / "fnet_results.json"
    results = json.loads(record.read_text())
    results["models"]["fnet"]["runs"][0]["test_accuracy"] = 0.9
    record.write_text(json.dumps(results))

    assert report.main(["--root", str(checkout), "--check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "README.md: stale tables headline (run python scripts/report.py)",
        "docs/results.md: stale tables headline, cpu_official_test "
        "(run python scripts/report.py)",
    ]
    assert "85.16 ± 0.53%" in (checkout / "README.md").read_text()  # Unchanged.

    assert report.main(["--root", str(checkout)]) == 0
    capsys.readouterr()
    assert report.main(["--root", str(checkout), "--check"]) == 0
    readme = (checkout / "README.md").read_text()
    assert "85.16 ± 0.53%" not in readme and "| 90.00% |" not in readme
    assert "86.78 ± 2.84%" in readme  # The mean of 90.00, 84.63 and 85.70.


def test_every_figure_of_the_readme_is_in_a_generated_docs_table():
    readme = (ROOT / "README.md").read_text()
    prose = re.sub(r"```.*?```", "", readme, flags=re.S)
    generated = "".join(
        "".join(regions(page.read_text()).values())
        for page in sorted((ROOT / "docs").glob("*.md"))
    )
    figures = FIGURE.findall(prose)
    assert "85.16 ± 0.53%" in figures and "5.4 ms" in figures
    assert [figure for figure in figures if figure not in generated] == []
    rows = [line for line in regions(readme)["headline"].splitlines() if "|" in line]
    results = regions((ROOT / "docs" / "results.md").read_text())["headline"]
    assert len(rows) == 8 and all(row in results.splitlines() for row in rows)


def test_the_readme_verdict_comes_from_both_paired_records():
    """The sentence under the headline holds each official paired record's
    one-seed verdict: their test reviews come in other orders, so each is
    compared alone, and their opposite signs are said plainly."""
    folder = ROOT / "docs" / "cpu_official_test_paired"
    found = []
    for seed in ("seed42", "seed1"):
        results = json.loads((folder / seed / "results.json").read_text())
        arrays = dict(np.load(folder / seed / "predictions.npz"))
        found.append(paired.from_records([(results, arrays)]))
    headline = regions((ROOT / "README.md").read_text())["headline"]
    verdict = verdicts.seed_by_seed(found, ["0e94da0", "1d08c78"], [True, False])
    assert f"\n\n{verdict}\n\n" in headline
    assert (
        "At seed 42 (commit 0e94da0), FNet is 1.52 points less accurate than the "
        "Transformer (95% CI -1.98 to -1.06 over the test reviews; McNemar p = 6.3e-11)"
        in verdict
    )
    assert "at seed 1 (commit 1d08c78), it is 0.59 points more accurate" in verdict
    assert "opposite signs, each with a small McNemar p" in verdict
    assert verdict.endswith(
        "At seed 42, FNet trains 2.46x faster (one seed: no interval)."
    )


def test_changed_predictions_make_the_paired_regions_stale(checkout, capsys):
    record = (
        checkout / "docs" / "cpu_official_test_paired" / "seed42" / "predictions.npz"
    )
    arrays = dict(np.load(record))
    arrays["fnet"] = arrays["labels"].astype(np.float16)  # FNet now always right.
    np.savez(record, **arrays)
    assert report.main(["--root", str(checkout), "--check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "README.md: stale tables headline (run python scripts/report.py)",
        "docs/results.md: stale tables headline, paired (run python scripts/report.py)",
    ]
    assert report.main(["--root", str(checkout)]) == 0
    results = (checkout / "docs" / "results.md").read_text()
    assert "| 42 | 100.00% | 86.01% | 3,497 | 0 |" in results  # Its errors.
    assert "seed 42, FNet is 13.99 points more accurate than the Transformer" in results


def test_a_table_is_what_its_spec_says(checkout, capsys):
    """Columns, blocks and formats come from docs/tables.json."""
    spec = checkout / "docs" / "tables.json"
    tables = json.loads(spec.read_text())
    columns = tables["cpu_official_test"][0]["columns"]
    del columns[2]  # `fit`
    columns[-1] = [" test accuracy, per mille", "test_accuracy", "{:.1%}"]
    tables["cpu_official_test"][0]["blocks"][0]["where"] = {"model": ["transformer"]}
    spec.write_text(json.dumps(tables))
    assert report.main(["--root", str(checkout)]) == 0
    assert "rewrote docs/results.md (cpu_official_test)" in capsys.readouterr().out
    table = regions((checkout / "docs" / "results.md").read_text())["cpu_official_test"]
    lines = table.splitlines()
    assert lines[0] == (
        "| model | seed | validation accuracy, epoch 3 | test accuracy, per mille |"
    )
    assert lines[2:4] == [
        "| Transformer | 42 | 87.92% | 84.8% |",
        "| Transformer | 1 | 87.78% | 85.0% |",
    ]
    assert lines[4] == ""


def test_gpu_summary_adds_the_paired_comparison_of_a_run_with_predictions(tmp_path):
    results, _ = fake_run_folder(tmp_path / "train", [42, 1])
    for model in results["models"].values():
        for run in model["runs"]:
            run.update(history={"val_accuracy": [0.8]}, test_accuracy=0.8)
        model["summary"] = comparison.summarise(model["runs"])
    results["environment"] = {"keras_backend": "jax", "device": "gpu", "python": "3.12"}
    results["environment"].update(
        {"keras": "3.15.1", "keras-hub": "0.32.0", "jax": "0.11"}
    )
    results["config"] = {"holdout_test": 0, "epochs": 3, "batch_size": 64}
    results["config"].update({"max_seq_len": 512, "fourier": "keras"})
    (tmp_path / "train" / "results.json").write_text(json.dumps(results))
    assert gpu_summary.main([str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    found = paired.paired_comparison(results, tmp_path / "train")
    assert comparison.paired_markdown(found) in summary
    assert "Python 3.12, Keras 3.15.1, keras-hub 0.32.0, JAX 0.11;" in summary
    assert "wide, over 2 training seeds and the test reviews" in summary


@pytest.mark.parametrize(
    "page, message",
    [
        ("<!-- table:nonsense -->\n<!-- end -->\n", "unknown table 'nonsense'"),
        ("<!-- table:headline -->\nno end\n", "has no `<!-- end -->`"),
    ],
)
def test_a_bad_marker_is_one_line_and_changes_nothing(checkout, capsys, page, message):
    (checkout / "docs" / "broken.md").write_text(page)
    before = (checkout / "README.md").read_text()
    assert report.main(["--root", str(checkout)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error and "docs/broken.md" in error
    assert (checkout / "docs" / "broken.md").read_text() == page
    assert (checkout / "README.md").read_text() == before


def test_a_record_without_provenance_is_an_error(checkout, capsys):
    provenance = checkout / "docs" / "provenance.json"
    entries = json.loads(provenance.read_text())
    del entries["records"]["h100/train42.json"]
    provenance.write_text(json.dumps(entries))
    assert report.main(["--root", str(checkout), "--check"]) == 1
    assert "docs/h100/train42.json has no entry" in capsys.readouterr().err


def test_gpu_summary_names_the_environment_and_shares_the_step_table(tmp_path):
    environment = {"device": "NVIDIA H100 80GB HBM3", "jax": "0.11.2"}
    environment.update(cuda="13.0", keras_hub="0.32.0", commit="abc1234")
    (tmp_path / "environment.json").write_text(json.dumps(environment))
    (tmp_path / "scaling_batch64").mkdir()
    shutil.copy(
        ROOT / "docs" / "h100" / "seq_len_scaling_batch64.json",
        tmp_path / "scaling_batch64" / "seq_len_scaling.json",
    )
    assert gpu_summary.main([str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert (
        "Environment: device NVIDIA H100 80GB HBM3, jax 0.11.2, cuda 13.0, "
        "keras_hub 0.32.0, commit abc1234." in summary
    )
    speed = (ROOT / "docs" / "speed.md").read_text()
    rows = [line for line in summary.splitlines() if line.startswith("| 64 x ")]
    assert len(rows) == 4 and all(row in speed for row in rows)
