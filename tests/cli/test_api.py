"""``zbooks api``: raw calls, pagination, payloads and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.conftest import Login, Runner, Sandbox


def _contacts(cli: Runner) -> list[dict[str, object]]:
    result = cli("api", "GET", "/contacts", "-f", "per_page=200")
    assert result.code == 0, result.err
    envelope = json.loads(result.out)
    assert envelope["code"] == 0
    contacts: list[dict[str, object]] = envelope["contacts"]
    return contacts


def test_paginate_follows_has_more_page_over_three_pages(cli: Runner, logged_in: Login) -> None:
    everything = _contacts(cli)
    total = len(everything)
    per_page = (total + 2) // 3
    assert total > 2 * per_page  # so exactly three pages are needed
    result = cli(
        "--verbose", "api", "GET", "/contacts", "-f", f"per_page={per_page}", "--paginate",
        "--output", "ndjson",
    )  # fmt: skip
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [c["contact_id"] for c in lines] == [c["contact_id"] for c in everything]
    pages = re.findall(r"-> GET /contacts\?(?:\S*&)?page=(\d+)", result.err)
    assert pages == ["1", "2", "3"]
    assert "Zoho-oauthtoken" not in result.err and "1000." not in result.err


def test_paginate_json_is_one_array(cli: Runner, logged_in: Login) -> None:
    result = cli("api", "GET", "/contacts?per_page=4", "--paginate")
    assert result.code == 0, result.err
    assert len(json.loads(result.out)) == len(_contacts(cli))


def test_get_fields_are_query_parameters(cli: Runner, logged_in: Login) -> None:
    result = cli("api", "GET", "/invoices", "-f", "status=paid", "-f", "per_page=200")
    invoices = json.loads(result.out)["invoices"]
    assert invoices and {i["status"] for i in invoices} == {"paid"}


def test_post_with_data_file_and_fields_then_delete(
    cli: Runner, logged_in: Login, tmp_path: Path
) -> None:
    body = tmp_path / "contact.json"
    body.write_text(json.dumps({"contact_name": "CLI Raw Contact", "contact_type": "customer"}))
    created = cli("api", "POST", "/contacts", "--data", f"@{body}", "-f", "website=example.org")
    assert created.code == 0, created.err
    contact = json.loads(created.out)["contact"]
    assert contact["contact_name"] == "CLI Raw Contact"
    assert contact["website"] == "example.org"
    again = cli("api", "POST", "/contacts", "--data", "-", stdin=body.read_text())
    assert again.code == 6  # duplicate name: a validation failure
    assert "already exists" in again.err and again.err.count("\n") == 2
    path = f"/contacts/{contact['contact_id']}"
    assert cli("api", "DELETE", path).code == 0
    gone = cli("api", "GET", path)
    assert gone.code == 3
    assert gone.err.startswith("Error: [HTTP 404 code 1002]")
    assert gone.err.splitlines()[1].startswith("Hint: ")


def test_api_usage_errors(cli: Runner, logged_in: Login) -> None:
    assert cli("api", "FETCH", "/contacts").code == 1
    bad_json = cli("api", "POST", "/contacts", "--data", "{nope")
    assert bad_json.code == 1 and "not valid JSON" in bad_json.err
    assert cli("api", "POST", "/contacts", "--paginate").code == 1
    assert cli("api", "GET", "https://www.zohoapis.com/books/v3/contacts").code == 1
    assert cli("api", "GET", "/contacts", "-f", "novalue").code == 1
    unknown = cli("api", "GET", "/no/such/path")
    assert unknown.code == 3 and "Invalid URL Passed" in unknown.err


def test_api_table_and_csv_show_the_payload(cli: Runner, logged_in: Login) -> None:
    table = cli("api", "GET", "/contacts", "--output", "table")
    assert table.code == 0 and "contact_name" in table.out and "records" in table.out
    csv_out = cli("api", "GET", "/contacts", "--output", "csv").out.splitlines()
    assert csv_out[0].startswith("contact_id,contact_name")
    assert len(csv_out) - 1 == min(200, len(_contacts(cli)))


def test_org_option_overrides_profile(cli: Runner, sandbox: Sandbox, logged_in: Login) -> None:
    result = cli("api", "GET", "/contacts", "--org", "999999")
    assert result.code == 2  # 6041: not one of this user's organizations
    assert "code 6041" in result.err and "999999" in result.err
    assert "`zbooks orgs` lists them" in result.err
