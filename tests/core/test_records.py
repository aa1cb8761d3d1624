"""daemon/records.py: the typed alert record and episode, and their edges to loose data."""

from __future__ import annotations

import orjson
import pytest

from daemon.records import AlertRecord, Episode, Figures, episodes

SPEC_KEYS = ["schema", "fingerprint", "status", "code", "severity", "kind", "subject", "message",
             "runbook", "first_seen", "last_seen", "resolved_at", "escalated_from", "system",
             "host", "window_id", "evidence"]


def episode(**over: object) -> Episode:
    base: dict = dict(fingerprint="ab12", status="resolved", code="jobs.stale_claim",
                      severity="CRITICAL", kind="condition", subject="job-7", message="m",
                      runbook="look", first_seen="2026-01-01T00:00:00Z",
                      last_seen="2026-01-01T00:05:00Z", resolved_at="2026-01-01T00:06:00Z",
                      escalated_from="HIGH", system="ledger", host="h1", window_id="w-1",
                      evidence={"job": "job-7"}, silenced=True, silenced_before_fire=False,
                      acked=True, notified_at="2026-01-01T00:01:00Z", since=1.5)
    return Episode(**(base | over))


def test_alert_record_is_the_spec_object():
    """to_dict() is the burnin.alert/1 object with SPEC §4's keys in order."""
    rec = AlertRecord(fingerprint="f", status="firing", code="c", severity="HIGH",
                      kind="event", subject="s", message="m")
    assert list(rec.to_dict()) == SPEC_KEYS and rec.to_dict()["schema"] == "burnin.alert/1"


def test_episode_adds_its_window_flags():
    """An episode's JSON is the record plus silenced, silenced_before_fire, acked, notified_at."""
    assert list(episode().to_dict()) == [*SPEC_KEYS, "silenced", "silenced_before_fire",
                                         "acked", "notified_at"]


def test_episode_round_trips_through_json():
    """What the history stores reads back as the same episode."""
    ep = episode()
    assert Episode.parse(orjson.loads(orjson.dumps(ep.to_dict())), since=1.5) == ep


@pytest.mark.parametrize(("ep", "is_open"), [
    (episode(status="firing"), True), (episode(status="resolved"), False),
    (episode(status="firing", kind="event"), False)])
def test_open_means_a_condition_still_firing(ep, is_open):
    """An event is never open; a condition is while it fires."""
    assert ep.is_open is is_open


@pytest.mark.parametrize("bad", [None, "x", 12, [1]])
def test_parse_refuses_what_is_not_an_object(bad):
    """Not an object: None (the reader skips it)."""
    assert Episode.parse(bad) is None


def test_parse_gives_safe_values_for_damaged_fields():
    """Missing or mistyped fields become text, None or {} — never an exception."""
    ep = Episode.parse({"severity": None, "evidence": [1], "code": 7, "acked": 1})
    assert ep is not None and (ep.severity, ep.code, ep.evidence, ep.kind) == ("", "7", {},
                                                                                "condition")
    assert ep.acked is True and ep.first_seen is None


def test_episodes_skips_unusable_entries():
    """A list from a stored report keeps only its objects."""
    assert [e.code for e in episodes([None, {"code": "a"}, "x", {"code": "b"}])] == ["a", "b"]


@pytest.mark.parametrize("doc", [None, [], "x", {"metrics": [1], "alerts": "x", "daemon": None},
                                 {"alerts": {"open": "x", "counts": 3}, "system": None}])
def test_figures_parse_reads_loose_status_documents_without_raising(doc: object) -> None:
    figures = Figures.parse(doc)
    assert (figures.metrics, figures.counts, figures.daemon, figures.open) == ({}, {}, {}, ())
    assert figures.system == ""


def test_figures_parse_reads_a_status_document() -> None:
    doc = {"system": "ref", "metrics": {"jobs": {"pending": 3}}, "daemon": {"rss_bytes": 7},
           "alerts": {"counts": {"HIGH": 1},
                      "open": [{"code": "jobs.stale_claim", "subject": "a", "severity": "HIGH",
                                "fingerprint": "f"}, "junk"]}}
    figures = Figures.parse(doc)
    assert figures.system == "ref" and figures.metrics == {"jobs": {"pending": 3}}
    assert figures.counts == {"HIGH": 1} and figures.daemon == {"rss_bytes": 7}
    assert [(e.code, e.subject) for e in figures.open] == [("jobs.stale_claim", "a")]
