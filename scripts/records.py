"""The records under docs/: each loaded once, with its provenance, and read as rows of a table."""

import json

import numpy as np

from fnet_imdb import comparison as c


class Records:
    """The records (JSON, or .npz arrays) of a docs/ folder, its provenance and specs."""

    def __init__(self, docs):
        self.docs, self.loaded = docs, {}
        self.provenance, self.tables = map(
            self.load, ["provenance.json", "tables.json"]
        )

    def load(self, name):
        if name not in self.loaded:
            path = self.docs / name
            try:
                self.loaded[name] = (
                    dict(np.load(path))
                    if path.suffix == ".npz"
                    else json.loads(path.read_text(encoding="utf-8"))
                )
            except (OSError, ValueError) as error:
                raise ValueError(f"unreadable record {path} ({error})") from None
        return self.loaded[name]

    def source(self, name):
        """Where and with what a record was measured (docs/provenance.json)."""
        entry = self.provenance["records"].get(name)
        if entry is None:
            raise ValueError(f"docs/{name} has no entry in docs/provenance.json")
        return {**entry, "machine": self.provenance["machines"][entry["machine"]]}


def flatten(records, name):
    """A record's rows, whatever its shape: one per run (results.json, H100
    runs), step time, variant (end_to_end.py) or model, each with the record's
    provenance: machine, settings, meaning of its variants, shared seeds."""
    record, source = records.load(name), records.source(name)
    if isinstance(record, list) or "result" in record:  # (backend_record.py's)
        items = record if isinstance(record, list) else record["result"]
    elif "variants" in record:  # end_to_end.py: a column of figures per variant.
        items = [
            {**v.get("results", {}), "variant": v["variant"]}
            | {
                key: figures.get(v["variant"])
                for key, figures in record["table"].items()
            }
            for v in record["variants"]
        ]
        ratios = {name for figures in record["table"].values() for name in figures}
        items += [  # Its ratios ("default / keras-io") make columns too.
            {"variant": name, "ratio": True}
            | {key: figures.get(name) for key, figures in record["table"].items()}
            for name in sorted(ratios)
            if " / " in name
        ]
    elif "interpreters" in record:  # predict_speed.py: a row per interpreter.
        load = record["load_before"].split()[0]
        items = [interpreter_row(one, load) for one in record["interpreters"].values()]
    elif "results" in record:  # backend_equivalence.py
        items = [{**record["settings"], **result} for result in record["results"]]
    else:  # results.json; an older one holds its single run in the model's entry.
        common = {key: record.get(key) for key in ("environment", "config")}
        common["seed"] = (record.get("config") or {}).get("seed")
        items = [
            {**common, **run, "model": kind}
            for kind, model in record["models"].items()
            for run in model.get("runs") or [model]
        ]
    rows = []
    for item in items:
        row = {**source.get("settings", {})}
        row.update({key: value for key, value in item.items() if value is not None})
        row.update(source.get("variants", {}).get(item.get("variant"), {}))
        row.update(record=name, machine=source["machine"]["short"])
        row["shared"] = item.get("seed") in source.get("shared_seeds", [])
        if "history" in item:
            row["epochs"] = len(item["history"]["val_accuracy"])
            row["kept_val_accuracy"] = c.run_value(item, "val_accuracy")
        rows.append(row)
    return rows


def interpreter_row(one, load):
    """One interpreter's figures in a predict_speed.py record, as a row: its
    versions and backend, the 1-minute `load` before the run, and the seconds
    and peak megabytes of each round."""
    about = one["about"]
    row = {**about, "load": load}
    row["backend_version"] = f"{about['backend']} {about.get(about['backend'])}"
    for key in ("one_text", "lines"):
        row[f"{key}_s"] = [figures["s"] for figures in one[key]]
        row[f"{key}_mb"] = [figures["peak_rss_mb"] for figures in one[key]]
    return row


def get(row, path):
    """A row's field by a dotted path (`a.b.-1`), or of `a|b` the first it has."""
    for option in path.split("|"):
        value = row
        for key in option.split("."):
            if isinstance(value, list):
                value = value[int(key)] if int(key) < len(value) else None
            else:
                value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def matches(row, where):
    """Whether each field of `where` has one of its values (null: none)."""
    return all(get(row, key) in allowed for key, allowed in where.items())


def groups(records, block):
    """A block's rows with `set` and `alias` fields, by `where` and `group`."""
    found = {}
    for row in (row for name in block["records"] for row in flatten(records, name)):
        row.update(block.get("set", {}))
        row.update({k: get(row, path) for k, path in block.get("alias", {}).items()})
        if matches(row, block.get("where", {})):
            key = tuple(str(get(row, field)) for field in block.get("group", []))
            found.setdefault(key or len(found), []).append(row)
    return list(found.values())
