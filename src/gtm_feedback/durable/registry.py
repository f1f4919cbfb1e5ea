"""The workflow registry: every domain's workflow modules, and what each lets start by name."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

#: Packages that hold no domain: their modules are never workflow modules (``cli.workflows``
#: is the command group that starts workflows, not one of them).
_NOT_DOMAINS = ("gtm_feedback.cli.", "gtm_feedback.durable.", "gtm_feedback.integrations.")


@dataclass(frozen=True)
class Startable:
    """A workflow that can be started by name, and the model its body must validate against.

    A workflow module declares its own in a module-level ``STARTABLE`` (one, or a tuple).
    """

    name: str
    input_type: type[BaseModel]
    workflow: Callable[[Any], Any]
    summary: str
    #: Starts it another way than a plain start: (validated input, idempotency key) -> run id.
    start: Callable[[Any, str | None], str] | None = None
    #: Refuses, before any run starts, an input known to fail (raises InvalidInputError).
    check: Callable[[Any], None] | None = None
    #: The least role that may start it by name: member, approver or admin.
    role: str = "admin"


@cache
def discover_workflow_modules() -> tuple[str, ...]:
    """Every domain's ``workflows`` / ``*_workflows`` module (``gtm_feedback.<domain>.…``)."""
    import gtm_feedback

    names = []
    for info in pkgutil.walk_packages(gtm_feedback.__path__, "gtm_feedback."):
        last = info.name.rsplit(".", 1)[-1]
        in_domain = info.name.count(".") >= 2 and not info.ispkg
        in_domain = in_domain and not info.name.startswith(_NOT_DOMAINS)
        if in_domain and (last == "workflows" or last.endswith("_workflows")):
            names.append(info.name)
    # Walked once per process: the runtime and the workflows API both ask.
    return tuple(sorted(names))


def import_workflow_modules() -> None:
    """Import every workflow module, so DBOS knows each workflow before it launches."""
    for name in discover_workflow_modules():
        importlib.import_module(name)


@cache
def startable() -> dict[str, Startable]:
    """Every workflow startable by name: the ``STARTABLE`` each workflow module declares."""
    found: dict[str, Startable] = {}
    for name in discover_workflow_modules():
        declared = getattr(importlib.import_module(name), "STARTABLE", ())
        for item in declared if isinstance(declared, tuple) else (declared,):
            if isinstance(item, Startable):
                found[item.name] = item
    return found
