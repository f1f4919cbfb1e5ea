"""Builds the sample book of business as CSV-shaped rows the importer loads."""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from gtm_feedback.account.models import is_open_stage
from gtm_feedback.sample import names
from gtm_feedback.text.slug import slugify

Row = dict[str, str]
N_ACCOUNTS = 72


@dataclass
class SampleData:
    """Rows per importable kind, plus incoming feedback that is not attached yet."""

    users: list[Row] = field(default_factory=list)
    areas: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    opportunities: list[Row] = field(default_factory=list)
    requests: list[Row] = field(default_factory=list)
    feedback: list[Row] = field(default_factory=list)
    incoming: list[Row] = field(default_factory=list)
    #: Planted duplicate requests: ``request_id`` (the duplicate), ``duplicate_of``.
    duplicates: list[Row] = field(default_factory=list)


def load_catalog() -> dict[str, Any]:
    """The hand-written areas, requests and pains shipped with the package."""
    text = resources.files("gtm_feedback.sample").joinpath("catalog.toml").read_text("utf-8")
    return tomllib.loads(text)


def _rid(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_{rng.getrandbits(64):016x}"


def _arr(rng: random.Random, index: int) -> tuple[Decimal, str]:
    # A real B2B book: a handful of large enterprise logos, a mid-market band, a long tail.
    if index < 6:
        return Decimal(rng.randrange(600_000, 2_400_000, 5_000)), "enterprise"
    if index < 20:
        return Decimal(rng.randrange(90_000, 420_000, 1_000)), "mid-market"
    tail = min(95_000.0, rng.lognormvariate(9.9, 0.7))
    return Decimal(round(tail, -2)).quantize(Decimal("1")), "smb"


def make_users(rng: random.Random) -> list[Row]:
    """GTM people (sellers, CSMs, SEs) and two PM admins, with unique emails."""
    people: list[Row] = []
    pairs = rng.sample([(f, last) for f in names.FIRST_NAMES for last in names.LAST_NAMES], 14)
    for n, (first, last) in enumerate(pairs):
        role = "pm" if n < 2 else ("csm" if n % 3 == 0 else "ae")
        email = f"{first}.{last}@gtm.example".lower()
        people.append({"name": f"{first} {last}", "email": email, "role": role})
    return people


def make_accounts(rng: random.Random) -> list[Row]:
    """72 accounts with ARR spread like a real book (8 are prospects without ARR)."""
    regions = [r for r, _ in names.REGIONS]
    weights = [w for _, w in names.REGIONS]
    combos = rng.sample(
        [(a, b) for a in names.COMPANY_FIRST for b in names.COMPANY_SECOND], N_ACCOUNTS
    )
    rows = []
    for i, (first, second) in enumerate(combos):
        arr, segment = _arr(rng, i)
        prospect = i >= N_ACCOUNTS - 8
        name = f"{first} {second} {rng.choice(names.SUFFIXES)}"
        rows.append(
            {
                "id": f"001{rng.getrandbits(48):012X}",
                "name": name,
                "type": "prospect" if prospect else "customer",
                "region": rng.choices(regions, weights)[0],
                "arr": "0" if prospect else str(arr),
                "is_enterprise": str(segment == "enterprise" or arr >= 300_000).lower(),
                "website": f"https://{slugify(first + ' ' + second)}.example",
                "link": "",
            }
        )
    return rows


def make_opportunities(rng: random.Random, accounts: list[Row], now: datetime) -> list[Row]:
    """An open or recently closed deal on about 40 % of accounts."""
    rows = []
    for account in accounts:
        if rng.random() > 0.4:
            continue
        base = Decimal(account["arr"]) or Decimal(rng.randrange(20_000, 300_000, 1_000))
        kind = "Expansion" if account["type"] == "customer" else "New business"
        rows.append(
            {
                "id": f"006{rng.getrandbits(48):012X}",
                "account_id": account["id"],
                "name": f"{account['name'].split()[0]} {kind} FY27",
                "arr": str((base * Decimal(rng.uniform(0.2, 0.6))).quantize(Decimal("1"))),
                "stage": rng.choice(names.STAGES),
                "close_date": (now + timedelta(days=rng.randint(-60, 150))).date().isoformat(),
            }
        )
    return rows


def make_areas(rng: random.Random, catalog: dict[str, Any]) -> list[Row]:
    """The catalog's product areas with ids and firehose channels."""
    return [
        {
            "id": _rid(rng, "area"),
            "name": area["name"],
            "slug": slugify(area["name"]),
            "description": area["description"],
            "firehose_channel": area["channel"],
        }
        for area in catalog["areas"]
    ]


def _status(rng: random.Random) -> str:
    return rng.choices(["open", "shipped", "deprioritized"], [78, 14, 8])[0]


def make_requests(
    rng: random.Random, catalog: dict[str, Any], areas: list[Row], users: list[Row], now: datetime
) -> list[Row]:
    """The catalog's requests; some span a second area, some are shipped or deprioritized."""
    slug_of = {area["name"]: area["slug"] for area in areas}
    rows = []
    for spec in catalog["requests"]:
        area_slugs = [slug_of[spec["area"]]]
        if rng.random() < 0.15:
            area_slugs.append(rng.choice([a["slug"] for a in areas if a["slug"] != area_slugs[0]]))
        rows.append(
            {
                "id": _rid(rng, "fr"),
                "title": spec["title"],
                "description": spec["description"],
                "status": _status(rng),
                "areas": ";".join(area_slugs),
                "slug": slugify(spec["title"]),
                "tracker_url": "",
                "creator_email": rng.choice(users)["email"],
                "created_at": (now - timedelta(days=rng.randint(40, 400))).isoformat(),
            }
        )
    return rows


def _severity(rng: random.Random, enterprise: bool) -> str:
    # Large customers escalate harder; the tail mostly asks nicely.
    weights = [15, 40, 45] if enterprise else [35, 45, 20]
    return rng.choices(["low", "medium", "high"], weights)[0]


def make_feedback(
    rng: random.Random,
    catalog: dict[str, Any],
    requests: list[Row],
    accounts: list[Row],
    users: list[Row],
    now: datetime,
) -> list[Row]:
    """1-9 pieces of feedback per request (popular ones more), mostly from distinct accounts."""
    sellers = [u for u in users if u["role"] != "pm"]
    rows = []
    for spec, request in zip(catalog["requests"], requests, strict=True):
        count = min(9, 1 + int(rng.paretovariate(0.8)))
        for _ in range(count):
            account = rng.choice(accounts)
            rows.append(
                {
                    "id": _rid(rng, "fb"),
                    "request_id": request["id"],
                    "account_id": account["id"],
                    "opportunity_id": "",
                    "severity": _severity(rng, account["is_enterprise"] == "true"),
                    "description": rng.choice(names.CONTEXTS) + rng.choice(spec["pains"]),
                    "links": "",
                    "creator_email": rng.choice(sellers)["email"],
                    "source": rng.choice(["ui", "ui", "slack", "api"]),
                    "created_at": (now - timedelta(days=rng.randint(1, 39))).isoformat(),
                }
            )
    return rows


def make_incoming(
    rng: random.Random,
    catalog: dict[str, Any],
    requests: list[Row],
    accounts: list[Row],
    users: list[Row],
) -> list[Row]:
    """Feedback still to be matched: close rephrasings, looser ones, and brand-new pains."""
    items: list[tuple[str, str, str]] = []
    for spec, request in zip(catalog["requests"], requests, strict=True):
        close, loose = spec["incoming"]
        items += [(close, request["id"], "auto"), (loose, request["id"], "approval")]
    items += [(pain, "", "create") for pain in catalog["unmatched"]["pains"]]
    rng.shuffle(items)
    return [
        {
            "text": text,
            "expected_request_id": request_id,
            "expected_tier": tier,
            "severity": _severity(rng, False),
            "account_id": rng.choice(accounts)["id"],
            "submitter_email": rng.choice(users)["email"],
        }
        for text, request_id, tier in items
    ]


def generate(seed: int, now: datetime) -> SampleData:
    """The whole sample dataset; the same ``seed`` and ``now`` always give the same rows."""
    rng = random.Random(seed)
    catalog = load_catalog()
    data = SampleData(users=make_users(rng), accounts=make_accounts(rng))
    data.areas = make_areas(rng, catalog)
    data.opportunities = make_opportunities(rng, data.accounts, now)
    data.requests = make_requests(rng, catalog, data.areas, data.users, now)
    data.feedback = make_feedback(rng, catalog, data.requests, data.accounts, data.users, now)
    data.incoming = make_incoming(rng, catalog, data.requests, data.accounts, data.users)
    # Their own random streams: the rows above stay what they were before these existed.
    plant_duplicates(random.Random(f"{seed}-duplicates"), catalog, data, now)
    assign_owners(random.Random(f"{seed}-owners"), data)
    link_deals(random.Random(f"{seed}-deals"), data)
    return data


def link_deals(rng: random.Random, data: SampleData) -> None:
    """Six in ten feedback items of an account with a deal name it; nearly half of those on an
    open deal say they block it (a closed deal cannot be blocked)."""
    deals: dict[str, list[Row]] = {}
    for deal in data.opportunities:
        deals.setdefault(deal["account_id"], []).append(deal)
    for row in data.feedback:
        named = rng.choice(deals[row["account_id"]]) if row["account_id"] in deals else None
        if named is None or rng.random() >= 0.6:
            row["blocks_deal"] = "false"
            continue
        row["opportunity_id"] = named["id"]
        still_open = is_open_stage(named["stage"])
        row["blocks_deal"] = str(still_open and rng.random() < 0.45).lower()


def assign_owners(rng: random.Random, data: SampleData) -> None:
    """Each customer has an AE or CSM as its owner in the CRM; prospects have none yet."""
    sellers = [user["email"] for user in data.users if user["role"] != "pm"]
    for account in data.accounts:
        customer = account["type"] == "customer"
        account["owner_email"] = rng.choice(sellers) if customer else ""


def plant_duplicates(
    rng: random.Random, catalog: dict[str, Any], data: SampleData, now: datetime
) -> None:
    """Add the catalog's duplicate requests, each with its own feedback, to ``data``."""
    by_title = {row["title"]: row for row in data.requests}
    for spec in catalog.get("duplicates", []):
        original = by_title[spec["of"]]
        request = {
            **original,
            "id": _rid(rng, "fr"),
            "title": spec["title"],
            "description": spec["description"],
            "status": "open",
            "slug": slugify(spec["title"]),
            "created_at": (now - timedelta(days=rng.randint(20, 60))).isoformat(),
        }
        data.requests.append(request)
        own = make_feedback(rng, {"requests": [spec]}, [request], data.accounts, data.users, now)
        data.feedback += own
        data.duplicates.append({"request_id": request["id"], "duplicate_of": original["id"]})
