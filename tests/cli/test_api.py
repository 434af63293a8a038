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
    refused = cli("api", "DELETE", path)
    assert refused.code == 1 and "pass --yes" in refused.err
    assert cli("api", "DELETE", path, "--yes").code == 0
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


# --------------------------------------------------------------- issue #12, point 4


def test_jq_filters_the_answer(cli: Runner, logged_in: Login) -> None:
    listed = json.loads(cli("api", "GET", "/contacts", "-f", "per_page=3").out)
    names = [c["contact_name"] for c in listed["contacts"]]
    result = cli("api", "/contacts", "-f", "per_page=3", "--jq", ".contacts[].contact_name")
    assert result.code == 0, result.err
    assert result.out.splitlines() == names  # strings without quotes, one per line
    counted = cli("api", "/contacts", "-f", "per_page=3", "--jq", "{n: (.contacts | length)}")
    assert json.loads(counted.out) == {"n": 3}
    each = cli("api", "/contacts", "--paginate", "-f", "per_page=2", "--jq", ".contact_id")
    assert len(each.out.splitlines()) >= 3
    bad = cli("api", "/contacts", "--jq", ".contacts[")
    assert bad.code == 1 and "Invalid --jq expression" in bad.err


def test_include_prints_status_and_rate_limit_headers(cli: Runner, logged_in: Login) -> None:
    result = cli("api", "/contacts", "-f", "per_page=1", "-i")
    assert result.code == 0, result.err
    head, _, body = result.out.partition("\n\n")
    lines = head.splitlines()
    assert lines[0].startswith("HTTP/1.1 200")
    names = {line.split(":", 1)[0] for line in lines[1:]}
    assert {"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining"} <= names
    assert json.loads(body)["code"] == 0
    missing = cli("api", "/contacts/1", "--include")
    assert missing.code == 3 and missing.out.startswith("HTTP/1.1 404")


def test_method_option_and_silent(cli: Runner, logged_in: Login) -> None:
    created = cli(
        "api", "-X", "POST", "/contacts", "-f", "contact_name=Method Option Ltd", "--silent"
    )
    assert created.code == 0, created.err
    assert created.out == ""
    found = cli(
        "api",
        "/contacts",
        "-f",
        "contact_name=Method Option Ltd",
        "--jq",
        ".contacts[0].contact_id",
    )
    contact_id = found.out.strip()
    assert contact_id
    conflict = cli("api", "GET", f"/contacts/{contact_id}", "-X", "DELETE")
    assert conflict.code == 1 and "Two methods" in conflict.err
    dry = cli("api", f"/contacts/{contact_id}", "-X", "DELETE", "--dry-run")
    assert dry.code == 0 and dry.out.splitlines()[1].startswith("DELETE ")
    assert cli("api", f"/contacts/{contact_id}", "-X", "delete", "--yes", "--silent").code == 0
    assert cli("api", f"/contacts/{contact_id}").code == 3
