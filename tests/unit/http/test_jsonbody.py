"""vidsvc/http/jsonbody.py: what every JSON body is refused for, naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vidsvc.errors import VidsvcError
from vidsvc.http.jsonbody import (
    MAX_JSON_DEPTH,
    MAX_NUMBER_CHARS,
    THREAD_BODY_BYTES,
    parse_body,
    read_body,
)


def refusal(raw: bytes) -> VidsvcError:
    with pytest.raises(VidsvcError) as caught:
        parse_body(raw)
    assert caught.value.http_status == 400
    return caught.value


def nested(depth: int) -> Any:
    """{"a": ...} `depth` objects deep (the outermost counts), ending in an empty list."""
    node: Any = []
    for _ in range(depth - 1):
        node = {"a": node}
    return node


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (b'{"clips": [{"url": "\\ud800"}]}', "clips[0].url", "unpaired surrogate (U+D800)"),
        (b'{"clips": [{"url": "x\\udfffy"}]}', "clips[0].url", "unpaired surrogate (U+DFFF)"),
        (b'{"user_id": "\\ude00\\ud83d"}', "user_id", "unpaired surrogate (U+DE00)"),
        (b'{"clips": [{"url": "a\\u0000b"}]}', "clips[0].url", "NUL character (U+0000)"),
        (b'{"clips": [{"\\ud800x": 1}]}', "clips[0].\\ud800x", "a key must not contain"),
        (b'{"a\\u0000": 1}', "a\\u0000", "a key must not contain a NUL"),
        (b'{"n": NaN}', "n", "NaN is not a JSON number"),
        (b'{"n": [1, -Infinity]}', "n[1]", "-Infinity is not a JSON number"),
        (b'{"n": 1e999}', "n", "too large for a double"),
        (b'{"n": ' + b"9" * 5000 + b"}", "n", "MAX_NUMBER_CHARS"),
        (b'{"n": 0.' + b"1" * MAX_NUMBER_CHARS + b"}", "n", "MAX_NUMBER_CHARS"),
        (b"[" * 10_000 + b"]" * 10_000, "body", "MAX_JSON_DEPTH"),
        (b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "body", "MAX_JSON_DEPTH"),
        (b"[]", "body", "must be a JSON object"),
        # json.loads decodes bytes with "surrogatepass": raw UTF-8 of U+D800 is a str surrogate
        (b'{"a": "\xed\xa0\x80"}', "a", "unpaired surrogate (U+D800)"),
        (b"{", "body", "not valid JSON"),
    ],
)
def test_refused_naming_the_field(raw: bytes, field: str, words: str) -> None:
    err = refusal(raw)
    assert err.details == {"field": field}
    assert err.message.startswith(f"{field}: ") and words in err.message, err.message


def test_depth_is_counted_to_the_limit_and_named() -> None:
    assert parse_body(json.dumps(nested(MAX_JSON_DEPTH)).encode())
    err = refusal(json.dumps(nested(MAX_JSON_DEPTH + 1)).encode())
    assert err.details["field"] == ".".join(["a"] * MAX_JSON_DEPTH)
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in err.message


def test_the_outermost_problem_is_named_then_the_earliest() -> None:
    assert refusal(b'{"a": [{"b": "\\u0000"}], "c": "\\ud800"}').details["field"] == "c"
    raw = b'{"a": [1, "ok", {"b": "\\u0000"}], "c": [{"d": NaN}]}'
    assert refusal(raw).details["field"] == "a[2].b"


def test_good_documents_are_unchanged() -> None:
    document = {
        "clips": [{"url": "s3://b/k.mp4", "trim_start": 0.5, "volume": 1}],
        "emoji": "\U0001f600",
        "big": 2**63,
        "small": -1.2345678901234567e-308,
        "nothing": None,
        "flags": [True, False],
        "text": "é ü 中文 \u2028",
    }
    raw = json.dumps(document).encode()  # ensure_ascii: "\ud83d\ude00" pairs on the way in
    assert parse_body(raw) == json.loads(raw)
    assert parse_body(b'{"e": "\\ud83d\\ude00"}') == {"e": "\U0001f600"}
    assert parse_body('{"u": "中文"}'.encode("utf-16")) == {"u": "中文"}


def test_a_long_key_is_shortened_in_the_path() -> None:
    err = refusal(json.dumps({"k" * 5000: {"x": "\u0000"}}).encode())
    assert err.details["field"] == "k" * 64 + ".x"


BAD = "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("document", "field", "code"),
    [
        ({"clips": [{"url": "\ud800"}]}, "clips[0].url", "INVALID_CLIP_FORMAT"),  # B3
        ({"audio": {"music_url": "a\x00"}}, "audio.music_url", "INVALID_CLIP_FORMAT"),
        ({"fonts": [{"url": "\udc00"}]}, "fonts[0].url", "INVALID_CLIP_FORMAT"),
        ({"clips": ["s3://b/\x00.mp4"]}, "clips[0]", "INVALID_CLIP_FORMAT"),  # process-clips
        ({"overlays": [{"content": "\ud800"}]}, "overlays[0].content", "INVALID_TIMELINE"),  # B9
        ({"callback_url": "\ud800"}, "callback_url", "VALIDATION_ERROR"),  # not media
        ({"user_id": "\x00"}, "user_id", BAD),
        (
            {"captions": {"cues": [{"text": "\ud800"}]}},
            "captions.cues[0].text",
            "VALIDATION_ERROR",
        ),
        ({"operations": ["\x00"]}, "operations[0]", "VALIDATION_ERROR"),
        ({"url\x00": "x"}, "url\\u0000", "VALIDATION_ERROR"),  # a key: an unknown field
    ],
)
def test_a_string_gets_the_code_the_contract_names_for_its_field(
    document: dict[str, Any], field: str, code: str
) -> None:
    """docs/reliability.md: B1 VALIDATION_ERROR, but B3 (media URLs) and B9 (overlay text) name
    their own codes, which the layers below give every other bad value of those fields."""
    err = refusal(json.dumps(document).encode())
    assert (err.code, err.details["field"]) == (code, field)


async def test_a_large_body_is_read_in_a_thread_with_the_same_refusals() -> None:
    padding = {"pad": "x" * THREAD_BODY_BYTES}
    assert await read_body(json.dumps({**padding, "ok": 1}).encode()) == {**padding, "ok": 1}
    raw = json.dumps({**padding, "clips": [{"url": "\ud800"}]}).encode()
    assert len(raw) > THREAD_BODY_BYTES
    with pytest.raises(VidsvcError) as caught:
        await read_body(raw)
    assert caught.value.details == {"field": "clips[0].url"}
    deep = b'{"pad": "' + b"x" * THREAD_BODY_BYTES + b'", "a": ' + b"[" * 50_000 + b"]" * 50_000
    with pytest.raises(VidsvcError) as caught:
        await read_body(deep + b"}")
    assert caught.value.details == {"field": "body"}
