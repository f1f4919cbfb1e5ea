"""Merging requests: what moves, the tombstone, and an unmerge that leaves every row as it was."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import ConflictError, InvalidInputError, NotFoundError
from gtm_feedback.feature_request import embeddings, merging, search, service
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feature_request.service import RequestQuery
from gtm_feedback.feedback.models import Severity
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.user import service as users
from tests import factories


def _seed(session: Session, embedder: OnnxEmbedder) -> tuple[str, str]:
    """Two requests for one thing: different followers, areas and accounts, one shared."""
    keep = factories.request(session, "saml-sso", area="Security")
    keep.title, keep.description = "SAML single sign-on", "Log in through Okta."
    gone = factories.request(session, "okta-login", area="Identity")
    gone.title, gone.description = "Okta login", "Sign in with our Okta tenant."
    acme, globex, initech = (
        factories.account(session, "acme", "1000"),
        factories.account(session, "globex", "250"),
        factories.account(session, "initech", "40"),
    )
    factories.feedback(session, keep, acme, Severity.HIGH)
    factories.feedback(session, gone, acme, Severity.MEDIUM)  # acme counted once after
    factories.feedback(session, gone, globex, Severity.HIGH)
    factories.feedback(session, gone, initech, Severity.LOW)
    pm = users.get_or_create(session=session, email="pm@gtm.example")
    rep = users.get_or_create(session=session, email="rep@gtm.example")
    service.follow(session=session, request_id=keep.id, user_id=pm.id)
    service.follow(session=session, request_id=gone.id, user_id=pm.id)
    service.follow(session=session, request_id=gone.id, user_id=rep.id)
    session.flush()
    todo = embeddings.pending(session=session, model_id=embedder.model_id)
    embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
    embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)
    return gone.id, keep.id


#: Every table a merge may touch, read whole: an unmerge must give these back unchanged.
_TABLES = ("feature_requests", "feedback", "request_followers", "request_areas")


def _rows(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in _TABLES:
        rows = session.execute(text(f"SELECT * FROM {table}")).all()
        # updated_at moves with any write: what matters is the data.
        columns = list(session.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys())
        kept = [i for i, c in enumerate(columns) if c != "updated_at"]
        out[table] = sorted(tuple(row[i] for i in kept) for row in rows)
    return out


def test_merge_moves_everything_and_unmerge_restores_every_row(
    db_url: str, embedder: OnnxEmbedder
) -> None:
    with session_scope(db_url) as session:
        gone, keep = _seed(session, embedder)
        before = _rows(session)
        plan = merging.plan(session=session, source="okta-login", survivor="saml-sso")
        assert (plan.feedback, plan.followers, plan.areas) == (3, ["rep@gtm.example"], ["Identity"])
        assert (plan.arr_before, plan.arr_after) == (Decimal("1000"), Decimal("1290"))
        record = merging.merge(
            session=session, merge_id="m1", source=gone, survivor=keep, merged_by="pm"
        )
        again = merging.merge(
            session=session, merge_id="m1", source=gone, survivor=keep, merged_by="pm"
        )
        assert again is record  # a retried step: the same merge, nothing moved twice
        survivor = service.get(session=session, request_id=keep)
        tombstone = service.get(session=session, request_id=gone)
        assert survivor is not None
        assert tombstone is not None
        assert service.figures(session=session, request_id=keep).arr == Decimal("1290")
        assert service.figures(session=session, request_id=keep).feedback_count == 4
        assert sorted(u.email for u in survivor.followers) == ["pm@gtm.example", "rep@gtm.example"]
        assert [a.name for a in survivor.areas] == ["Identity", "Security"]
        assert tombstone.merged_into_id == keep
        assert tombstone.embedding is None
        listed, total = service.list_requests(session=session, query=RequestQuery())
        assert [row.request.id for row in listed] == [keep]
        assert total == 1
        assert embeddings.pending(session=session, model_id=embedder.model_id).total == 0
        found = search.find_candidates(
            session=session,
            embedder=embedder,
            pain="Sign in with our Okta tenant.",
            config=search.offline_config(Settings(), embedder.model_id),
        )
        assert [c.request_id for c in found.candidates] == [keep]  # the tombstone is no candidate
        assert merging.live_id(session=session, request_id=gone) == keep
        merging.unmerge(session=session, merge_id="m1", undone_by="pm")
        merging.unmerge(session=session, merge_id="m1", undone_by="pm")  # twice: no change
        session.flush()
        assert _rows(session) == before


def test_merges_refused_with_reasons(db_url: str, embedder: OnnxEmbedder) -> None:
    with session_scope(db_url) as session:
        gone, keep = _seed(session, embedder)
        with pytest.raises(InvalidInputError, match="itself"):
            merging.plan(session=session, source=keep, survivor="saml-sso")
        with pytest.raises(NotFoundError, match="no-such"):
            merging.plan(session=session, source="no-such", survivor=keep)
        merging.merge(session=session, merge_id="m1", source=gone, survivor=keep, merged_by="pm")
        with pytest.raises(ConflictError, match="already merged into 'saml-sso'"):
            merging.plan(session=session, source="okta-login", survivor=keep)
        third = factories.request(session, "sso-everywhere")
        with pytest.raises(ConflictError, match="already merged"):
            merging.plan(session=session, source=third.id, survivor="okta-login")
        merging.merge(
            session=session, merge_id="m2", source=keep, survivor=third.id, merged_by="pm"
        )
        # A chain: the first tombstone now leads two hops on.
        assert merging.live_id(session=session, request_id=gone) == third.id
        with pytest.raises(ConflictError, match="undo that merge first"):
            merging.unmerge(session=session, merge_id="m1", undone_by="pm")
        merging.unmerge(session=session, merge_id="m2", undone_by="pm")
        merging.unmerge(session=session, merge_id="m1", undone_by="pm")
        rows = session.scalars(
            select(FeatureRequest).where(FeatureRequest.merged_into_id.is_not(None))
        )
        assert list(rows) == []
        with pytest.raises(NotFoundError):
            merging.unmerge(session=session, merge_id="m9", undone_by="pm")
