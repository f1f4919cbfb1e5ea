"""Run an agent on the configured LLM, validated and retried, falling back to offline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol

import openai
import structlog
from pydantic import ValidationError

from gtm_feedback import metrics
from gtm_feedback.config import Settings, parse_prices
from gtm_feedback.integrations.ai.spec import AgentSpec, In, Out, Tools

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Usage:
    """Tokens spent on one agent run, over all its attempts."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class AgentResult(Generic[Out]):
    """The output and how it was produced."""

    output: Out
    engine: Literal["llm", "offline"]
    prompt_version: str
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    fallback_reason: str | None = None


@dataclass(frozen=True)
class CallRecord:
    """One agent run as the usage ledger keeps it."""

    agent: str
    engine: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    cost_usd: float
    fallback_reason: str | None


class UsageLedger(Protocol):
    """Where agent runs are recorded, and what this month's cost so far."""

    def record(self, call: CallRecord) -> None:
        """Keep one run (must not block on the database)."""
        ...

    def spent_this_month(self) -> float:
        """US dollars spent on LLM calls this calendar month (UTC)."""
        ...

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until what was recorded is kept."""
        ...


class _FallbackError(Exception):
    def __init__(self, reason: str, attempts: int, usage: Usage) -> None:
        super().__init__(reason)
        self.reason, self.attempts, self.usage = reason, attempts, usage


class AgentRunner:
    """Runs agents; with no ``GTMFB_LLM_BASE_URL`` everything runs offline."""

    def __init__(self, settings: Settings, tools: Tools, ledger: UsageLedger | None = None) -> None:
        self._tools = tools
        self._model = settings.llm_model
        self._answer_retries = settings.llm_answer_retries
        self._price = parse_prices(settings.llm_prices).get(settings.llm_model, (0.0, 0.0))
        self._budget = settings.llm_monthly_budget
        self._ledger = ledger
        self._client = (
            openai.OpenAI(
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "-",
                timeout=settings.llm_timeout,
                max_retries=settings.llm_max_retries,  # 429 (Retry-After), 5xx, timeouts
            )
            if settings.llm_base_url
            else None
        )

    @property
    def engine(self) -> Literal["llm", "offline"]:
        """Which engine runs first."""
        return "offline" if self._client is None else "llm"

    def run(self, spec: AgentSpec[In, Out], data: In) -> AgentResult[Out]:
        """The agent's output: from the LLM if configured and it answers validly, else offline."""
        started = time.perf_counter()
        try:
            if self._client is None:
                result = self._offline(spec, data)
            else:
                self._check_budget()
                result = self._llm(self._client, spec, data)
        except _FallbackError as failure:
            log.warning("agent_fallback", agent=spec.name, reason=failure.reason)
            result = self._offline(spec, data, failure)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        metrics.count_agent_run(spec.name, "fallback" if result.fallback_reason else result.engine)
        log.info(
            "agent_run",
            agent=spec.name,
            engine=result.engine,
            prompt_version=spec.version,
            attempts=result.attempts,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            duration_ms=duration_ms,
        )
        self._record(spec.name, result, duration_ms)
        return result

    def flush_usage(self) -> None:
        """Wait until the runs so far are recorded (a process winding down)."""
        if self._ledger is not None:
            self._ledger.flush()

    def cost(self, usage: Usage) -> float:
        """US dollars for ``usage`` on the configured model (``GTMFB_LLM_PRICES``)."""
        per_in, per_out = self._price
        return (usage.prompt_tokens * per_in + usage.completion_tokens * per_out) / 1_000_000

    def _check_budget(self) -> None:
        if self._budget is None or self._ledger is None:
            return
        spent = self._ledger.spent_this_month()
        if spent >= self._budget:
            reason = f"the monthly AI budget of ${self._budget:,.2f} is spent (${spent:,.2f})"
            raise _FallbackError(reason, 0, Usage())

    def _record(self, agent: str, result: AgentResult[Any], duration_ms: float) -> None:
        # Without an LLM there is nothing to account for: every run is offline and free.
        if self._ledger is None or self._client is None:
            return
        call = CallRecord(
            agent=agent,
            engine=result.engine,
            model=self._model,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            duration_ms=duration_ms,
            cost_usd=self.cost(result.usage),
            fallback_reason=result.fallback_reason,
        )
        try:
            self._ledger.record(call)
        except Exception:  # the usage record is bookkeeping: never the agent's failure
            log.exception("agent_usage_not_recorded", agent=agent)

    def _offline(
        self, spec: AgentSpec[In, Out], data: In, failure: _FallbackError | None = None
    ) -> AgentResult[Out]:
        return AgentResult(
            output=spec.offline(data, self._tools),
            engine="offline",
            prompt_version=spec.version,
            attempts=failure.attempts if failure else 0,
            usage=failure.usage if failure else Usage(),
            fallback_reason=failure.reason if failure else None,
        )

    def _llm(self, client: openai.OpenAI, spec: AgentSpec[In, Out], data: In) -> AgentResult[Out]:
        messages: list[Any] = [
            {"role": "system", "content": spec.system_prompt()},
            {"role": "user", "content": spec.user_message(data)},
        ]
        usage, problem = Usage(), ""
        for attempt in range(1, self._answer_retries + 2):
            content, finish, usage = self._complete(client, messages, usage, attempt)
            try:
                if finish == "length":
                    raise ValueError("the answer was cut off (finish_reason=length)")
                output = spec.output_type.model_validate_json(content or "")
                spec.check(data, output)
            except (ValidationError, ValueError) as exc:
                problem = _short(exc)
                messages += [
                    {"role": "assistant", "content": content or ""},
                    {"role": "user", "content": f"Invalid answer: {problem}. Answer again."},
                ]
                continue
            return AgentResult(output, "llm", spec.version, attempt, usage)
        raise _FallbackError(f"no valid answer in {attempt} attempts: {problem}", attempt, usage)

    def _complete(
        self, client: openai.OpenAI, messages: list[Any], usage: Usage, attempt: int
    ) -> tuple[str | None, str | None, Usage]:
        try:
            response = client.chat.completions.create(
                model=self._model,
                messages=messages,
                response_format={"type": "json_object"},
                temperature=0,
            )
        except openai.APIError as exc:
            metrics.count_llm_request(self._model, False, 0, 0)
            raise _FallbackError(f"LLM endpoint failed: {_short(exc)}", attempt, usage) from exc
        reported = response.usage
        metrics.count_llm_request(
            self._model,
            True,
            reported.prompt_tokens if reported else 0,
            reported.completion_tokens if reported else 0,
        )
        if reported is not None:
            log.info(
                "llm_call",
                model=self._model,
                attempt=attempt,
                prompt_tokens=reported.prompt_tokens,
                completion_tokens=reported.completion_tokens,
            )
            usage = Usage(
                usage.prompt_tokens + reported.prompt_tokens,
                usage.completion_tokens + reported.completion_tokens,
            )
        if not response.choices:
            return None, None, usage
        choice = response.choices[0]
        return choice.message.content, choice.finish_reason, usage


def _short(exc: Exception, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
