"""Pure parsing of job-folder names and files (SPEC §2)."""

from __future__ import annotations

import orjson
import pytest

from daemon.sources import jobs_parse as jp


@pytest.mark.parametrize(("pattern", "folder", "glob", "suffix"), [
    ("data/webrelay_out/*.job.json", "data/webrelay_out", "*.job.json", ".job.json"),
    ("data/webrelay_out/*.claimed", "data/webrelay_out", "*.claimed", ".claimed"),
    ("*.result.json", "", "*.result.json", ".result.json"),
    ("q/job-?.json", "q", "job-?.json", ".json"),
    ("q\\win\\*.job", "q/win", "*.job", ".job"),
])
def test_split_pattern(pattern: str, folder: str, glob: str, suffix: str) -> None:
    """A glob splits into a literal folder, a name pattern and the suffix stripped for ids."""
    assert jp.split_pattern("pending", pattern) == jp.Pattern("pending", folder, glob, suffix)


def test_split_pattern_refuses_wildcard_folder() -> None:
    """A wildcard in the folder part is a clear error."""
    with pytest.raises(ValueError, match="literal"):
        jp.split_pattern("claims", "data/*/x/*.claimed")


@pytest.mark.parametrize(("name", "expected"), [
    ("abc.claimed", "abc"),
    ("abc.job.json.claimed", "abc"),
    ("a b <c>.claimed", "a b <c>"),
    (".claimed", ".claimed"),
])
def test_claim_id(name: str, expected: str) -> None:
    """`X.claimed` and `X.job.json.claimed` both claim job `X`."""
    assert jp.claim_id(name, ".claimed", ".job.json") == expected


@pytest.mark.parametrize(("obj", "expected"), [
    ({"job_id": "J1"}, "J1"),
    ({"job_id": 42}, "42"),
    ({"job_id": ""}, "name"),
    ({"job_id": True}, "name"),
    ({"job_id": None}, "name"),
    (None, "name"),
])
def test_result_id(obj: dict | None, expected: str) -> None:
    """The result's job_id field when usable, else its name minus the suffix."""
    assert jp.result_id("name.result.json", obj, "job_id", ".result.json") == expected


@pytest.mark.parametrize(("data", "ok"), [
    (b'{"a": 1}', True), (b"", False), (b'{"a": ', False), (b"[1]", False),
    (b"\x00\x00", False), (b"null", False), (b'"text"', False), (b"\xff\xfe", False),
])
def test_parse_object(data: bytes, ok: bool) -> None:
    """Only a complete JSON object parses; empty, torn, non-object and binary do not."""
    assert (jp.parse_object(data) is not None) is ok


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-01-13T10:00:00Z", 1768298400.0),
    ("2026-01-13T11:00:00+01:00", 1768298400.0),
    (1768298400, 1768298400.0),
    ("garbage", None), (None, None), (True, None),
])
def test_time_field(value: object, expected: float | None) -> None:
    """Timestamps are ISO-8601 (Z or offset) or epoch seconds; anything else is absent."""
    assert jp.time_field({"t": value}, "t") == expected


@pytest.mark.parametrize(("obj", "expected"), [
    ({"pid": 12}, 12), ({"pid": -1}, None), ({"pid": "12"}, None), ({"pid": True}, None),
    (None, None),
])
def test_pid_field(obj: dict | None, expected: int | None) -> None:
    """Only a positive integer pid counts."""
    assert jp.pid_field(obj) == expected


def test_safe_escapes_undecodable_bytes() -> None:
    """A file name with invalid UTF-8 bytes becomes printable text that JSON can carry."""
    name = b"bad\xff<x>.claimed".decode("utf-8", "surrogateescape")
    text = jp.safe(name)
    assert text == "bad\\xff<x>.claimed"
    assert orjson.loads(orjson.dumps(text)) == text


def test_classify_first_match() -> None:
    """A name is classified by the first pattern of its folder that matches."""
    pats = [jp.split_pattern("pending", "o/*.job.json"), jp.split_pattern("claims", "o/*.claimed")]
    assert jp.classify(pats, "o", "x.job.json") == "pending"
    assert jp.classify(pats, "o", "x.job.json.claimed") == "claims"
    assert jp.classify(pats, "o", "x.tmp") is None
    assert jp.classify(pats, "other", "x.claimed") is None
