"""Identity: which known user an email belongs to (aliases and name variants), or none."""

from __future__ import annotations

from gtm_feedback.integrations.ai.schemas import AgentModel
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools


class UserOption(AgentModel):
    """A known user."""

    id: str
    email: str
    name: str = ""


class IdentityInput(AgentModel):
    """An email to resolve among the known users."""

    email: str
    users: list[UserOption]


class IdentityMatch(AgentModel):
    """The user the email belongs to, or none."""

    user_id: str | None
    reason: str


VERSION = "identity/1"
INSTRUCTIONS = """
Decide which known user an email address belongs to. The same person may write as
jane.doe@x.com, jane.doe+crm@x.com, janedoe@x.com or jdoe@x.com. Different domains are different
people unless one is plainly an alias of the other. When unsure, or several users fit, answer
user_id null. user_id must be copied from the users given. reason: one short sentence.
"""
_ALIASED_DOMAINS = {"googlemail.com": "gmail.com"}


def _split(email: str) -> tuple[str, str]:
    local, _, domain = email.strip().lower().partition("@")
    domain = _ALIASED_DOMAINS.get(domain, domain)
    return local.split("+", 1)[0], domain


def _name_parts(user: UserOption) -> tuple[str, str] | None:
    local, _ = _split(user.email)
    words = user.name.lower().split() if user.name.strip() else local.split(".")
    words = [w for w in words if w.isalpha()]
    return (words[0], words[-1]) if len(words) >= 2 else None


def _variants(user: UserOption) -> list[tuple[str, set[str]]]:
    local, _ = _split(user.email)
    levels = [("exact address (ignoring +tags and case)", {local})]
    levels.append(("same address without dots", {local.replace(".", "")}))
    parts = _name_parts(user)
    if parts:
        first, last = parts
        names = {f"{first[0]}{last}", f"{first[0]}.{last}", f"{first}{last[0]}", f"{first}.{last}"}
        levels.append(("initial and surname of the same name", names | {f"{first}{last}"}))
    return levels


def offline(data: IdentityInput, _tools: Tools) -> IdentityMatch:
    """Exact, then undotted, then name-variant matches on the same domain; ambiguity is none."""
    local, domain = _split(data.email)
    if not local or not domain:
        return IdentityMatch(user_id=None, reason=f"{data.email!r} is not an email address.")
    same_domain = [u for u in data.users if _split(u.email)[1] == domain]
    for level in range(3):
        found: dict[str, str] = {}
        for user in same_domain:
            variants = _variants(user)
            if level < len(variants):
                reason, forms = variants[level]
                probe = local.replace(".", "") if level == 1 else local
                if probe in forms:
                    found[user.id] = reason
        if len(found) == 1:
            ((user_id, reason),) = found.items()
            return IdentityMatch(user_id=user_id, reason=f"Matched by {reason}.")
        if len(found) > 1:
            return IdentityMatch(user_id=None, reason=f"{len(found)} users fit; not guessing.")
    return IdentityMatch(user_id=None, reason="No known user matches this address.")


def check(data: IdentityInput, output: IdentityMatch) -> None:
    """The user id must be one of the users given."""
    if output.user_id is not None and output.user_id not in {u.id for u in data.users}:
        raise ValueError(f"unknown user id {output.user_id!r}; use a user id from the input")


AGENT = AgentSpec("identity", VERSION, INSTRUCTIONS, IdentityInput, IdentityMatch, offline, check)
