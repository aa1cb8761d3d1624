"""Report files: the seed 003 template, escaping, self-contained HTML, `burnin report`."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import orjson
import pytest
from markdown_it import MarkdownIt

from daemon.report import ReportError, render
from daemon.report.html import script_json
from daemon.report.markdown import esc

XSS = "<script>alert(1)</script>"


def test_markdown_follows_the_seed_template(finished):
    """final.md has duration, status, metrics, issues with severity and action, recommendation."""
    text = (finished / "final.md").read_text()
    for part in ("**Duration:** 2.00 h", "**Status:** YELLOW (CONDITIONAL)", "## Metrics",
                 "- Lock timeout rate: 0.100 %", "## Issues Found", "   - Severity: HIGH",
                 "   - Action: Fix", "## Recommendation", "- [x] Fix issues first"):
        assert part in text


def test_markdown_escapes_the_job_id(finished):
    """A job id that is a script tag is inert text in final.md: a CommonMark renderer shows
    it as text and makes no HTML of it."""
    text = (finished / "final.md").read_text()
    assert "\\<script>alert(1)\\</script>" in text and "&lt;" not in text
    page = MarkdownIt("commonmark").render(text)
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(("raw", "safe"), [
    ("a|b", "a\\|b"), ("[x](http://e)", "\\[x\\](http://e)"), ("*b*", "\\*b\\*"),
    ("<img src=x>", "\\<img src=x>"), ("two\nlines", "two lines"), ("a&b", "a&b"),
    ("a -> b", "a -> b"), ("&amp; &#60;", "\\&amp; \\&#60;"), ("<http://e>", "\\<http://e>"),
])
def test_esc_table(raw, safe):
    """esc() neutralises HTML, entities, links, emphasis, table pipes and newlines, and leaves
    text that is already inert (`->`, a lone `&`) as it reads."""
    assert esc(raw) == safe


@pytest.mark.parametrize("raw", ["<script>x</script>", "<img src=x onerror=y>", "&lt;b&gt;",
                                 "<http://e.test>", "[a](javascript:b)", "`c`"])
def test_esc_renders_as_the_same_text(raw):
    """Rendered by a CommonMark parser, an escaped string is its own text and no markup."""
    page = MarkdownIt("commonmark").renderInline(esc(raw))
    assert html.unescape(page) == raw and "<" not in page


def test_html_escapes_the_job_id(finished):
    """In final.html the script-tag job id appears escaped, never as markup."""
    text = (finished / "final.html").read_text()
    assert XSS not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_script_json_cannot_close_the_script():
    """Chart data embedded in a script element escapes <, > and &."""
    text = script_json({"s": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert orjson.loads(text) == {"s": "</script><!-- & \u2028"}


def test_html_is_self_contained(finished):
    """final.html loads nothing: no src/href attributes, no URLs but uPlot's credit line."""
    text = (finished / "final.html").read_text()
    assert not re.search(r"""\s(src|href)\s*=""", text)
    assert re.findall(r"https?://[^\s\"')]+", text) == ["https://github.com/leeoniya/uPlot"]


def test_final_json_has_verdict_series_and_alerts(finished):
    """final.json carries the verdict, the time series and the alerts fired."""
    doc = orjson.loads((finished / "final.json").read_bytes())
    assert doc["schema"] == "burnin.report/1" and doc["verdict"]["color"] == "YELLOW"
    assert len(doc["series"]) >= 120 and doc["alerts"][0]["subject"] == XSS


def test_render_a_finished_window_in_each_format(finished):
    """render() gives the stored final report as md, json and html."""
    runtime = finished.parent.parent
    assert render(runtime, None, "md") == (finished / "final.md").read_bytes()
    assert render(runtime, finished.name, "json") == (finished / "final.json").read_bytes()
    assert render(runtime, None, "html").startswith(b"<!DOCTYPE html>")


def test_render_a_running_window_rebuilds_it(running, tmp_path):
    """A running window renders from its state now, with the alerts of its last spot report."""
    doc = orjson.loads(render(tmp_path, None, "json"))
    assert doc["kind"] == "current" and doc["window"]["phase"] == "running"
    assert doc["verdict"]["color"] == "YELLOW"
    assert len(doc["series"]) == 39  # 40 ticks; the open minute is not on disk yet


def test_render_unknown_window_is_a_clear_error(finished):
    """An unknown window id raises ReportError naming it."""
    with pytest.raises(ReportError, match="nope"):
        render(finished.parent.parent, "nope", "md")


def test_render_with_nothing_stored_is_a_clear_error(tmp_path):
    """No window at all raises ReportError."""
    with pytest.raises(ReportError, match="no burn-in window"):
        render(tmp_path, None, "md")


def test_render_bad_format_is_a_clear_error(finished):
    """A format other than md, json, html raises ReportError."""
    with pytest.raises(ReportError, match="format"):
        render(finished.parent.parent, None, "pdf")


def test_corrupt_final_json_falls_back_to_a_rebuild(finished):
    """A damaged final.json does not break `burnin report`: the window is rebuilt."""
    (finished / "final.json").write_text("{broken")
    doc = orjson.loads(render(finished.parent.parent, None, "json"))
    assert doc["window"]["phase"] == "completed" and doc["verdict"]["color"] == "YELLOW"


def test_the_daemon_does_not_load_the_chart_code():
    """Importing the window runner loads neither the HTML renderer nor uPlot."""
    code = ("import sys, daemon.window.lifecycle as m; "
            "print(any(n.startswith('daemon.report.html') for n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_many_alerts_of_one_code_read_as_one_issue(tmp_path):
    """Hundreds of alerts of one code become one issue line with a count and examples."""
    from daemon.records import episodes
    from daemon.report.document import issue_groups, issues

    rows = issues(episodes({"code": "jobs.stale_claim", "severity": "HIGH", "subject": f"j{i}",
                            "message": "stale", "resolved_at": None} for i in range(300)), 1.0)
    groups = issue_groups(rows)
    assert len(groups) == 1 and groups[0]["count"] == 300 and len(groups[0]["subjects"]) == 3


def test_charts_break_where_the_daemon_was_down():
    """A stretch with no points (downtime) gets an empty point so lines do not bridge it."""
    from daemon.report.html import with_gaps

    points = [{"t": 0.0, "p95": 1}, {"t": 60.0, "p95": 1}, {"t": 600.0, "p95": 1}]
    out = with_gaps(points, [{"from": 90.0, "to": 580.0}])
    assert [p.get("p95") for p in out] == [1, 1, None, 1]


def test_charts_do_not_break_between_sparse_points_without_downtime():
    """At a high time scale points are far apart in window time: no break without downtime."""
    from daemon.report.html import with_gaps

    points = [{"t": 0.0, "p95": 1}, {"t": 0.5, "p95": 1}, {"t": 1.0, "p95": 1}]
    assert [p.get("p95") for p in with_gaps(points, [])] == [1, 1, 1]
