"""``eval-matching``, ``match`` and ``embeddings`` through Typer's runner, with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gtm_feedback.cli import app
from gtm_feedback.config import get_settings

runner = CliRunner()

REQUESTS = """id,title,description
sso,SAML single sign-on,Log in through Okta or Azure AD.
export,Scheduled CSV export,Email a report as a CSV file every week.
offline,Offline mode for the mobile app,Reps without signal lose their notes.
"""
LINKED = """request_id,text
sso,Security will not approve the rollout without SAML single sign-on via Okta.
export,Finance wants the pipeline report emailed as CSV every Monday.
"""
FEEDBACK = """text,expected_request_id
Security won't approve the rollout without SAML single sign-on via Okta.,sso
Finance wants the pipeline report emailed as CSV every Monday morning.,export
The invoice PDF shows the wrong VAT rate for German customers.,
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "requests": write(tmp_path, "r.csv", REQUESTS),
        "linked": write(tmp_path, "l.csv", LINKED),
        "feedback": write(tmp_path, "f.csv", FEEDBACK),
    }


def args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "eval-matching",
        *("--requests", str(files["requests"])),
        *("--feedback", str(files["feedback"])),
        *extra,
    ]


def test_eval_json_has_exactly_the_documented_keys_and_known_answers(
    files: dict[str, Path],
) -> None:
    result = runner.invoke(app, args(files, "--linked", str(files["linked"]), "--json"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report) == [
        "n", "top1", "recall_at_5", "mrr", "auto_precision", "auto_coverage",
        "approval_share", "new_precision", "new_recall", "auroc_new",
    ]  # fmt: skip
    assert report["n"] == 3
    assert report["top1"] == 1.0
    assert report["recall_at_5"] == 1.0
    assert report["mrr"] == 1.0
    assert report["auto_precision"] == 1.0
    assert report["auto_coverage"] == 1.0  # both are near-copies of linked feedback
    assert report["approval_share"] == 0.0
    assert report["new_precision"] == 1.0
    assert report["new_recall"] == 1.0
    assert report["auroc_new"] == 1.0


def test_eval_table_and_thresholds_from_the_command_line(files: dict[str, Path]) -> None:
    result = runner.invoke(app, args(files, "--auto-threshold", "1", "--approval-threshold", "0"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "auto ≥ 1.0, approval ≥ 0.0" in text
    assert "approval_share │ 1.000" in text
    assert "auto_precision │ –" in text  # nothing auto-attached: undefined, not 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("r.csv", "id,name\nsso,SSO\n", "r.csv: missing column(s) title"),
        (
            "f.csv",
            "text,expected_request_id\nhello,nope\n",
            "f.csv line 2: unknown request id 'nope'",
        ),
        ("f.csv", "", "f.csv: the file is empty"),
        ("r.csv", "id,title,description\n", "r.csv: the file has a header but no rows"),
        ("f.csv", "text,expected_request_id\n,sso\n", "f.csv line 2: text is empty"),
        ("l.csv", "request_id,text\nghost,hello\n", "l.csv line 2: unknown request id 'ghost'"),
    ],
)
def test_eval_bad_files_give_clear_errors(
    files: dict[str, Path], name: str, content: str, message: str
) -> None:
    (files["requests"].parent / name).write_text(content, encoding="utf-8")
    result = runner.invoke(app, args(files, "--linked", str(files["linked"]), "--json"))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_eval_refuses_auto_below_approval(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app, args(files, "--auto-threshold", "0.3", "--approval-threshold", "0.6")
    )
    assert result.exit_code == 2
    assert "approval (0.6) <= auto (0.3)" in " ".join(result.output.split())


def test_init_embeds_the_sample_then_match_and_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    init = runner.invoke(app, ["init"])
    assert init.exit_code == 0, init.output
    assert "Embedded 43 request(s) and 168 feedback item(s)." in init.output
    status = runner.invoke(app, ["embeddings", "status"])
    assert "requests: 43 of 43 embedded" in status.output
    assert "pending:  0 request(s), 0 feedback" in status.output
    again = runner.invoke(app, ["embeddings", "sync"])
    assert "Embedded 0 request(s) and 0 feedback item(s)." in again.output
    found = runner.invoke(app, ["match", "--json", "Security needs Okta SAML single sign-on"])
    assert found.exit_code == 0, found.output
    answer = json.loads(found.stdout)
    assert answer["candidates"][0]["title"] == "SAML single sign-on with Okta and Azure AD"
    assert answer["tier"] in {"auto", "approval"}
    empty = runner.invoke(app, ["match", "  "])
    assert empty.exit_code == 2


def test_sample_eval_files_are_written_and_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    assert runner.invoke(app, ["seed"]).exit_code == 0
    sample = tmp_path / "data" / "sample"
    result = runner.invoke(app, [*result_args(sample), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 107
    assert report["auto_precision"] == 1.0
    assert report["top1"] >= 0.7
    fitted = runner.invoke(app, [*result_args(sample), "--fit"])
    assert fitted.exit_code == 0, fitted.output
    line = next(x for x in fitted.output.splitlines() if x.startswith("GTMFB_MATCH_CALIBRATION="))
    monkeypatch.setenv("GTMFB_MATCH_CALIBRATION", line.split("=", 1)[1])
    get_settings.cache_clear()
    refit = json.loads(runner.invoke(app, [*result_args(sample), "--json"]).stdout)
    assert refit["auto_coverage"] > report["auto_coverage"]  # own-data calibration trusts more


def test_learn_from_past_decisions_then_evaluate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GTMFB_MATCH_MIN_DECISIONS", "50")
    get_settings.cache_clear()
    assert runner.invoke(app, ["seed"]).exit_code == 0
    sample = tmp_path / "data" / "sample"
    header, *rows = (sample / "incoming.csv").read_text(encoding="utf-8").splitlines()
    past = write(tmp_path, "past.csv", "\n".join([header, *rows[:60]]) + "\n")
    later = write(tmp_path, "later.csv", "\n".join([header, *rows[60:]]) + "\n")
    base = [*result_args(sample)[:-2], "--feedback", str(later), "--json"]
    before = json.loads(runner.invoke(app, base).stdout)
    learnt = runner.invoke(app, [*base, "--learn-from", str(past)])
    assert learnt.exit_code == 0, learnt.output
    after = json.loads(learnt.stdout)
    assert after["n"] == before["n"] == len(rows) - 60
    assert after["auto_coverage"] >= before["auto_coverage"]
    shown = runner.invoke(app, [*base[:-1], "--learn-from", str(past)])
    assert "Learnt from 48 decisions (12 held back)" in shown.output
    few = write(tmp_path, "few.csv", "\n".join([header, *rows[:10]]) + "\n")
    refused = runner.invoke(app, [*base, "--learn-from", str(few)])
    assert refused.exit_code == 2
    assert "a refit needs 50" in refused.output


def result_args(sample: Path) -> list[str]:
    return [
        "eval-matching",
        *("--requests", str(sample / "requests.csv")),
        *("--linked", str(sample / "linked.csv")),
        *("--feedback", str(sample / "incoming.csv")),
    ]


def test_fit_needs_right_and_wrong_rows_and_no_json(files: dict[str, Path]) -> None:
    all_right = "".join(FEEDBACK.splitlines(keepends=True)[:3])  # header and two matched rows
    files["feedback"].write_text(all_right, encoding="utf-8")
    only_right = runner.invoke(app, args(files, "--linked", str(files["linked"]), "--fit"))
    assert only_right.exit_code == 2
    assert "need rows matched both right and wrong" in only_right.output
    both = runner.invoke(app, args(files, "--fit", "--json"))
    assert both.exit_code == 2


def test_commands_on_an_empty_database_say_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(tmp_path / "empty"))
    get_settings.cache_clear()
    for command in (
        ["match", "SSO"],
        ["embeddings", "status"],
        ["agents", "try", "identity", "a@b.c"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, command
        assert "run `gtm-feedback init`" in " ".join(result.output.split())
    extract = runner.invoke(app, ["agents", "try", "slack-extract", "Hi! Acme needs SSO"])
    assert extract.exit_code == 0


DUPLICATE_REQUESTS = """id,title,description
sso,SAML single sign-on,Log in through Okta or Azure AD.
okta,Okta login,Sign in to the app with our company's Okta single sign-on.
export,Scheduled CSV export,Email a report as a CSV file every week.
csv,Weekly CSV report by email,Send the pipeline report as a CSV attachment each week.
offline,Offline mode for the mobile app,Reps without signal lose their notes.
vat,Wrong VAT on invoices,The invoice PDF shows the wrong VAT rate for German customers.
"""
PAIRS = """request_id,duplicate_of
okta,sso
csv,export
"""


def test_eval_duplicates_finds_planted_pairs(tmp_path: Path) -> None:
    requests = write(tmp_path, "r.csv", DUPLICATE_REQUESTS)
    pairs = write(tmp_path, "p.csv", PAIRS)
    args = ["eval-duplicates", "--requests", str(requests), "--pairs", str(pairs)]
    done = runner.invoke(app, [*args, "--json", "--threshold", "0.6"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert {
        "recall_at_1",
        "recall_at_5",
        "recall_at_10",
        "mrr",
        "suggest_precision",
        "suggest_recall",
    } <= set(report)
    assert (report["recall_at_1"], report["mrr"], report["pairs"]) == (1.0, 1.0, 2)
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "recall_at_10" in table.output
    assert "suggested at ≥ 0.70" in table.output
    bad = write(tmp_path, "bad.csv", "request_id,duplicate_of\nokta,okta\nnope,sso\n")
    refused = runner.invoke(
        app, ["eval-duplicates", "--requests", str(requests), "--pairs", str(bad)]
    )
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert "line 2: a request is not its own duplicate" in said
    assert "line 3: unknown request id 'nope'" in said
