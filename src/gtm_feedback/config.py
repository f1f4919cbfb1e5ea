"""Settings from the environment (prefix ``GTMFB_``) and an optional ``.env`` file."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import limits
from croniter import croniter
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gtm_feedback import __version__

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> float:
    """Read seconds from a number or a string such as ``90``, ``5s``, ``30m``, ``1h``, ``2d``."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value).lower())
    if match is None:
        raise ValueError(f"not a duration: {value!r} (use seconds, or 5s / 30m / 1h / 2d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


Duration = Annotated[float, BeforeValidator(parse_duration)]


def parse_coefficients(value: object) -> object:
    """Read ``"-5.3,6.5,12"`` (up to eight numbers, ``Calibration.coefficients``' order) as
    floats (lists and tuples pass through)."""
    if isinstance(value, str):
        return tuple(float(part.strip()) for part in value.split(","))
    return value


def check_coefficients(value: tuple[float, ...]) -> tuple[float, ...]:
    """Three to eight numbers."""
    if not 3 <= len(value) <= 8:
        raise ValueError(
            "expected three to eight numbers 'bias,w_score,w_margin[,w_linked[,w_llm"
            f"[,w_opinion,w_belief,w_lead]]]', got {len(value)}"
        )
    return value


Coefficients = Annotated[
    tuple[float, ...], BeforeValidator(parse_coefficients), AfterValidator(check_coefficients)
]


def check_timezone(value: str) -> str:
    """An IANA time zone name such as ``Europe/Paris`` (``UTC`` by default)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name, e.g. Europe/Paris)"
        ) from exc
    return value


def check_cron(value: str) -> str:
    """A cron expression of 5 fields (or 6, seconds first), or ``off`` for no schedule."""
    value = " ".join(value.split())
    if value.lower() == "off":
        return "off"
    if not croniter.is_valid(value, second_at_beginning=True):
        raise ValueError(f"not a cron expression: {value!r} (e.g. '0 8 * * *' for 08:00 daily)")
    return value


def check_rate(value: str) -> str:
    """A rate such as ``600/minute`` or ``10/second``, or ``off`` for no limit."""
    value = value.strip()
    if value.lower() == "off":
        return "off"
    try:
        limits.parse(value)
    except ValueError as exc:
        raise ValueError(f"not a rate: {value!r} (e.g. '600/minute')") from exc
    return value


def parse_prices(value: str) -> dict[str, tuple[float, float]]:
    """``model=in/out,…`` (US dollars per million prompt / completion tokens) as a dict."""
    prices: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        model, _, pair = part.rpartition("=")
        spent_in, _, spent_out = pair.partition("/")
        try:
            prices[model.strip()] = (float(spent_in), float(spent_out))
        except ValueError:
            raise ValueError(f"not a price: {part!r} (e.g. 'gpt-4o-mini=0.15/0.60')") from None
        if not model.strip() or min(prices[model.strip()]) < 0:
            raise ValueError(f"not a price: {part!r} (e.g. 'gpt-4o-mini=0.15/0.60')")
    return prices


def check_prices(value: str) -> str:
    """A valid ``GTMFB_LLM_PRICES``."""
    parse_prices(value)
    return value


def check_record_url(value: str | None) -> str | None:
    """A CRM record URL template names the account: ``…{account_id}…``."""
    if value is None or not value.strip():
        return None
    if "{account_id}" not in value or not value.startswith(("http://", "https://")):
        raise ValueError(
            "an http(s) URL with {account_id} in it, e.g. https://crm/acc/{account_id}"
        )
    return value.strip()


TimeZone = Annotated[str, AfterValidator(check_timezone)]
Cron = Annotated[str, AfterValidator(check_cron)]
RateText = Annotated[str, AfterValidator(check_rate)]


#: Values a secret setting must not have outside the embedded default (copied examples).
_PLACEHOLDERS = re.compile(
    r"^(|change-?me.*|secret|password|placeholder|todo|x+|\*+|<.*>|your[-_ ].*|\.\.\.)$",
    re.IGNORECASE,
)
_SECRETS = (
    "session_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "llm_api_key",
    "embeddings_api_key",
    "oidc_client_secret",
)


class Settings(BaseSettings):
    """Every setting of the application; see ``.env.example`` for the documentation."""

    model_config = SettingsConfigDict(
        env_prefix="GTMFB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path(".gtmfb")
    database_url: str | None = None
    system_database_url: str | None = None
    executor_id: str | None = None
    worker_name: str = Field(default="1", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    executor_lease: Duration = Field(default=30.0, ge=1, le=3600)
    metrics_dir: Path | None = None
    app_version: str = __version__
    app_name: str = "gtm-feedback"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None
    timezone: TimeZone = "UTC"
    followup_delay: Duration = 3600.0
    approval_timeout: Duration = 7 * 86400.0
    match_auto_threshold: float = Field(default=0.98, ge=0, le=1)
    match_approval_threshold: float = Field(default=0.3, ge=0, le=1)
    match_lexical_weight: float = Field(default=0.2, ge=0, le=1)
    match_calibration: Coefficients | None = None
    match_novelty: Coefficients | None = None
    match_target_precision: float = Field(default=0.98, ge=0.5, le=0.999)
    match_learn: bool = True
    match_llm_check: bool = True  # ask the configured LLM about approval-band matches
    match_second_opinion: bool = True  # train and ask the classifier over the index items
    match_refit_every: int = Field(default=50, ge=1)
    match_min_decisions: int = Field(default=100, ge=10)
    match_refit_cron: Cron = "30 2 * * *"
    vector_search: Literal["auto", "numpy", "pgvector"] = "auto"
    duplicate_threshold: float = Field(default=0.7, ge=-1, le=1)
    duplicate_sweep_cron: Cron = "0 6 * * 1"
    crm_account_url: Annotated[str | None, AfterValidator(check_record_url)] = None
    embeddings_base_url: str | None = None
    embeddings_model: str = "text-embedding-3-small"
    embeddings_api_key: SecretStr | None = None
    embeddings_dimensions: int = Field(default=384, ge=1)
    embeddings_timeout: Duration = 30.0
    embeddings_model_path: Path | None = None
    embeddings_batch_size: int = Field(default=32, ge=1, le=1024)
    embeddings_threads: int | None = Field(default=None, ge=1)
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None
    llm_timeout: Duration = 30.0
    llm_max_retries: int = Field(default=3, ge=0, le=10)
    llm_answer_retries: int = Field(default=2, ge=0, le=5)
    llm_prices: Annotated[str, AfterValidator(check_prices)] = "gpt-4o-mini=0.15/0.60"
    llm_monthly_budget: float | None = Field(default=None, ge=0)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_feedback_reaction: str = "gtm-feedback"
    system_user_email: str = "gtm-feedback-bot@example.com"
    insights_cron: Cron = "0 8 * * *"
    digest_cron: Cron = "0 9 * * 1"
    view_alerts_interval: float = Field(default=10.0, ge=0, le=3600)
    view_digest_cron: Cron = "0 8 * * *"
    run_retention_days: float = Field(default=30.0, ge=0, le=36500)
    run_retention_cron: Cron = "45 3 * * *"
    insights_concurrency: int = Field(default=4, ge=1, le=32)
    insights_theme_similarity: float = Field(default=0.6, ge=0, le=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    intake_concurrency: int = Field(default=8, ge=1, le=1000)
    intake_waiting: int = Field(default=1000, ge=0, le=100_000)
    intake_wait: Duration = 10.0
    intake_rate_limit: RateText = "600/minute"
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    queue_polling_interval: Duration = Field(default=1.0, ge=0.01, le=60)
    queue_idle_polling_interval: Duration = Field(default=5.0, ge=0.01, le=600)
    feedback_polling_interval: Duration = Field(default=0.1, ge=0.005, le=60)
    feedback_direct_starts: int = Field(default=4, ge=0, le=64)
    notification_polling_interval: Duration = Field(default=1.0, ge=0.01, le=60)
    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_max_overflow: int = Field(default=30, ge=0, le=1000)
    db_pool_timeout: Duration = 30.0
    session_secret: SecretStr | None = None
    session_idle_timeout: Duration = 8 * 3600.0
    session_max_age: Duration = 7 * 86400.0
    signin_rate_limit: RateText = "10/minute"
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_name: str = "your identity provider"
    oidc_allowed_domains: str = ""
    oidc_default_role: Literal["viewer", "member", "approver", "admin"] = "viewer"
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    sample_seed: int = 7

    @model_validator(mode="after")
    def _real_secrets(self) -> Settings:
        # On the embedded default an empty secret (a copied .env.example) means "not set";
        # anywhere else an empty or placeholder secret is a mistake that must not start.
        for name in _SECRETS:
            value: SecretStr | None = getattr(self, name)
            if value is None or not _PLACEHOLDERS.match(value.get_secret_value().strip()):
                continue
            if self.embedded and not value.get_secret_value().strip():
                setattr(self, name, None)
                continue
            raise ValueError(f"GTMFB_{name.upper()} is empty or a placeholder: set a real value")
        return self

    def resolved_session_secret(self) -> str:
        """The key signing session cookies: the setting, else one generated on first run and
        kept in the data directory (readable by this user only). Several web servers on
        different machines must share one: set ``GTMFB_SESSION_SECRET``."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        path = self.data_dir / "session_secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Written whole to a private file, then linked into place: a second process
            # starting at the same moment reads the winner's key, never a half-written one.
            draft = self.data_dir / f".session_secret.{os.getpid()}"
            draft.touch(mode=0o600)
            draft.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
            draft.unlink()
        return path.read_text(encoding="utf-8").strip()

    @property
    def app_database_url(self) -> str:
        """The application database; an SQLite file in the data dir unless configured."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'gtm_feedback.sqlite').resolve()}"

    @property
    def dbos_database_url(self) -> str:
        """DBOS's system database: its own SQLite file, or the app's PostgreSQL database."""
        if self.system_database_url:
            return normalise_database_url(self.system_database_url)
        if is_postgres(self.app_database_url):
            return self.app_database_url
        return f"sqlite:///{(self.data_dir / 'dbos_system.sqlite').resolve()}"

    @property
    def resolved_metrics_dir(self) -> Path:
        """Where this host's processes share their metrics (``DATA_DIR/metrics`` by default)."""
        return self.metrics_dir or self.data_dir / "metrics"

    @property
    def embedded(self) -> bool:
        """True on the embedded default: the application database is a local SQLite file."""
        return not is_postgres(self.app_database_url)

    @property
    def oidc_allowed_domain_set(self) -> frozenset[str]:
        """Email domains whose people may sign in with OpenID Connect without an account."""
        parts = self.oidc_allowed_domains.replace(",", " ").split()
        return frozenset(part.strip().lower().lstrip("@") for part in parts)

    @property
    def https(self) -> bool:
        """True when people reach the app over https (cookies Secure, HSTS sent)."""
        return (self.public_url or "").lower().startswith("https://")

    @property
    def slack_api_base(self) -> str:
        """The Slack Web API base URL, ending with a slash as ``WebClient`` expects."""
        return self.slack_api_url.rstrip("/") + "/"

    @property
    def base_url(self) -> str:
        """Where people reach the web app; used for links in messages."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_executor_id(self, role: str) -> str:
        """A per-process executor id that is stable across restarts of the same process slot.

        DBOS recovers PENDING workflows only for the executor id that started them, so a
        server restarted on the same host and port must get the same id back; two processes
        running at once must never share one.
        """
        if self.executor_id:
            return self.executor_id
        host = socket.gethostname()
        if role in ("server", "web"):  # one process per port
            return f"{host}-{self.port}"
        if role == "worker":
            return f"{host}-worker-{self.worker_name}"
        return f"{host}-{role}-{os.getpid()}"


def is_postgres(url: str) -> bool:
    """True for any PostgreSQL URL."""
    return url.startswith(("postgresql", "postgres:"))


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain PostgreSQL URLs (``postgres://`` included)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
