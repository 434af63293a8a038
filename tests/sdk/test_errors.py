"""Every error row of api-facts §4.3/§4.4 and every OAuth error of §1.4 maps to a class."""

from __future__ import annotations

import pytest

from zbooks import errors as e


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, 1, e.ValidationError),
        (400, 4, e.ValidationError),
        (404, 5, e.NotFoundError),
        (400, 6, e.ValidationError),
        (401, 14, e.AuthenticationError),
        (400, 15, e.ValidationError),
        (400, 36, e.ValidationError),
        (400, 38, e.ValidationError),
        (405, 37, e.MethodNotAllowedError),
        (429, 44, e.RateLimitError),
        (429, 45, e.DailyLimitExceededError),
        (401, 57, e.AuthenticationError),
        (500, 1000, e.ServerError),
        (400, 1001, e.DuplicateError),
        (404, 1002, e.NotFoundError),
        (400, 1038, e.ValidationError),
        (429, 1070, e.ConcurrencyLimitError),
        (400, 3062, e.DuplicateError),
        (400, 6024, e.OrganizationError),
        (400, 6041, e.OrganizationError),
        (502, None, e.ServerError),
        (418, 99999, e.ValidationError),
    ],
)
def test_books_codes_map_to_classes(status: int, code: int | None, cls: type) -> None:
    body = {"code": code, "message": "m"} if code is not None else {"message": "m"}
    err = e.api_error_from_response(status=status, body=body, text="", method="GET", path="/x")
    assert type(err) is cls
    assert err.status == status and err.code == code
    assert err.hint, "every API error carries a hint"
    assert isinstance(err, e.ZBooksError)


def test_code_2_on_organization_id_is_an_organization_error() -> None:
    err = e.api_error_from_response(
        status=400,
        body={"code": 2, "message": "Invalid value passed for organization_id"},
        text="",
        method="GET",
        path="/invoices",
    )
    assert isinstance(err, e.OrganizationError)


def test_6024_lists_candidate_organizations_in_the_hint() -> None:
    body = {
        "code": 6024,
        "message": "This user belongs to multiple organizations",
        "error_info": [
            {"organization_id": "111", "name": "Acme", "is_default_org": True},
            {"organization_id": "222", "name": "Beta", "is_default_org": False},
        ],
    }
    err = e.api_error_from_response(status=400, body=body, text="", method="GET", path="/items")
    assert isinstance(err, e.OrganizationError)
    assert [o["organization_id"] for o in err.organizations] == ["111", "222"]
    assert "111 (Acme)" in (err.hint or "") and "222" in str(err)


def test_message_names_method_path_status_and_code() -> None:
    err = e.api_error_from_response(
        status=404,
        body={"code": 1002, "message": "Invoice does not exist."},
        text="",
        method="GET",
        path="/invoices/1",
    )
    text = str(err)
    assert "HTTP 404" in text and "code 1002" in text and "GET /invoices/1" in text
    assert "Invoice does not exist." in text and "Hint:" in text


def test_html_page_gives_status_and_short_excerpt() -> None:
    html = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 5000 + "</body></html>"
    err = e.api_error_from_response(status=502, body=None, text=html, method="GET", path="/a")
    assert isinstance(err, e.ServerError)
    assert "502 Bad Gateway" in str(err)
    assert len(str(err)) < 600
    err404 = e.api_error_from_response(
        status=404, body=None, text="<p>nf</p>", method="GET", path="/"
    )
    assert isinstance(err404, e.UnexpectedResponseError)


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        ({"error": "invalid_code"}, e.InvalidGrantError),
        ({"error": "invalid_client"}, e.InvalidClientError),
        ({"error": "invalid_client_secret"}, e.InvalidClientSecretError),
        ({"error": "invalid_redirect_uri"}, e.RedirectURIMismatchError),
        (
            {
                "error_description": "You have made too many requests continuously. "
                "Please try again after some time.",
                "error": "Access Denied",
                "status": "failure",
            },
            e.OAuthThrottledError,
        ),
        ({"error": "access_denied"}, e.AccessDeniedError),
        ({"error": "missing_org_info"}, e.MissingOrgInfoError),
        ({"error": "invalid_scope"}, e.OAuthError),
        ({"error": "unsupported_grant_type"}, e.OAuthError),
        ({"error": "invalid_request"}, e.OAuthError),
        ({"error": "authorization_pending"}, e.OAuthError),
        ({"error": "slow_down"}, e.OAuthError),
        ({"error": "expired"}, e.OAuthError),
        ({"error": "other_dc", "user_location": "eu"}, e.OAuthError),
    ],
)
def test_oauth_error_strings_map_to_classes(body: dict[str, str], cls: type) -> None:
    err = e.oauth_error_from_body(body, 200)
    assert type(err) is cls
    assert err.error == body["error"] and err.status == 200


def test_invalid_client_hint_mentions_data_centre() -> None:
    err = e.oauth_error_from_body({"error": "invalid_client"}, 200)
    assert "data centre" in (err.hint or "")
