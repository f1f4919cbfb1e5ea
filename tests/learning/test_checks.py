"""The LLM check's pure parts: the question, the feature, the reason, the re-decided tier."""

from __future__ import annotations

from gtm_feedback.feedback.steps import MatchOutcome, with_opinion
from gtm_feedback.learning import checks
from gtm_feedback.learning.agents import CheckAnswer
from gtm_feedback.matching.calibration import Calibration
from gtm_feedback.matching.matcher import MatchConfig, RequestText
from gtm_feedback.matching.tiers import Thresholds, Tier

TITLES = {"fr_a": "Offline mode", "fr_b": "Mobile SSO"}


def match() -> MatchOutcome:
    candidates: list[dict[str, object]] = [
        {"request_id": "fr_a", "title": "Offline mode", "confidence": 0.7, "score": 0.8,
         "margin": 0.05, "linked": 4, "reason": "Similar"},
        {"request_id": "fr_b", "title": "Mobile SSO", "confidence": 0.2, "score": 0.75,
         "margin": -0.05, "linked": 1, "reason": "Less similar"},
    ]  # fmt: skip
    return MatchOutcome(
        tier=Tier.APPROVAL,
        request_id="fr_a",
        confidence=0.7,
        reason="Similar",
        candidates=candidates,
        llm_check=True,
    )


def config(w_llm: float) -> MatchConfig:
    calibration = Calibration("m", -5.5, 7.8, 13.1, 0.11, w_llm)
    return MatchConfig(thresholds=Thresholds(auto=0.98, approval=0.3), calibration=calibration)


def test_the_question_shows_the_best_candidates_with_clipped_examples() -> None:
    texts = {
        f"fr_{n}": RequestText(f"Request {n}", "d" * 2000, {"fb": "word " * 200}) for n in range(5)
    }
    asked = checks.question("pain " * 2000, [f"fr_{n}" for n in range(5)] + ["gone"], texts)
    assert [c.id for c in asked.candidates] == ["fr_0", "fr_1", "fr_2"]
    assert len(asked.pain) <= 4000
    assert all(len(c.description) <= 600 for c in asked.candidates)
    assert all(len(e) <= 300 for c in asked.candidates for e in c.examples)


def test_the_feature_and_the_reason_say_what_the_model_chose() -> None:
    agree = CheckAnswer(request_id="fr_a", confidence=0.8)
    other = CheckAnswer(request_id="fr_b", confidence=0.6)
    none = CheckAnswer(request_id=None, confidence=0.7)
    assert [checks.opinion(a, "fr_a") for a in (agree, other, none)] == [0.8, -0.6, -0.7]
    assert checks.summary(agree, "fr_a", TITLES) == "an AI check agrees (0.80)"
    assert checks.summary(other, "fr_a", TITLES) == "an AI check prefers “Mobile SSO” (0.60)"
    assert checks.summary(none, "fr_a", TITLES) == "an AI check finds no match (0.70)"


def test_only_a_learnt_weight_moves_the_tier_and_never_to_create_new() -> None:
    agree = CheckAnswer(request_id="fr_a", confidence=0.9)
    shipped = with_opinion(match(), agree, config(0.0))
    assert (shipped.tier, shipped.candidates[0]["llm"]) == (Tier.APPROVAL, 0.9)
    assert shipped.confidence is not None
    # The calibration's own confidence: a weight of 0 leaves it where the features put it.
    assert shipped.confidence == config(0.0).calibration.confidence(0.8, 0.05, 4)
    learnt = with_opinion(match(), agree, config(12.0))
    assert learnt.tier == Tier.AUTO
    assert learnt.confidence is not None
    assert learnt.confidence >= 0.98
    dissent = with_opinion(match(), CheckAnswer(request_id=None, confidence=0.9), config(12.0))
    assert dissent.tier == Tier.APPROVAL  # a person still decides; the model never creates
    assert dissent.confidence is not None
    assert dissent.confidence < 0.3
    assert "finds no match" in str(dissent.reason)
