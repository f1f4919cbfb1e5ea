"""docs/workflows.md stays true: every code block it shows is the code it names, today."""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "workflows.md"
_BLOCK = re.compile(r"```python\n# from: ([\w.]+)::(\w+)\n(.*?)\n```", re.DOTALL)


def _current(module_name: str, name: str) -> str:
    """What the guide should show for ``module::name``."""
    module = importlib.import_module(module_name)
    value = getattr(module, name)  # the guide names only what exists
    if isinstance(value, str):
        return value.strip("\n")
    if isinstance(value, dict):  # a constant: its assignment, as written
        source = inspect.getsource(module)
        start = source.rfind("\n", 0, source.index(f"{name}:")) + 1
        return source[start : source.index("\n}\n", start) + 2].rstrip("\n")
    return textwrap.dedent(inspect.getsource(value)).rstrip("\n")


BLOCKS = _BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_shows_real_code() -> None:
    assert len(BLOCKS) >= 12
    assert {module for module, _, _ in BLOCKS} >= {
        "gtm_feedback.feedback.workflows",
        "gtm_feedback.durable.registry",
        "gtm_feedback.insight.workflows",
        "tests.test_testing",
    }


@pytest.mark.parametrize(
    ("module", "name", "shown"), BLOCKS, ids=[f"{m}::{n}" for m, n, _ in BLOCKS]
)
def test_each_example_is_the_code_today(module: str, name: str, shown: str) -> None:
    assert shown == _current(module, name), f"docs/workflows.md shows an old {module}::{name}"
