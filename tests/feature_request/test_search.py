"""Embeddings stored with rows, and the in-memory index kept in step across processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings, search, texts
from gtm_feedback.feature_request.index_state import current_version
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.integrations.embeddings.base import FloatMatrix
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.matching.matcher import MatchConfig
from gtm_feedback.matching.tiers import Tier
from tests import factories

SSO_PAIN = "Security will not approve the rollout without SAML single sign-on via Okta."


def _seed(session: Session) -> tuple[FeatureRequest, FeatureRequest, Account]:
    sso = factories.request(session, "saml-sso", area="Security")
    sso.title, sso.description = "SAML single sign-on", "Log in through Okta or Azure AD."
    export = factories.request(session, "csv-export", area="Reporting")
    export.title, export.description = "Scheduled CSV export", "Email a report as CSV weekly."
    acme = factories.account(session, "acme", "1000")
    session.add(
        Feedback(
            request_id=sso.id, account_id=acme.id, severity=Severity.HIGH, description=SSO_PAIN
        )
    )
    session.flush()
    return sso, export, acme


def _sync(session: Session, embedder: OnnxEmbedder) -> embeddings.Pending:
    todo = embeddings.pending(session=session, model_id=embedder.model_id)
    embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
    embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)
    return todo


def _config(embedder: OnnxEmbedder) -> MatchConfig:
    return search.offline_config(Settings(), embedder.model_id)


def test_sync_embeds_only_missing_or_changed_rows(db_url: str, embedder: OnnxEmbedder) -> None:
    with session_scope(db_url) as session:
        sso, _, _ = _seed(session)
        first = _sync(session, embedder)
        assert (len(first.requests), len(first.feedback)) == (2, 1)
        assert embeddings.pending(session=session, model_id=embedder.model_id).total == 0
        sso.description = "Log in through Okta, Azure AD or Google Workspace."
        session.flush()
        again = embeddings.pending(session=session, model_id=embedder.model_id)
        assert (again.requests, again.feedback) == ([sso.id], [])
        assert embeddings.pending(session=session, model_id="another-model").total == 3
        assert embeddings.coverage(session=session, model_id=embedder.model_id) == (2, 2)


class _WriterDuringEmbedding:
    """An embedder that, while its model "runs", has another thread write and waits for it."""

    def __init__(self, base: OnnxEmbedder, url: str) -> None:
        self._base, self._url, self.wrote = base, url, 0
        self.model_id, self.dimensions = base.model_id, base.dimensions

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        def write() -> None:
            with session_scope(self._url, write=True) as session:
                factories.account(session, f"during-{self.wrote}", "1")

        other = threading.Thread(target=write)
        other.start()
        other.join(timeout=60)  # deadline, not a speed bound: a held turn times out at 30 s
        self.wrote += 0 if other.is_alive() else 1
        return self._base.embed(texts)


def test_a_batch_embeds_before_it_takes_the_write_turn(db_url: str, embedder: OnnxEmbedder) -> None:
    with session_scope(db_url) as session:
        sso, export, _ = _seed(session)
        ids = [sso.id, export.id]
    slow = _WriterDuringEmbedding(embedder, db_url)
    assert embeddings.embed_batch(db_url, slow, "requests", ids) == 2
    assert slow.wrote == 1  # the other writer finished while the model ran
    with session_scope(db_url) as session:
        assert embeddings.pending(session=session, model_id=embedder.model_id).requests == []


def test_find_candidates_uses_request_text_and_linked_feedback(
    db_url: str, embedder: OnnxEmbedder
) -> None:
    with session_scope(db_url) as session:
        sso, export, _ = _seed(session)
        _sync(session, embedder)
    with session_scope(db_url) as session:
        result = search.find_candidates(
            session=session, embedder=embedder, pain=SSO_PAIN, config=_config(embedder)
        )
        assert [c.request_id for c in result.candidates] == [sso.id, export.id]
        assert result.tier is Tier.AUTO
        assert "Close to feedback already on “SAML single sign-on”" in result.candidates[0].reason
        unrelated = search.find_candidates(
            session=session,
            embedder=embedder,
            pain="The invoice PDF shows the wrong VAT rate.",
            config=_config(embedder),
        )
        assert unrelated.tier is Tier.CREATE


def test_index_reloads_only_what_changed(db_url: str, embedder: OnnxEmbedder) -> None:
    search.INDEXES.clear()
    with session_scope(db_url) as session:
        _seed(session)
        _sync(session, embedder)
    config = _config(embedder)

    def find(pain: str) -> list[str]:
        with session_scope(db_url) as session:
            result = search.find_candidates(
                session=session, embedder=embedder, pain=pain, config=config
            )
            return [c.title for c in result.candidates]

    loads, updates = search.INDEXES.loads, search.INDEXES.updates
    find(SSO_PAIN)
    find("weekly csv")
    assert search.INDEXES.loads == loads + 1  # built once, then reused
    with session_scope(db_url) as session:
        version = current_version(session)
        new = factories.request(session, "dark-mode", area="UI")
        new.title = "Dark mode for the web app"
        session.flush()
        assert current_version(session) == version  # no vector yet: nothing to publish
        embeddings.embed_requests(session=session, embedder=embedder, ids=[new.id])
    assert find("a dark theme please")[0] == "Dark mode for the web app"
    # The new request was read on its own (the change log named it), not the whole index.
    assert (search.INDEXES.loads, search.INDEXES.updates) == (loads + 1, updates + 1)
    with session_scope(db_url) as session:
        session.delete(session.get(FeatureRequest, new.id))
    assert "Dark mode for the web app" not in find("a dark theme please")
    assert (search.INDEXES.loads, search.INDEXES.updates) == (loads + 1, updates + 2)


def test_a_request_embedded_by_another_process_is_found(
    sqlite_url: str, embedder: OnnxEmbedder
) -> None:
    with session_scope(sqlite_url) as session:
        _seed(session)
        _sync(session, embedder)
        search.find_candidates(  # warm this process's index
            session=session, embedder=embedder, pain="anything", config=_config(embedder)
        )
    other = textwrap.dedent(
        f"""
        from gtm_feedback.db.session import session_scope
        from gtm_feedback.feature_request import embeddings
        from gtm_feedback.feature_request.models import FeatureRequest
        from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
        with session_scope({sqlite_url!r}) as session:
            row = FeatureRequest(slug="audit-log", title="Audit log of admin changes")
            session.add(row)
            session.flush()
            embeddings.embed_requests(session=session, embedder=OnnxEmbedder(), ids=[row.id])
        """
    )
    subprocess.run([sys.executable, "-c", other], check=True, timeout=120)
    with session_scope(sqlite_url) as session:
        result = search.find_candidates(
            session=session,
            embedder=embedder,
            pain="We need an audit trail of what admins changed.",
            config=_config(embedder),
        )
    assert result.candidates[0].title == "Audit log of admin changes"


def test_reason_quotes_the_closest_feedback_even_when_it_is_old(
    db_url: str, embedder: OnnxEmbedder
) -> None:
    with session_scope(db_url) as session:
        sso, _, acme = _seed(session)  # the SSO pain, written first
        for day in range(1, 56):
            session.add(
                Feedback(
                    request_id=sso.id,
                    account_id=acme.id,
                    severity=Severity.LOW,
                    description=f"Login page question number {day} from the help desk.",
                    created_at=factories.T0.replace(year=2027) + timedelta(days=day),
                )
            )
        session.flush()
        _sync(session, embedder)
        oldest = session.scalars(select(Feedback.id).where(Feedback.description == SSO_PAIN)).one()
        found = texts.request_texts(session=session, ids=[sso.id], feedback_ids=[oldest])
        assert len(found[sso.id].feedback) == 51  # the 50 most recent and the closest one
        result = search.find_candidates(
            session=session, embedder=embedder, pain=SSO_PAIN, config=_config(embedder)
        )
    assert SSO_PAIN[:60] in result.candidates[0].reason


def test_moved_feedback_updates_both_requests_in_place(db_url: str, embedder: OnnxEmbedder) -> None:
    search.INDEXES.clear()
    with session_scope(db_url) as session:
        sso, export, _ = _seed(session)
        _sync(session, embedder)
    model, width = embedder.model_id, embedder.dimensions

    def linked() -> dict[str, int]:
        with session_scope(db_url) as session:
            index = search.INDEXES.get(session, model, width)
            return {e.request_id: len(e.feedback_vectors) for e in index.entries()}

    assert linked() == {sso.id: 1, export.id: 0}
    loads = search.INDEXES.loads
    with session_scope(db_url) as session:
        item = session.execute(select(Feedback).where(Feedback.request_id == sso.id)).scalar_one()
        item.request_id = export.id
    assert linked() == {sso.id: 0, export.id: 1}  # both requests reloaded, nothing else
    assert search.INDEXES.loads == loads
    with session_scope(db_url) as session:  # and the same as a rebuild from the database
        rebuilt = search.load_index(session=session, model_id=model, dimensions=width)
    assert {e.request_id: len(e.feedback_vectors) for e in rebuilt.entries()} == linked()


def test_request_texts_are_read_once_per_version_and_follow_every_edit(
    db_url: str, embedder: OnnxEmbedder
) -> None:
    search.INDEXES.clear()
    with session_scope(db_url) as session:
        sso, _, acme = _seed(session)
        _sync(session, embedder)
    config, model, width = _config(embedder), embedder.model_id, embedder.dimensions

    def find() -> tuple[list[str], list[float | None], int]:
        with session_scope(db_url) as session:
            result = search.find_candidates(
                session=session, embedder=embedder, pain=SSO_PAIN, config=config
            )
            reads = search.INDEXES.current(session, model, width).texts.reads
        return [c.title for c in result.candidates], [c.lexical for c in result.candidates], reads

    def uncached() -> tuple[list[str], list[float | None]]:
        search.INDEXES.clear()
        titles, lexical, _ = find()
        return titles, lexical

    first = find()
    assert first[2] == 1
    assert find() == first  # the second match read no texts
    with session_scope(db_url) as session:  # a title edit: no new vector yet, new texts now
        request = session.get(FeatureRequest, sso.id)
        assert request is not None
        request.title = "SAML and SCIM single sign-on"
    edited = find()
    assert edited[0][0] == "SAML and SCIM single sign-on"
    assert edited[2] == 1  # read again once, for the new version
    assert edited[:2] == uncached()
    with session_scope(db_url) as session:  # linked feedback without a vector yet
        session.add(
            Feedback(
                request_id=sso.id,
                account_id=acme.id,
                severity=Severity.LOW,
                description="Okta SAML SSO is a hard requirement for the security review.",
            )
        )
    linked = find()
    assert linked[1][0] != edited[1][0]  # the new words count in the wording score
    assert linked[:2] == uncached()


def test_set_aside_gives_back_what_the_process_held(db_url: str, embedder: OnnxEmbedder) -> None:
    search.INDEXES.clear()
    with session_scope(db_url) as session:
        _seed(session)
        _sync(session, embedder)
    model, width = embedder.model_id, embedder.dimensions
    with session_scope(db_url) as session:
        search.find_candidates(
            session=session, embedder=embedder, pain=SSO_PAIN, config=_config(embedder)
        )
        held = search.INDEXES.current(session, model, width)
        loads = search.INDEXES.loads
        with search.INDEXES.set_aside(texts_only=True):
            assert search.INDEXES.current(session, model, width).texts is not held.texts
        with search.INDEXES.set_aside():
            assert search.INDEXES.current(session, model, width).index is not held.index
        assert search.INDEXES.loads == loads + 1  # the set-aside block built its own
        assert search.INDEXES.current(session, model, width) is held
