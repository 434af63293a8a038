"""The Books dispatch pipeline over an in-process ASGI transport: auth, routing, scopes,
organization resolution, body parsing, transactions and rendering."""

from __future__ import annotations

import json

from tests.sandbox.helpers import count_probes, json_of, make_config, running
from zbooks.sandbox.clock import parse_zoho_time
from zbooks.sandbox.errors import NO_AUTH_MESSAGE, NOT_AUTHORIZED_MESSAGE
from zbooks.sandbox.http_books import MULTIPLE_ORGS_MESSAGE, bearer_token

RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


# authentication ---------------------------------------------------------------------


async def test_missing_authorization_is_code_14() -> None:
    async with running() as sbx:
        response = await sbx.client.get("/books/v3/probe", params={"organization_id": sbx.org_id})
    assert response.status_code == 401
    assert json_of(response) == {"code": 14, "message": NO_AUTH_MESSAGE}
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    # No org was resolved, so no rate-limit headers (as in the 2026 probes of 401s).
    assert "x-rate-limit-limit" not in response.headers


async def test_malformed_authorization_headers_are_code_14() -> None:
    async with running() as sbx:
        token = sbx.token()
        for value in ("Zoho-oauthtoken", "Zoho-oauthtoken ", f"Basic {token}", token):
            response = await sbx.client.get(
                "/books/v3/probe",
                params={"organization_id": sbx.org_id},
                headers={"Authorization": value},
            )
            assert response.status_code == 401, value
            assert json_of(response)["code"] == 14, value


async def test_unknown_expired_and_revoked_tokens_are_code_57() -> None:
    async with running(make_config(token_ttl=60)) as sbx:
        unknown = await sbx.books("GET", "/probe", token="1000.deadbeef.cafebabe")
        assert unknown.status_code == 401
        assert json_of(unknown) == {"code": 57, "message": NOT_AUTHORIZED_MESSAGE}

        token = sbx.token()
        assert (await sbx.books("GET", "/probe", token=token)).status_code == 200
        sbx.app.clock.advance(61)
        expired = await sbx.books("GET", "/probe", token=token)
        assert (expired.status_code, json_of(expired)["code"]) == (401, 57)

        revoked = sbx.token()
        assert sbx.app.accounts.revoke(revoked)
        response = await sbx.books("GET", "/probe", token=revoked)
        assert (response.status_code, json_of(response)["code"]) == (401, 57)


async def test_bearer_scheme_follows_config() -> None:
    async with running(make_config(accept_bearer=True)) as sbx:
        response = await sbx.books(
            "GET", "/probe", headers={"Authorization": f"Bearer {sbx.token()}"}
        )
        assert response.status_code == 200
    async with running(make_config(accept_bearer=False)) as sbx:
        response = await sbx.books(
            "GET", "/probe", headers={"Authorization": f"Bearer {sbx.token()}"}
        )
        assert (response.status_code, json_of(response)["code"]) == (401, 14)


def test_bearer_token_parsing_is_case_insensitive_on_the_scheme() -> None:
    assert bearer_token("zoho-oauthtoken abc", accept_bearer=False) == "abc"
    assert bearer_token("  Zoho-oauthtoken   abc  ", accept_bearer=False) == "abc"


# routing and scopes -------------------------------------------------------------------


async def test_unknown_path_is_404_code_5_and_wrong_method_405_code_37() -> None:
    async with running() as sbx:
        missing = await sbx.books("GET", "/nothing/here")
        assert missing.status_code == 404
        assert json_of(missing) == {"code": 5, "message": "Invalid URL Passed"}

        wrong = await sbx.books("PUT", "/probe")
        assert wrong.status_code == 405
        assert json_of(wrong)["code"] == 37

        patch = await sbx.books("PATCH", "/probe/1")
        assert (patch.status_code, json_of(patch)["code"]) == (405, 37)


async def test_trailing_slash_and_path_params() -> None:
    async with running() as sbx:
        response = await sbx.books("GET", "/probe/12345/")
        echo = json_of(response)["echo"]
    assert response.status_code == 200
    assert echo["path"] == "/probe/12345"
    assert echo["path_params"] == {"probe_id": "12345"}


async def test_missing_scope_is_401_code_57() -> None:
    async with running() as sbx:
        read_only = sbx.token("ZohoBooks.contacts.READ")
        assert (await sbx.books("GET", "/probe", token=read_only)).status_code == 200
        denied = await sbx.books("POST", "/probe", token=read_only, json={"a": 1})
        assert denied.status_code == 401
        assert json_of(denied) == {"code": 57, "message": NOT_AUTHORIZED_MESSAGE}
        module_all = sbx.token("ZohoBooks.contacts.ALL")
        created = await sbx.books("POST", "/probe", token=module_all, json={"a": 1})
        assert created.status_code == 201
        other = sbx.token("ZohoBooks.invoices.ALL")
        assert (await sbx.books("GET", "/probe", token=other)).status_code == 401


# organization resolution --------------------------------------------------------------


async def test_single_org_user_falls_back_to_it() -> None:
    async with running() as sbx:
        response = await sbx.books("GET", "/probe", org=False)
        assert response.status_code == 200
        assert json_of(response)["echo"]["org_id"] == sbx.org_id


async def test_org_header_is_a_fallback_for_the_query_parameter() -> None:
    async with running() as sbx:
        second = sbx.app.create_organization(name="Second")["organization_id"]
        response = await sbx.books(
            "GET", "/probe", org=False, headers={"X-com-zoho-books-organizationid": second}
        )
        assert json_of(response)["echo"]["org_id"] == second
        # The query parameter wins over the header.
        response = await sbx.books(
            "GET", "/probe", headers={"X-com-zoho-books-organizationid": second}
        )
        assert json_of(response)["echo"]["org_id"] == sbx.org_id


async def test_missing_org_with_several_orgs_is_6024_with_error_info() -> None:
    async with running() as sbx:
        second = sbx.app.create_organization(name="Second Co")
        response = await sbx.books("GET", "/probe", org=False)
    assert response.status_code == 400
    body = json_of(response)
    assert body["code"] == 6024
    assert body["message"] == MULTIPLE_ORGS_MESSAGE
    assert body["error_info"] == [
        {"organization_id": sbx.org_id, "name": "Zylker Demo", "is_default_org": True},
        {
            "organization_id": second["organization_id"],
            "name": "Second Co",
            "is_default_org": False,
        },
    ]


async def test_non_numeric_org_is_code_2_and_foreign_org_is_6041() -> None:
    async with running() as sbx:
        bad = await sbx.books("GET", "/probe", params={"organization_id": "abc"})
        assert bad.status_code == 400
        assert json_of(bad) == {"code": 2, "message": "Invalid value passed for organization_id"}

        stranger = sbx.app.accounts.ensure_user("other@example.com", "Other")
        foreign = sbx.app.create_organization(name="Not yours", user_id=stranger)
        foreign_id = foreign["organization_id"]
        response = await sbx.books("GET", "/probe", params={"organization_id": foreign_id})
        assert response.status_code == 400
        assert json_of(response) == {
            "code": 6041,
            "message": f"This user is not associated with the CompanyID/CompanyName:{foreign_id}.",
        }
        nonexistent = await sbx.books("GET", "/probe", params={"organization_id": "123456"})
        assert json_of(nonexistent)["code"] == 6041


async def test_org_bound_token_is_limited_to_its_org() -> None:
    async with running() as sbx:
        second = sbx.app.create_organization(name="Second")["organization_id"]
        bound = sbx.token(org_id=second)
        # Without organization_id the bound org is used, even though the user has two orgs.
        implicit = await sbx.books("GET", "/probe", token=bound, org=False)
        assert json_of(implicit)["echo"]["org_id"] == second
        other = await sbx.books("GET", "/probe", token=bound)  # demo org in the query
        assert other.status_code == 400
        assert json_of(other)["code"] == 6041


async def test_route_without_org_needs_none() -> None:
    async with running() as sbx:
        sbx.app.create_organization(name="Second")
        response = await sbx.books("GET", "/orgless", org=False)
        echo = json_of(response)["echo"]
    assert response.status_code == 200
    assert echo["org_id"] == ""
    assert echo["user_id"] == sbx.app.demo.user_id
    # Org-less calls still report the limits of the user's default organization.
    assert all(h in response.headers for h in RATE_HEADERS)


# bodies ---------------------------------------------------------------------------------


async def test_json_body_reaches_the_handler() -> None:
    async with running() as sbx:
        response = await sbx.books("POST", "/probe/echo", json={"name": "Ünïcode", "n": 1.5})
    assert json_of(response)["echo"]["body"] == {"name": "Ünïcode", "n": 1.5}


async def test_json_string_form_field() -> None:
    payload = {"customer_id": "1", "line_items": [{"rate": 10}]}
    async with running() as sbx:
        response = await sbx.books(
            "POST", "/probe/echo", data={"JSONString": json.dumps(payload), "other": "x"}
        )
        assert response.status_code == 200
        assert json_of(response)["echo"]["body"] == payload


async def test_multipart_json_string_and_files() -> None:
    async with running() as sbx:
        response = await sbx.books(
            "POST",
            "/probe/echo",
            data={"JSONString": json.dumps({"a": 1})},
            files={"attachment": ("receipt.txt", b"file-bytes", "text/plain")},
        )
    echo = json_of(response)["echo"]
    assert echo["body"] == {"a": 1}
    assert echo["files"] == {"attachment": "file-bytes"}


async def test_bad_or_empty_json_string_is_code_4() -> None:
    async with running() as sbx:
        for value in ("{not json", "", "[1, 2]", '"double-encoded"'):
            response = await sbx.books("POST", "/probe", data={"JSONString": value})
            assert response.status_code == 400, value
            assert json_of(response) == {
                "code": 4,
                "message": "Invalid value passed for JSONString",
            }, value
        assert count_probes(sbx.app) == 0


async def test_broken_json_body_is_code_1038() -> None:
    async with running() as sbx:
        response = await sbx.books(
            "POST",
            "/probe",
            content=b'{"name": "x",',
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert json_of(response) == {"code": 1038, "message": "JSON is not well formed"}
        # Errors after organization resolution still carry the rate-limit headers.
        assert all(h in response.headers for h in RATE_HEADERS)


async def test_query_values_are_decoded_and_plus_as_space_still_parses() -> None:
    async with running() as sbx:
        # An unencoded "+" in the offset arrives as a space after URL decoding.
        url = (
            f"/books/v3/probe?organization_id={sbx.org_id}"
            "&last_modified_time=2026-11-18T02:02:51+0530&search_text=caf%C3%A9%20bar"
        )
        response = await sbx.client.get(url, headers=sbx.auth())
    query = json_of(response)["echo"]["query"]
    assert query["search_text"] == "café bar"
    assert query["last_modified_time"] == "2026-11-18T02:02:51 0530"
    parsed = parse_zoho_time(query["last_modified_time"])
    assert parsed.utcoffset() is not None
    assert parsed.utcoffset().total_seconds() == 5.5 * 3600  # type: ignore[union-attr]


# transactions and rendering ----------------------------------------------------------------


async def test_write_is_committed_and_returned_with_201() -> None:
    async with running() as sbx:
        response = await sbx.books("POST", "/probe", json={"name": "kept"})
        assert response.status_code == 201
        body = json_of(response)
        assert body["code"] == 0
        assert body["probe"]["name"] == "kept"
        assert count_probes(sbx.app) == 1


async def test_rejected_write_rolls_back_whole_transaction() -> None:
    async with running() as sbx:
        response = await sbx.books("POST", "/probe/reject", json={})
        assert response.status_code == 400
        assert json_of(response) == {"code": 4, "message": "Rejected after writing."}
        assert count_probes(sbx.app) == 0


async def test_unexpected_exception_is_500_code_1000_and_rolls_back() -> None:
    async with running() as sbx:
        response = await sbx.books("POST", "/probe/crash", json={})
        assert response.status_code == 500
        assert json_of(response) == {"code": 1000, "message": "Internal error"}
        assert count_probes(sbx.app) == 0
        assert all(h in response.headers for h in RATE_HEADERS)


async def test_raw_content_is_passed_through() -> None:
    async with running() as sbx:
        response = await sbx.books("GET", "/probe/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="probe.pdf"'
    assert response.content == b"%PDF-1.4 probe"


async def test_rate_limit_headers_on_success() -> None:
    async with running() as sbx:
        first = await sbx.books("GET", "/probe")
        second = await sbx.books("GET", "/probe")
    assert first.headers["x-rate-limit-limit"] == "10000"
    assert int(first.headers["x-rate-limit-remaining"]) == 9999
    assert int(second.headers["x-rate-limit-remaining"]) == 9998
    assert 0 < int(first.headers["x-rate-limit-reset"]) <= 86400
    assert "retry-after" not in first.headers


async def test_request_log_masks_secrets_and_records_codes() -> None:
    async with running() as sbx:
        await sbx.books("GET", "/probe", params={"refresh_token": "SECRET-1"})
        await sbx.client.post(
            "/oauth/v2/token",
            params={"grant_type": "refresh_token", "client_secret": "SECRET-2"},
        )
        await sbx.client.get("/books/v3/probe")
        entries = sbx.app.requests.recent()
    text = json.dumps(entries)
    assert "SECRET-1" not in text and "SECRET-2" not in text
    books_ok, token_call, unauthenticated = entries[-3:]
    assert books_ok["path"] == "/books/v3/probe"
    assert books_ok["query"]["refresh_token"] == "***"
    assert (books_ok["status"], books_ok["code"], books_ok["org_id"]) == (200, 0, sbx.org_id)
    assert token_call["path"] == "/oauth/v2/token"
    assert token_call["query"]["client_secret"] == "***"
    assert (unauthenticated["status"], unauthenticated["code"]) == (401, 14)
