"""An LLM's second look at the approval band: which candidate fits, as one more feature.

Asked only when an OpenAI-compatible model is configured and matching would ask a person. The
answer never decides on its own: it enters the calibration as the ``llm`` feature, whose weight
only decisions can give it (the shipped weight is 0), so the auto threshold, placed for the
precision target, stays the judge. Answers are cached by question (the same pain and candidates
are asked once) and stored with the tokens they cost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.ai.runner import AgentRunner
from gtm_feedback.learning.agents import AGENT, VERSION, CheckAnswer, CheckInput, CheckOption
from gtm_feedback.learning.models import MatchCheck
from gtm_feedback.matching.matcher import RequestText
from gtm_feedback.text.markup import clip

#: Candidates shown to the model (the best ones; the rest rarely matter and cost tokens).
CHECKED = 3
#: Linked feedback quoted per candidate, each clipped: examples say more than a title.
_EXAMPLES, _EXAMPLE_CHARS = 3, 300


def enabled(settings: Settings) -> bool:
    """Whether approval-band matches get an LLM check (a model configured, not switched off)."""
    return settings.llm_base_url is not None and settings.match_llm_check


def question(pain: str, ids: Sequence[str], texts: Mapping[str, RequestText]) -> CheckInput:
    """The question for the best ``CHECKED`` of ``ids`` that still exist."""
    options = [
        CheckOption(
            id=i,
            title=texts[i].title,
            description=clip(texts[i].description, 600),
            examples=[
                clip(t, _EXAMPLE_CHARS) for t in list(texts[i].feedback.values())[:_EXAMPLES]
            ],
        )
        for i in ids[:CHECKED]
        if i in texts
    ]
    return CheckInput(pain=clip(pain, 4000), candidates=options)


def opinion(answer: CheckAnswer, best_id: str) -> float:
    """The ``llm`` feature of the best candidate: the model's confidence when it chose it,
    minus that confidence when it chose another candidate or none."""
    return answer.confidence if answer.request_id == best_id else -answer.confidence


def summary(answer: CheckAnswer, best_id: str, titles: Mapping[str, str]) -> str:
    """What the model said, for the reason a person reads in the approvals inbox."""
    sure = f"({answer.confidence:.2f})"
    if answer.request_id == best_id:
        return f"an AI check agrees {sure}"
    chosen = titles.get(answer.request_id or "")
    if chosen is not None:
        return f"an AI check prefers “{chosen}” {sure}"
    return f"an AI check finds no match {sure}"


def _key(model: str, data: CheckInput) -> str:
    text = "\n".join([VERSION, model, data.model_dump_json()])
    return hashlib.sha256(text.encode()).hexdigest()


def ask(settings: Settings, agents: AgentRunner, data: CheckInput) -> CheckAnswer | None:
    """The model's answer (asked once per question, then cached); None when it did not answer."""
    url, model = settings.app_database_url, settings.llm_model
    key = _key(model, data)
    with session_scope(url) as session:
        row = session.scalars(select(MatchCheck).where(MatchCheck.key == key)).first()
        if row is not None:
            return CheckAnswer(
                request_id=row.request_id, confidence=row.confidence, reason=row.reason
            )
    result = agents.run(AGENT, data)
    if result.engine != "llm":
        return None  # a failed call adds nothing; the next match with this question asks again
    answer = result.output
    row = MatchCheck(
        key=key,
        llm_model=model,
        request_id=answer.request_id,
        confidence=answer.confidence,
        reason=answer.reason,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
    )
    try:
        with session_scope(url, write=True) as session:
            session.add(row)
    except IntegrityError:
        pass  # the same question answered at the same moment elsewhere: either answer will do
    return answer


def spent(session: Session, days: int = 30) -> tuple[int, int]:
    """LLM checks asked in the last ``days`` days and the tokens they cost."""
    since = utcnow() - timedelta(days=days)
    tokens = MatchCheck.prompt_tokens + MatchCheck.completion_tokens
    count, total = session.execute(
        select(func.count(MatchCheck.id), func.coalesce(func.sum(tokens), 0)).where(
            MatchCheck.at >= since
        )
    ).one()
    return int(count), int(total)
