"""The hypercorn shim (fakemaestro.serving) skips h11's per-header validation only for
headers its own stricter check passes: whatever it lets through, h11 would have accepted
unchanged, and everything else still gets h11's verdict."""
from __future__ import annotations

import h11
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fakemaestro import serving

# the bytes around the edges of both rules (controls, separators, DEL, obs-text)
EDGE_BYTES = b"\x00\x01\t\n\r\x0b !\",:;-_aZ9~\x7f\x80\xe9\xff"
header_bytes = st.binary(max_size=6) | st.lists(st.sampled_from(EDGE_BYTES), max_size=6).map(bytes)
headers_lists = st.lists(st.tuples(header_bytes, header_bytes), max_size=5)

PRODUCTION_HEADERS = [
    (b"vary", b"Origin"), (b"access-control-allow-credentials", b"true"),
    (b"access-control-expose-headers", b"X-Correlation-ID"),
    (b"x-trace-id", b"1f380dc4-5f10-40f0-8c68-836f2752d8c9"), (b"x-request-id", b"req 7\tfrom a client"),
    (b"x-ratelimit-limit", b"1000"), (b"x-ratelimit-remaining", b"999"), (b"x-ratelimit-reset", b"1764409200"),
    (b"content-type", b"application/json; charset=utf-8"), (b"content-length", b"449"),
    (b"date", b"Sun, 29 Nov 2026 09:39:39 GMT"), (b"x-empty", b"")]


@pytest.fixture(scope="module")
def shim_response():
    serving.use_node_reason_phrases()
    from hypercorn.protocol import h11 as hypercorn_h11
    return hypercorn_h11.h11.Response


@given(headers_lists)
@example([(b"x-a", b"b c"), (b"x-empty", b""), (b"x-tab", b"a\tb")])
def test_what_the_quick_check_passes_h11_accepts_unchanged(headers):
    if serving._plainly_valid(headers):
        checked = h11.Response(status_code=200, headers=headers)
        assert checked.headers == h11.Response(status_code=200, headers=headers, _parsed=True).headers


def test_productions_headers_take_the_quick_path():
    assert serving._plainly_valid(PRODUCTION_HEADERS)


@pytest.mark.parametrize("headers", [
    [(b"x-reason", b"down\nfor maintenance")], [(b"x-reason", b" padded")], [(b"x-reason", b"tab\t")],
    [(b"retry after", b"3")], [(b"x-ok", b"1"), (b"x\nbad", b"2")]])
def test_headers_the_quick_check_refuses_get_h11s_own_verdict(shim_response, headers):
    assert not serving._plainly_valid(headers)
    with pytest.raises(h11.LocalProtocolError):
        h11.Response(status_code=200, headers=headers)
    with pytest.raises(h11.LocalProtocolError):
        shim_response(status_code=200, headers=headers)


@pytest.mark.parametrize("value", [b"caf\xe9", b"\x7f", b"a\x01b"])
def test_what_only_h11_allows_is_left_to_h11(shim_response, value):
    headers = [(b"x-odd", value)]
    assert not serving._plainly_valid(headers)
    assert shim_response(status_code=200, headers=headers).headers == h11.Response(status_code=200, headers=headers).headers


def test_the_shim_builds_the_same_response_as_h11_with_nodes_reason(shim_response):
    made = shim_response(status_code=404, headers=list(PRODUCTION_HEADERS))
    expected = h11.Response(status_code=404, headers=PRODUCTION_HEADERS, reason=b"Not Found")
    assert (made.status_code, made.reason, made.http_version, made.headers) == \
        (404, b"Not Found", b"1.1", expected.headers)
