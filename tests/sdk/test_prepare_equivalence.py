"""``prepare`` builds the very request httpx built from ``params=`` and a body.

``prepare`` now hands httpx one whole URL (the query string built by zbooks) and, for a
request without a body, an empty stream with the ``Host`` header httpx would have added
(``zbooks.core.pipeline``: 45 us -> 26 us to build a GET). These
tests build each call both ways, the reference being exactly what ``prepare`` did before
(``httpx2.Request(method, base + quoted path, params=..., headers=..., body...)``), and
compare everything a transport, a hook or a log sees.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

from zbooks.auth.manager import TokenManager
from zbooks.auth.tokens import MemoryStore, Token
from zbooks.core.pipeline import Call, PipelineConfig, prepare

API = "https://www.zohoapis.com/books/v3"
TOKEN = "1000.abc.def"


def _config(api_url: str = API, *, api_domain: str | None = None) -> PipelineConfig:
    tokens = TokenManager(MemoryStore(Token(access_token=TOKEN, api_domain=api_domain)))
    tokens.access_token()  # the pipeline asks for a token before it prepares
    return PipelineConfig(tokens=tokens, api_url=api_url, api_url_explicit=api_domain is None)


def _reference(
    base: str, call: Call, organization_id: str | None, access_token: str
) -> httpx2.Request:
    """``prepare`` as it was: the query as httpx's ``params=``, the body through httpx."""

    def value(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else str(v)

    path = call.path if call.path.startswith("/") else "/" + call.path
    params: dict[str, str] = {}
    for key, v in (call.params or {}).items():
        if v is None:
            continue
        params[key] = ",".join(value(x) for x in v) if isinstance(v, list | tuple) else value(v)
    if organization_id:
        params["organization_id"] = organization_id
    headers = {
        "Authorization": f"Zoho-oauthtoken {access_token}",
        "User-Agent": "zbooks-python/0.1",
        "Accept": "application/pdf" if call.binary else "application/json",
    }
    if call.headers:
        headers.update(call.headers)
    kwargs: dict[str, Any] = {}
    if call.json is not None:
        from zbooks.core import jsonwire

        kwargs["content"] = jsonwire.dumps(call.json).encode()
        headers["Content-Type"] = "application/json"
    elif call.data is not None or call.files is not None:
        kwargs["data"] = dict(call.data or {})
        kwargs["files"] = dict(call.files or {}) or None
    url = base.rstrip("/") + quote(path, safe="/%:@-._~!$&'()*+,;=")
    return httpx2.Request(call.method.upper(), url, params=params, headers=headers, **kwargs)


def _seen(request: httpx2.Request) -> dict[str, Any]:
    """Everything of a request that a transport, an event hook or a log can see."""
    return {
        "method": request.method,
        "url": str(request.url),
        "raw_path": request.url.raw_path,
        "params": list(request.url.params.multi_items()),
        "headers": request.headers.raw,
        "content": request.content,
        "stream": type(request.stream),
        "extensions": request.extensions,
    }


CALLS = [
    Call("GET", "/invoices/460000000012345"),
    Call("GET", "invoices", params={"page": 2, "per_page": 200, "sort_column": "date"}),
    Call("GET", "/invoices", params={"status": None, "filter_by": "Status.All"}),
    Call("GET", "/contacts", params={"contact_name_contains": "Ünïcode & Sons / 50% off"}),
    Call("GET", "/items", params={"name": "a+b c=d&e?f#g", "is_taxable": True, "x": False}),
    Call("GET", "/invoices", params={"invoice_ids": ["1", "2", "3"], "empty": []}),
    Call("GET", "/reports/profit and loss", params={"from_date": "2026-01-01"}),
    Call("GET", "/odd/ü path;v=1/%41?literal#hash"),
    Call("GET", "/invoices/1", params={"print": True}, binary=True),
    Call("GET", "/invoices/1", headers={"X-Custom": "yes", "Accept": "text/csv"}),
    Call("GET", "/invoices/1", headers={"host": "books.example.net"}),
    Call("DELETE", "/invoices/1"),
    Call("HEAD", "/invoices/1"),
    Call("OPTIONS", "/invoices"),
    Call("delete", "/contacts/9", params={"reason": "dup"}),
    Call("POST", "/invoices", json={"customer_id": "1", "line_items": [{"rate": "1.10"}]}),
    Call("POST", "/invoices/1/status/sent"),
    Call("PUT", "/invoices/1", json={"notes": "ünï"}),
    Call("PATCH", "/invoices/1"),
    Call("POST", "/invoices/1/attachment", data={"can_send_in_email": "true"}),
    Call("POST", "/invoices/1/attachment", files={"attachment": ("a.pdf", b"%PDF-1.4")}),
    Call("GET", "/organizations", needs_org=False),
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path}")
@pytest.mark.parametrize("org", ["10234695", None])
def test_prepare_builds_the_request_httpx_built(call: Call, org: str | None) -> None:
    config = _config()
    built = prepare(config, call, org, TOKEN)
    reference = _reference(API, call, org, TOKEN)
    if call.files is not None:  # a multipart boundary is random: compare the rest
        assert built.headers["content-type"].startswith("multipart/form-data; boundary=")
        assert built.url == reference.url and built.method == reference.method
        return
    assert _seen(built) == _seen(reference)


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:8123/books/v3",  # the sandbox: an IP and a port in Host
        "https://www.zohoapis.eu:443/books/v3/",  # the default port, a trailing slash
        "http://[::1]:9000/books/v3",  # IPv6 in brackets
        "https://bücher.example/books/v3",  # IDNA: Host is the punycode form
        "http://localhost:8000/books/v3?debug=1",  # a query in the base: httpx merges it
    ],
)
def test_prepare_matches_httpx_for_other_bases(base: str) -> None:
    config = _config(base)
    for call in (Call("GET", "/invoices/1"), Call("GET", "/items", params={"page": 3})):
        assert _seen(prepare(config, call, "42", TOKEN)) == _seen(
            _reference(base, call, "42", TOKEN)
        )


def test_the_tokens_api_domain_still_picks_the_base_url() -> None:
    config = _config(API, api_domain="https://www.zohoapis.in")
    request = prepare(config, Call("GET", "/invoices/7"), "1", TOKEN)
    assert str(request.url) == "https://www.zohoapis.in/books/v3/invoices/7?organization_id=1"
    assert request.headers["host"] == "www.zohoapis.in"


def test_bodiless_requests_skip_httpx_body_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the bodiless path: a GET or DELETE is not run through httpx's body
    encoding (the old ``prepare`` did that for every request); a write still is."""
    import httpx2._models as models

    encoded: list[object] = []
    encode = models.encode_request

    def counted(*args: Any, **kwargs: Any) -> Any:
        encoded.append(kwargs)
        return encode(*args, **kwargs)

    monkeypatch.setattr(models, "encode_request", counted)
    config = _config()
    prepare(config, Call("GET", "/invoices", params={"page": 2}), "42", TOKEN)
    prepare(config, Call("DELETE", "/invoices/1"), "42", TOKEN)
    assert encoded == []
    prepare(config, Call("POST", "/invoices", json={"customer_id": "1"}), "42", TOKEN)
    assert len(encoded) == 1


def test_a_users_http_client_hooks_see_the_request_and_the_answer() -> None:
    """``http_client=`` with event hooks: both still run, on the request as built."""
    from zbooks import Client

    seen: list[tuple[str, Any]] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"code": 0, "invoice": {"invoice_id": "7"}})

    http = httpx2.Client(
        transport=httpx2.MockTransport(answer),
        event_hooks={
            "request": [lambda r: seen.append(("request", r))],
            "response": [lambda r: seen.append(("response", r.status_code))],
        },
    )
    with (
        http,
        Client(
            access_token=TOKEN, organization_id="42", api_url=API, http_client=http, env={}
        ) as client,
    ):
        assert client.get("/invoices/7", params={"print": True})["invoice"]["invoice_id"] == "7"
    (kind, request), response = seen
    assert kind == "request" and response == ("response", 200)
    assert str(request.url) == f"{API}/invoices/7?print=true&organization_id=42"
    assert request.headers["host"] == "www.zohoapis.com"
    assert request.headers["authorization"] == f"Zoho-oauthtoken {TOKEN}"


def test_debug_log_masks_secret_looking_parameters(caplog: pytest.LogCaptureFixture) -> None:
    from zbooks import Client

    caplog.set_level(logging.DEBUG, logger="zbooks")
    transport = httpx2.MockTransport(lambda r: httpx2.Response(200, json={"code": 0}))
    with Client(
        access_token=TOKEN, organization_id="42", api_url=API, transport=transport, env={}
    ) as client:
        client.get("/settings", params={"client_secret": "hush", "page": 1})
    lines = [record.getMessage() for record in caplog.records]
    assert "-> GET /settings?client_secret=***&page=1&organization_id=42" in lines
    assert not any("hush" in line or TOKEN in line for line in lines)
