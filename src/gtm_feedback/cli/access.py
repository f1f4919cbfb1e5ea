"""``gtm-feedback users …``, ``tokens …`` and ``audit``: people, credentials and the log."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from gtm_feedback.cli.support import cli_settings, console, errors, require_current_schema
from gtm_feedback.config import Settings, parse_duration
from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import AppError
from gtm_feedback.user import audit, passwords, tokens
from gtm_feedback.user import service as users
from gtm_feedback.user.models import Role, User

users_app = typer.Typer(help="People who sign in, and their roles.")
tokens_app = typer.Typer(help="API tokens (Authorization: Bearer) acting as a user.")

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]

#: How the command line appears in the audit log.
CLI_ACTOR = audit.Actor(None, "command line", "cli")

#: The local demo account of the embedded default, and where its password is kept.
DEMO_ADMIN = "demo-admin@example.com"
DEMO_PASSWORD_FILE = "demo-admin-password"


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (then it is printed once)."""
    if not from_stdin:
        return passwords.generate(), True
    given = sys.stdin.readline().rstrip("\r\n")
    if len(given) < passwords.MIN_LENGTH:
        errors.print(f"[red]A password needs at least {passwords.MIN_LENGTH} characters.[/]")
        raise typer.Exit(2)
    return given, False


def _settings() -> Settings:
    settings = cli_settings()
    require_current_schema(settings)
    return settings


def _user(session: Session, email: str) -> User:
    user = users.get_by_email(session=session, email=email)
    if user is None:
        errors.print(f"[red]No user {email}.[/] Add one with `gtm-feedback users add {email}`.")
        raise typer.Exit(1)
    return user


@users_app.command("add")
def add_user(
    email: Annotated[str, typer.Argument(help="Their email; they sign in with it.")],
    role: Annotated[Role, typer.Option(help="What they may do.")] = Role.member,
    name: Annotated[
        str | None, typer.Option(help="Display name (default: from the email).")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a person (or update an existing one's role) with a built-in password."""
    settings = _settings()
    secret, generated = _password(password_stdin)
    with session_scope(settings.app_database_url, write=True) as session:
        user = users.get_or_create(session=session, email=email, name=name)
        users.set_role(session=session, user_id=user.id, role=role)
        users.set_password(session=session, user=user, password=secret)
        audit.record(
            session=session, actor=CLI_ACTOR, action="user.add", target=user.email, detail=role
        )
        address = user.email
    console.print(f"{address} can sign in as {role.value}.")
    if generated:
        console.print("Password (shown once, give it to them privately):")
        print(secret)


@users_app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="Whose password.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Reset a person's password (generated unless given); their sessions end."""
    settings = _settings()
    secret, generated = _password(password_stdin)
    with session_scope(settings.app_database_url, write=True) as session:
        user = _user(session, email)
        users.set_password(session=session, user=user, password=secret)
        audit.record(session=session, actor=CLI_ACTOR, action="user.password", target=user.email)
    if generated:
        console.print("New password (shown once):")
        print(secret)
    else:
        console.print("Password changed.")


@users_app.command("disable")
def disable_user(
    email: Annotated[str, typer.Argument(help="Who leaves.")],
    enable: Annotated[bool, typer.Option("--enable", help="Let them in again.")] = False,
) -> None:
    """Stop a person signing in (sessions end, their tokens stop working), or --enable again."""
    settings = _settings()
    with session_scope(settings.app_database_url, write=True) as session:
        user = _user(session, email)
        user.disabled = not enable
        user.session_version += 1
        action = "user.enable" if enable else "user.disable"
        audit.record(session=session, actor=CLI_ACTOR, action=action, target=user.email)
    console.print(f"{email} {'can sign in again' if enable else 'can no longer sign in'}.")


@users_app.command("list")
def list_users() -> None:
    """Everyone, with role and how they sign in."""
    settings = _settings()
    table = Table("email", "name", "role", "sign-in")
    with session_scope(settings.app_database_url) as session:
        for user in users.everyone(session=session):
            how = "disabled" if user.disabled else "password" if user.password_hash else "-"
            table.add_row(user.email, user.name, user.role, how)
    console.print(table)


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Option("--user", help="The email of the user it acts as.")],
    name: Annotated[str, typer.Option(help="What it is for, e.g. zendesk-sync.")],
    expires: Annotated[
        str, typer.Option(help="Lifetime such as 90d or 12h; 'never' for none.")
    ] = "90d",
) -> None:
    """Create a token and print it once, on its own line."""
    settings = _settings()
    lifetime = None if expires == "never" else timedelta(seconds=parse_duration(expires))
    with session_scope(settings.app_database_url, write=True) as session:
        owner = _user(session, user)
        try:
            issued = tokens.create(session=session, user=owner, name=name, expires_in=lifetime)
        except AppError as exc:
            errors.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
        audit.record(
            session=session, actor=CLI_ACTOR, action="token.create", target=owner.email, detail=name
        )
        role = owner.role
    errors.print(f"Token {name!r} for {user} ({role}); it is not shown again:")
    print(issued.secret)


@tokens_app.command("list")
def list_tokens() -> None:
    """Every token: id, name, user, state, expiry, last use."""
    settings = _settings()
    table = Table("id", "name", "user", "state", "expires", "last used")
    now = utcnow()
    with session_scope(settings.app_database_url) as session:
        for row, owner in tokens.listed(session=session):
            expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "never"
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            table.add_row(row.id, row.name, owner.email, tokens.state(row, now), expires, used)
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[str, typer.Argument(help="The token's id (tok_…).")]) -> None:
    """Revoke a token at once."""
    settings = _settings()
    with session_scope(settings.app_database_url, write=True) as session:
        try:
            row = tokens.revoke(session=session, token_id=token_id)
        except AppError as exc:
            errors.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
        audit.record(session=session, actor=CLI_ACTOR, action="token.revoke", target=row.name)
    console.print(f"Revoked {token_id}.")


def audit_log(
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="How many events.")] = 50,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. signin.failed.")
    ] = None,
) -> None:
    """The audit log, newest first: who did what, when and from where."""
    settings = _settings()
    table = Table("when", "who", "action", "on", "detail", "from")
    with session_scope(settings.app_database_url) as session:
        for event in audit.recent(session=session, limit=limit, action=action):
            when = f"{event.at:%Y-%m-%d %H:%M:%S}"
            table.add_row(when, event.actor, event.action, event.target, event.detail, event.source)
    console.print(table)


def demo_admin(settings: Settings) -> str:
    """How to sign in to the embedded default: its local demo admin, created on first call."""
    kept = settings.data_dir / DEMO_PASSWORD_FILE
    with session_scope(settings.app_database_url, write=True) as session:
        user = users.get_by_email(session=session, email=DEMO_ADMIN)
        if user is None or not kept.exists():
            secret = passwords.generate()
            user = users.get_or_create(session=session, email=DEMO_ADMIN, name="Demo admin")
            users.set_role(session=session, user_id=user.id, role=Role.admin)
            users.set_password(session=session, user=user, password=secret)
            kept.touch(mode=0o600)
            kept.write_text(secret, encoding="utf-8")
        secret = kept.read_text(encoding="utf-8").strip()
        current = passwords.verify(user.password_hash, secret)
    where = f"{settings.base_url}/signin"
    if not current:
        return (
            f"Sign in at {where} as {DEMO_ADMIN} with the password you set "
            f"(or: gtm-feedback users set-password {DEMO_ADMIN})."
        )
    return (
        f"Sign in at {where}\n  email:    {DEMO_ADMIN}\n  password: {secret}\n"
        "  (a local demo admin, on the embedded default only; add real people with\n"
        "  `gtm-feedback users add EMAIL --role ROLE`)"
    )
