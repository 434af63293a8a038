"""SDK overhead: iterate 10,000 realistic invoices (50 pages of 200) through zbooks'
paginator, and the same pages with bare httpx2 + json, side by side in one run.

Both read from the same in-process transport that serves pre-serialised pages, so the
only difference is zbooks' pipeline: token lookup, rate limiter, organization_id,
request building, response classification and pagination. Target: <= 1.3x.

    .venv/bin/python benchmarks/overhead.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import write_section

from zbooks import Client
from zbooks.auth.tokens import MemoryStore, Token

PAGES = 50
PER_PAGE = 200
API = "http://books.bench/books/v3"


def realistic_invoice(rng: random.Random, n: int) -> dict[str, object]:
    total = round(rng.uniform(10, 5000), 2)
    paid = round(total * rng.choice([0, 0, 0.5, 1]), 2)
    return {
        "invoice_id": str(460000000000000 + n),
        "ach_payment_initiated": False,
        "customer_name": f"Customer {rng.randint(1, 5000)} Ltd",
        "customer_id": str(460000000100000 + rng.randint(1, 5000)),
        "company_name": "",
        "status": rng.choice(["draft", "sent", "overdue", "paid", "partially_paid", "void"]),
        "invoice_number": f"INV-{n:06d}",
        "reference_number": f"PO-{rng.randint(1000, 9999)}",
        "date": f"2026-10-{rng.randint(1, 28):02d}",
        "due_date": f"2026-11-{rng.randint(1, 28):02d}",
        "due_days": "Due in 12 day(s)",
        "currency_id": "460000000000099",
        "schedule_time": "",
        "email": "billing@example.com",
        "currency_code": "USD",
        "currency_symbol": "$",
        "template_type": "standard",
        "is_viewed_by_client": False,
        "has_attachment": False,
        "client_viewed_time": "",
        "total": total,
        "balance": round(total - paid, 2),
        "created_time": "2026-10-01T10:00:00+0000",
        "last_modified_time": "2026-10-02T11:30:00+0000",
        "is_emailed": rng.random() < 0.5,
        "reminders_sent": 0,
        "last_reminder_sent_date": "",
        "payment_expected_date": "",
        "last_payment_date": "",
        "custom_fields": [],
        "documents": "",
        "salesperson_id": "",
        "salesperson_name": "",
        "shipping_charge": 0.0,
        "adjustment": 0.0,
        "write_off_amount": 0.0,
        "exchange_rate": 1.0,
    }


def build_pages() -> list[bytes]:
    rng = random.Random(7)
    pages = []
    for page in range(1, PAGES + 1):
        items = [realistic_invoice(rng, (page - 1) * PER_PAGE + i) for i in range(PER_PAGE)]
        body = {
            "code": 0,
            "message": "success",
            "invoices": items,
            "page_context": {
                "page": page,
                "per_page": PER_PAGE,
                "has_more_page": page < PAGES,
                "report_name": "Invoices",
                "sort_column": "created_time",
                "sort_order": "D",
            },
        }
        pages.append(json.dumps(body).encode())
    return pages


def make_transport(pages: list[bytes]) -> httpx2.MockTransport:
    headers = {"content-type": "application/json;charset=UTF-8"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params.get("page", "1"))
        return httpx2.Response(200, content=pages[page - 1], headers=headers)

    return httpx2.MockTransport(handler)


def run_bare(transport: httpx2.MockTransport) -> int:
    count = 0
    with httpx2.Client(transport=transport) as http:
        page = 1
        while True:
            response = http.get(
                f"{API}/invoices",
                params={"organization_id": "1", "page": page, "per_page": PER_PAGE},
                headers={"Authorization": "Zoho-oauthtoken 1000.x.y"},
            )
            body = json.loads(response.content)
            for _invoice in body["invoices"]:
                count += 1
            if not body["page_context"]["has_more_page"]:
                return count
            page += 1


def run_zbooks(transport: httpx2.MockTransport) -> int:
    token = Token(access_token="1000.x.y", refresh_token="1000.r.t", expires_at=time.time() + 3600)
    count = 0
    with Client(
        client_id="c",
        client_secret="s",
        organization_id="1",
        api_url=API,
        accounts_url="http://books.bench",
        token_store=MemoryStore(token),
        transport=transport,
        env={},
    ) as client:
        for _invoice in client.paginate("/invoices", key="invoices"):
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    pages = build_pages()
    transport = make_transport(pages)
    assert run_bare(transport) == run_zbooks(transport) == PAGES * PER_PAGE
    bare: list[float] = []
    ours: list[float] = []
    for _ in range(args.rounds):  # interleaved, so drift hits both alike
        start = time.perf_counter()
        run_bare(transport)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_zbooks(transport)
        ours.append(time.perf_counter() - start)
    b, z = statistics.median(bare), statistics.median(ours)
    ratio = z / b
    size_mb = sum(len(p) for p in pages) / 1e6
    body = (
        "## SDK overhead (`benchmarks/overhead.py`)\n\n"
        f"Iterating {PAGES * PER_PAGE:,} invoices ({PAGES} pages of {PER_PAGE}, "
        f"{size_mb:.1f} MB of JSON) over an in-process transport; median of {args.rounds} "
        "interleaved rounds.\n\n"
        "| client | median time | per page |\n|---|---|---|\n"
        f"| bare httpx2 + json | {b * 1000:.1f} ms | {b / PAGES * 1000:.2f} ms |\n"
        f"| zbooks `Client.paginate` (limiter, token, retry pipeline) | {z * 1000:.1f} ms | "
        f"{z / PAGES * 1000:.2f} ms |\n\n"
        f"**Ratio zbooks / bare: {ratio:.2f}x** (target <= 1.3x: "
        f"{'met' if ratio <= 1.3 else 'NOT met'})."
    )
    write_section("overhead", body)
    print(body)


if __name__ == "__main__":
    main()
