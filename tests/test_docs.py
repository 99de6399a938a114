"""The README is a product page: short, and every link in it and in docs/ leads somewhere."""

import re
from urllib.parse import unquote

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_readme_keeps_to_250_lines():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.parametrize(
    "page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix()
)
def test_every_relative_link_resolves(page):
    text = page.read_text(encoding="utf-8")
    targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:|#", t)]
    missing = [
        target
        for target in targets
        if not (page.parent / unquote(target.split("#")[0])).exists()
    ]
    assert missing == []
