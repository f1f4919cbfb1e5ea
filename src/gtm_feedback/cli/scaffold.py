"""``gtm-feedback new-workflow NAME --domain DOMAIN``: a working, tested workflow in a minute.

It writes the workflow module (typed input and result, one step, ``STARTABLE`` so that
``POST /api/workflows/NAME`` starts it) and a passing test that uses the workflow kit. Workflow
modules are found by their name (``*_workflows.py`` in a domain folder), so nothing else is
edited.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from gtm_feedback.cli.support import console

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_DOMAIN = re.compile(r"^[a-z][a-z0-9_]*$")

MODULE = '''"""{title}: {summary}"""

from __future__ import annotations

from dbos import DBOS
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import OUTBOUND_RETRY


class {camel}Input(BaseModel):
    """What one run needs (validated before it starts)."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=500, description="Replace with your input.")


class {camel}Result(BaseModel):
    """What one run did."""

    echoed: str
    length: int


@DBOS.step(**OUTBOUND_RETRY)
def {snake}_step(message: str) -> str:
    """One unit of work: I/O (HTTP, the database, agents) goes in steps, never in the body."""
    return message.strip()


@DBOS.workflow()
def {snake}_workflow(data: {camel}Input) -> {camel}Result:
    """The body is deterministic: it calls steps (and child workflows) and decides."""
    echoed = {snake}_step(data.message)
    return {camel}Result(echoed=echoed, length=len(echoed))


#: ``POST /api/workflows/{name}`` starts it (found by name: nothing else to register).
STARTABLE = Startable("{name}", {camel}Input, {snake}_workflow, "{summary}")
'''

TEST = '''"""{title}: the scaffolded workflow, run with the workflow kit."""

from __future__ import annotations

from gtm_feedback.{domain}.{snake}_workflows import {camel}Input, {snake}_workflow
from gtm_feedback.testing import WorkflowKit


def test_{snake}_runs(workflows: WorkflowKit) -> None:
    result = workflows.run({snake}_workflow, {camel}Input(message="  hello  "))
    assert result.echoed == "hello"
    assert result.length == 5
'''


def _paths(root: Path, domain: str, snake: str) -> tuple[Path, Path]:
    module = root / "src" / "gtm_feedback" / domain / f"{snake}_workflows.py"
    test = root / "tests" / domain / f"test_{snake}_workflows.py"
    return module, test


def _init(folder: Path, doc: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "__init__.py"
    if not marker.exists():
        marker.write_text(f'"""{doc}"""\n' if doc else "", encoding="utf-8")


def new_workflow(
    name: Annotated[str, typer.Argument(help="Kebab-case name, e.g. crm-sync.")],
    domain: Annotated[str, typer.Option(help="The domain folder, e.g. account.")],
    summary: Annotated[str, typer.Option(help="One line saying what it does.")] = (
        "Describe what this workflow does."
    ),
    root: Annotated[Path, typer.Option(help="The project's root folder.")] = Path("."),
) -> None:
    """Create a workflow (typed input/result, one step, its API trigger) and a passing test."""
    if not _NAME.match(name):
        raise typer.BadParameter(
            "use lower-case words joined by '-', e.g. crm-sync", param_hint="NAME"
        )
    if not _DOMAIN.match(domain):
        raise typer.BadParameter(
            "use a lower-case package name, e.g. account", param_hint="--domain"
        )
    if not (root / "src" / "gtm_feedback").is_dir():
        raise typer.BadParameter(f"no src/gtm_feedback under {root}", param_hint="--root")
    snake = name.replace("-", "_")
    camel = "".join(part.capitalize() for part in name.split("-"))
    module, test = _paths(root, domain, snake)
    clash = [str(path) for path in (module, test) if path.exists()]
    if clash:
        raise typer.BadParameter(f"already exists: {', '.join(clash)}", param_hint="NAME")
    fields = {
        "name": name,
        "snake": snake,
        "camel": camel,
        "domain": domain,
        "title": name.replace("-", " ").capitalize(),
        "summary": summary.replace('"', "'").strip().rstrip(".") + ".",
    }
    _init(module.parent, f"The {domain} domain.")
    _init(test.parent, "")
    module.write_text(MODULE.format(**fields), encoding="utf-8")
    test.write_text(TEST.format(**fields), encoding="utf-8")
    console.print(f"Created {module}\nCreated {test}")
    console.print(
        f"Test it:   .venv/bin/pytest {test.relative_to(root)}\n"
        f"Start it:  curl -X POST http://127.0.0.1:8000/api/workflows/{name} "
        "-H 'Content-Type: application/json' -d '{\"message\": \"hello\"}'"
    )
