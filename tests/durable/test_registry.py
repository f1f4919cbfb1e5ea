"""Every workflow and step DBOS knows has a name of its own."""

from __future__ import annotations

import sys
from collections import defaultdict

from dbos._registrations import get_dbos_func_name

from gtm_feedback.durable.registry import import_workflow_modules

#: Names two steps share on purpose: runs in flight recorded them under this name, and a
#: rename would make DBOS refuse to replay those runs.
SHARED = {"ask_step"}


def test_no_two_dbos_functions_share_a_name() -> None:
    """DBOS keeps one function per name (it warns, then the later one wins): a step called
    outside a run and recovered after a crash would run the other one."""
    import_workflow_modules()  # and with them every module of steps they call
    owners: dict[str, set[str]] = defaultdict(set)
    ours = {name: m for name, m in sys.modules.items() if name.startswith("gtm_feedback.")}
    for module_name, module in ours.items():
        for attribute in list(vars(module).values()):
            name = getattr(attribute, "dbos_function_name", None)
            if callable(attribute) and name and attribute.__module__ == module_name:
                owners[get_dbos_func_name(attribute)].add(module_name)
    assert len(owners) > 20  # every workflow module was read
    shared = {name: sorted(found) for name, found in owners.items() if len(found) > 1}
    assert set(shared) <= SHARED, shared
