"""Make the measurement tables of README.md and docs/*.md from the JSON records in docs/.

A page marks each generated region `<!-- table:NAME -->` ... `<!-- end -->`;
docs/tables.json says what each shows, provenance.json where its figures ran.
`python scripts/report.py` rewrites the regions; `--check` exits 1 if stale.
"""

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # Run as a script.

import gpu_summary  # noqa: E402  (the step tables, shared)
from fnet_imdb import MODEL_NAMES  # noqa: E402
from fnet_imdb import comparison as c  # noqa: E402  (the run's formats)
from fnet_imdb import verdicts  # noqa: E402
from fnet_imdb.atomic import write_text  # noqa: E402
from fnet_imdb.paired import from_records  # noqa: E402
from records import Records, flatten, get, groups, matches  # noqa: E402

REGION = re.compile(r"<!-- table:([a-z0-9_]+) -->\n.*?<!-- end -->", re.S)
OPENING = re.compile(r"<!-- table:")


def unique(values):
    return ", ".join(dict.fromkeys(str(value) for value in values))


def ratio(values, rows, link):
    """The Transformer's step over FNet's, from a group's step rows."""
    return unique(f"{r:.2f}x" for r in c.step_ratios(rows).values()) or "-"


def per_epoch(values, rows, *_):
    return c.seconds(values[0] / get(rows[0], "epochs|config.epochs"))


# A format makes a cell of a group's values of a column, its rows and `link`.
FORMATS = {
    "list": lambda v, *_: ", ".join(str(value) for value in v),
    "name": lambda v, *_: unique(MODEL_NAMES[kind] for kind in v),
    "backend": lambda v, *_: unique(c.backend(e) for e in v),
    "backend_name": lambda v, *_: unique(c.BACKEND_NAMES[b] for b in v),
    "seeds": lambda v, *_: f"{', '.join(str(s) for s in v)} ({len(v)})",
    "%": lambda v, *_: c.mean_sd(v, "%"),
    "%+": lambda v, *_: c.mean_sd(v, "%", listed=True),
    "s": lambda v, *_: c.mean_sd(v, "s"),
    "s+": lambda v, *_: c.mean_sd(v, "s", listed=True),
    "step": lambda v, *_: unique(
        f"{x:.3f} s" if x >= 0.1 else f"{x * 1e3:.1f} ms" for x in v
    ),
    "history": lambda v, *_: " / ".join(c.percent(a) for a in v[0]),
    "link": lambda v, rows, link: unique(f"[{Path(n).name}]({link(n)})" for n in v),
    "range": lambda v, *_: f"{min(v[0]):.2f} to {max(v[0]):.2f}",
    "first_gap": lambda v, *_: f"{v[0][0]:.0e}" if v[0][0] else "0",
    "later_gaps": lambda v, *_: f"{max(v[0][1:]):.2g} (steps 2-{len(v[0])})",
    "ratio": ratio,
    "per_epoch": per_epoch,
    "with_epochs": lambda v, rows, _: f"{c.seconds(v[0])} ({per_epoch(v, rows)})",
    "cpu": lambda v, *_: "shared with other work" if v[0] else "alone",
    "s|x": lambda v, rows, _: (
        f"{v[0]:.2f}x" if rows[0].get("ratio") else c.seconds(v[0])
    ),
    "s each": lambda v, *_: ", ".join(f"{x:.1f}" for x in v[0]) + " s",
    "MB each": lambda v, *_: ", ".join(f"{x:,.0f}" for x in v[0]) + " MB",
}
NUMERIC = (
    "%",
    "%+",
    "s",
    "s+",
    "step",
    "s|x",
)  # A string among their values stands as is.


def cell(group, column, link):
    """One cell: a column's values in a group, formatted (`-` if none)."""
    path, shown = column[1:3]
    options = column[3] if len(column) > 3 else {}
    rows = [row for row in group if matches(row, options.get("where", {}))]
    values = [get(row, path) for row in rows if get(row, path) is not None]
    if not values:
        return "-" if shown in NUMERIC else ""  # Templates: blank.
    if shown in NUMERIC and any(isinstance(v, str) for v in values):
        return unique(values)
    if shown not in FORMATS:  # A template, such as "{} steps", for each value.
        return unique(shown.format(value) for value in values)
    text = FORMATS[shown](values, rows, link)
    for field, mark in options.get("marks", []):
        text += mark if any(get(row, field) for row in rows) else ""
    return text


def table(records, spec, link):
    """A Markdown table; a header that starts with a space is right-aligned."""
    header = [column[0] for column in spec["columns"]]
    body = [
        [cell(group, column, link) for column in spec["columns"]]
        for block in spec["blocks"]
        for group in groups(records, block)
    ]
    if spec.get("transpose"):
        header, *body = [list(line) for line in zip(header, *body)]
        header = header[:1] + [f" {name}" for name in header[1:]]
    align = ["--:" if name.startswith(" ") else ":--" for name in header]
    lines = ["| " + " | ".join(name.strip() for name in header) + " |"]
    lines.append("|" + "|".join(align) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in body]
    if "caption" in spec:  # Filled in with the first row's fields.
        first = flatten(records, named(spec)[0])[0]
        lines[:0] = [spec["caption"].format(**first), ""]
    return "\n".join(lines)


def named(spec):
    """The records a part reads."""
    return spec.get("records") or [n for b in spec["blocks"] for n in b["records"]]


def part(records, spec, link):
    """A table, a step table, a paired comparison or its verdict sentence."""
    kind = spec.get("kind", "table")
    if kind == "steps":
        return "\n".join(gpu_summary.step_table(list(map(records.load, named(spec)))))
    runs = list(zip(*[map(records.load, spec.get("records", []))] * 2))
    if kind == "paired" or kind == "verdict" and len(runs) == 1:
        found = from_records(runs)
        return c.paired_markdown(found) if kind == "paired" else verdicts.verdict(found)
    if kind == "table":
        return table(records, spec, link)
    found = [from_records([run]) for run in runs]  # Each orders its reviews its way.
    where = [records.source(name) for name in spec["records"][::2]]
    commits, clean = zip(*[(s["commit"], not s.get("shared_seeds")) for s in where])
    return verdicts.seed_by_seed(found, commits, clean)


def sources(records, names, link):
    """Where the figures ran: a line per machine, software and commit, with links."""
    found = {}
    for name in dict.fromkeys(names):
        source = records.source(name)
        rows = flatten(records, name) if name.endswith(".json") else []
        found_in = [
            row["environment"] for row in rows if "python" in row.get("environment", {})
        ]
        environment = (found_in or [None])[0]  # A run's own, not provenance's.
        what = c.software(environment) if environment else source.get("software", "")
        when = (source.get("commit"), source.get("date"))
        found.setdefault((source["machine"]["long"], what, *when), []).append(name)
    lines = ["Measured on:", ""]
    for (machine, what, commit, date), group in found.items():
        parts = [machine, what, f"commit {commit}" if commit else "", date or ""]
        notes = [records.source(n).get("note", "") for n in group]
        parts += dict.fromkeys(part for note in notes for part in note.split("; "))
        links = ", ".join(f"[{name}]({link(name)})" for name in group)
        lines.append("- " + "; ".join(p for p in parts if p) + f": {links}")
    return "\n".join(lines)


def render(page, records):
    """The page made anew, and the names of its regions that changed."""
    label = page.relative_to(records.docs.parent).as_posix()
    text = page.read_text(encoding="utf-8")
    if len(OPENING.findall(text)) != len(REGION.findall(text)):
        raise ValueError(f"{label}: a `<!-- table:NAME -->` has no `<!-- end -->`")
    changed = []

    def link(name):
        return Path(os.path.relpath(records.docs / name, page.parent)).as_posix()

    def replace(match):
        name = match.group(1)
        if name not in records.tables or name == "about":
            raise ValueError(f"{label}: unknown table {name!r}")
        specs = records.tables[name]
        parts = [part(records, spec, link) for spec in specs]
        names = [record for spec in specs for record in named(spec)]
        made = "\n\n".join(parts + [sources(records, names, link)])
        made = f"<!-- table:{name} -->\n{made}\n<!-- end -->"
        changed.extend([name] if made != match.group(0) else [])
        return made

    return REGION.sub(replace, text), changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="another checkout")
    args = parser.parse_args(argv)
    try:
        root = args.root.resolve()
        records = Records(root / "docs")
        pages = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
        made = {page: render(page, records) for page in pages}
    except (OSError, ValueError, KeyError) as error:
        lacks = "a record lacks the field " if isinstance(error, KeyError) else ""
        print(f"report.py: error: {lacks}{error}", file=sys.stderr)
        return 1
    for page, (text, changed) in made.items():
        label, tables = page.relative_to(root).as_posix(), ", ".join(changed)
        if changed and args.check:
            print(f"{label}: stale tables {tables} (run python scripts/report.py)")
        elif changed:
            write_text(page, text)
            print(f"rewrote {label} ({tables})")
    return 1 if args.check and any(changed for _, changed in made.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
