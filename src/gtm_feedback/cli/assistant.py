"""``gtm-feedback mcp``: the MCP server over stdio, for an assistant on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from gtm_feedback.cli.support import cli_settings, errors, require_current_schema


def mcp(
    token: Annotated[
        str,
        typer.Option(
            envvar="GTMFB_MCP_TOKEN",
            help="An API token (gtm-feedback tokens create): the tools act as its user, "
            "with its role.",
        ),
    ],
) -> None:
    """Serve the MCP tools over stdio (search, get and submit feedback, approvals, insights).

    Submitted feedback is queued durably here and processed by `gtm-feedback serve` or a
    worker; nothing but the protocol is written to stdout.
    """
    from gtm_feedback.mcp_server.server import ApiTokens, build_server, principal_of
    from gtm_feedback.runtime import dbos_runtime

    settings = cli_settings()
    require_current_schema(settings)
    access = ApiTokens(settings.app_database_url).verify(token.strip())
    if access is None:
        errors.print("[red]The API token is not valid (unknown, expired or revoked).[/]")
        raise typer.Exit(2)
    with dbos_runtime(settings, "cli"):  # enqueues only: the workers run what it starts
        build_server(settings, as_user=principal_of(access)).run("stdio")
