"""SDK overhead: reading 10,000 invoices (50 pages of 200) with zbooks and without.

Two measurements, side by side in one run:

1. **Loopback HTTP against the sandbox** (issue 15): every client runs as its own fresh
   process reading all invoices of a sandbox organization over 127.0.0.1, and the
   whole process is measured (start-up, imports, the read): wall time, CPU time (user +
   system, from ``wait4``) and peak RSS. Rows: a bare httpx2 loop doing ``json.loads``
   per page (the reference), zbooks ``client.invoices.list()`` (typed models, what the
   README shows first) and ``client.paginate("/invoices")`` (raw dicts). ``--compare``
   adds zohopy's ``list_all`` and pyzohoapi's ``Invoice().Iter(raw=True)`` when they are
   installed (they are not project dependencies). Rounds are interleaved and the
   median of each column is reported, so drift hits every client alike.
2. **Ready to call**: a fresh process doing ``import zbooks; c = zbooks.Client(...);
   c.invoices``, and one going on to the first call (one typed page from the sandbox),
   against ``python -c 'import httpx'`` in the same run.
3. **In-process transport** (the original row): the same pages served from memory, so
   only zbooks' pipeline (token, limiter, request building, classification, pagination)
   differs from bare httpx2 + json.

    .venv/bin/python benchmarks/overhead.py [--rounds 3] [--compare] [--invoices 10000]
        [--baseline-src /path/to/base/src]

Results go to docs/benchmarks.md (section ``overhead``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from report import write_section  # noqa: E402

from zbooks import Client  # noqa: E402
from zbooks.auth.tokens import MemoryStore, Token  # noqa: E402

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


# --- child processes: one client each, measured from the outside -------------------------
# Each is a minimal script run with ``python -c``, so a client's process imports only what
# that client needs (not this benchmark, nor zbooks for the bare loop). They read the
# sandbox's address and credentials from ZB_* variables and print how many invoices
# they saw.

CHILDREN = {
    "bare": """
import json, os, httpx2
env = os.environ
count, page = 0, 1
headers = {"Authorization": "Zoho-oauthtoken " + env["ZB_ACCESS_TOKEN"]}
with httpx2.Client(timeout=60) as http:
    while True:
        response = http.get(
            env["ZB_BASE_URL"] + "/books/v3/invoices",
            params={"organization_id": env["ZB_ORG_ID"], "page": page, "per_page": 200},
            headers=headers,
        )
        body = json.loads(response.content)
        count += len(body["invoices"])
        if not body["page_context"]["has_more_page"]:
            break
        page += 1
print(count)
""",
    "typed": """
import os, zbooks
env = os.environ
with zbooks.Client(access_token=env["ZB_ACCESS_TOKEN"], organization_id=env["ZB_ORG_ID"],
                   api_url=env["ZB_BASE_URL"] + "/books/v3", accounts_url=env["ZB_BASE_URL"],
                   env={}) as client:
    print(sum(1 for _ in client.invoices.list()))
""",
    "paginate": """
import os, zbooks
env = os.environ
with zbooks.Client(access_token=env["ZB_ACCESS_TOKEN"], organization_id=env["ZB_ORG_ID"],
                   api_url=env["ZB_BASE_URL"] + "/books/v3", accounts_url=env["ZB_BASE_URL"],
                   env={}) as client:
    print(sum(1 for _ in client.paginate("/invoices", key="invoices")))
""",
    "zohopy": """
import os
from zohopy import DataCenter, SyncZohoClient, ZohoConfig
from zohopy.products.books import ZohoBooks
env = os.environ

class SandboxConfig(ZohoConfig):  # zohopy knows only Zoho's own hosts
    @property
    def accounts_url(self):
        return env["ZB_BASE_URL"]

    @property
    def base_api_url(self):
        return env["ZB_BASE_URL"]

config = SandboxConfig(client_id=env["ZB_CLIENT_ID"], client_secret=env["ZB_CLIENT_SECRET"],
                       refresh_token=env["ZB_REFRESH_TOKEN"], organization_id=env["ZB_ORG_ID"],
                       data_center=DataCenter.US)
count = 0
with SyncZohoClient(config) as client:
    for page in ZohoBooks(client).invoices.list_all(per_page=200):
        count += len(page["invoices"])
print(count)
""",
    "pyzohoapi": """
import os
from pyzohoapi import ZohoBooks
env = os.environ
api = ZohoBooks(env["ZB_ORG_ID"], access_token=env["ZB_ACCESS_TOKEN"], expires_in=3600,
                client_id=env["ZB_CLIENT_ID"], client_secret=env["ZB_CLIENT_SECRET"],
                refresh_token=env["ZB_REFRESH_TOKEN"])
api._endpoint = env["ZB_BASE_URL"] + "/books/v3"  # it knows only Zoho's own hosts
api._oauth = env["ZB_BASE_URL"] + "/oauth/v2"
print(sum(1 for _ in api.Invoice().Iter(raw=True, per_page=200)))
""",
    "ready": """
import zbooks
c = zbooks.Client(access_token="1000.x", organization_id="1", env={})
c.invoices
print(0)
""",
    # The user's first call, not only a client ready to make it: one typed page.
    "first": """
import os, zbooks
env = os.environ
c = zbooks.Client(access_token=env["ZB_ACCESS_TOKEN"], organization_id=env["ZB_ORG_ID"],
                  api_url=env["ZB_BASE_URL"] + "/books/v3", accounts_url=env["ZB_BASE_URL"],
                  env={})
print(c.invoices.list(per_page=10).first() is not None)
""",
}

#: Rows run on the base commit's code too (``--baseline-src``), marked "before".
BEFORE = "@before"


# --- the parent: spawn, measure, compare ----------------------------------------------------


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    rss: float  # MiB, peak resident


# Runs the measured command from a small process: a child's peak RSS counts the memory
# of the process it was forked from, so forking straight from this (large) benchmark
# process would report this process's size for every client. The launcher is a bare
# interpreter (``-S``), smaller than any client it starts.
LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
sys.stdout.flush()
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "wall": wall,
                  "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss}))
"""


def measure(argv: list[str], env: dict[str, str]) -> Sample:
    """A fresh process, measured by its launcher: wall, CPU and peak RSS (``wait4``)."""
    out = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *argv],
        env=env,
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if result["code"] != 0:
        raise RuntimeError(f"{argv} failed ({result['code']}): {out[-500:]!r}")
    return Sample(result["wall"], result["cpu"], result["rss"] / 1024)


def child_argv(kind: str) -> list[str]:
    return [sys.executable, "-c", CHILDREN[kind.removesuffix(BEFORE)]]


def child_env(kind: str, env: dict[str, str], baseline: str | None) -> dict[str, str]:
    """A "before" row imports zbooks from the baseline source tree (first on the path)."""
    if kind.endswith(BEFORE) and baseline:
        return {**env, "PYTHONPATH": baseline}
    return env


def medians(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        statistics.median(s.rss for s in samples),
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "not met"


def loopback(
    rounds: int, invoices: int, compare: bool, baseline: str | None
) -> tuple[list[str], dict[str, Sample], dict[str, Sample]]:
    """The listing rows, then the ready-to-call rows (against the same sandbox)."""
    from tests.sync.support import sandbox_process

    kinds = ["bare", "typed", "paginate"]
    if baseline:
        kinds += ["typed" + BEFORE, "paginate" + BEFORE]
    if compare:
        kinds += [k for k in ("zohopy", "pyzohoapi") if importlib.util.find_spec(k)]
    with sandbox_process(seed="empty") as sandbox:
        for module, count in (("taxes", 5), ("items", 200), ("contacts", 2000)):
            sandbox.seed(module, count)
        sandbox.seed("invoices", invoices)
        env = {**os.environ, **sandbox.credentials().env(sandbox)}
        # Bytecode is cached, as in any installed package: with PYTHONDONTWRITEBYTECODE
        # inherited from a dev shell, every run would compile zbooks' large generated
        # modules from source (the checks below warm the caches).
        env = {
            k: v
            for k, v in env.items()
            if not k.startswith("ZBOOKS_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        for kind in kinds:  # every client reads everything once (and is checked) first
            out = subprocess.run(
                child_argv(kind), env=child_env(kind, env, baseline), capture_output=True, text=True
            )
            if out.returncode != 0 or int(out.stdout.split()[-1]) != invoices:
                raise RuntimeError(f"{kind} did not read {invoices} invoices: {out}")
        samples: dict[str, list[Sample]] = {kind: [] for kind in kinds}
        for _ in range(rounds):
            for kind in kinds:
                samples[kind].append(measure(child_argv(kind), child_env(kind, env, baseline)))
        ready = ready_to_call(max(rounds, 5), env, baseline)
    return kinds, {kind: medians(s) for kind, s in samples.items()}, ready


READY_CASES = ["python -c pass", "python -c 'import httpx'", "ready", "first"]


def ready_to_call(rounds: int, env: dict[str, str], baseline: str | None) -> dict[str, Sample]:
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], env),
        "python -c 'import httpx'": ([sys.executable, "-c", "import httpx"], env),
    }
    for kind in ("ready", "first"):
        cases[kind] = (child_argv(kind), env)
        if baseline:
            cases[kind + BEFORE] = (child_argv(kind), child_env(kind + BEFORE, env, baseline))
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    for argv, case_env in cases.values():
        measure(argv, case_env)  # warm the bytecode and file caches
    for _ in range(rounds):
        for name, (argv, case_env) in cases.items():
            samples[name].append(measure(argv, case_env))
    return {name: medians(s) for name, s in samples.items()}


def in_process(rounds: int) -> tuple[float, float, float]:
    pages = build_pages()
    transport = make_transport(pages)
    assert run_bare(transport) == run_zbooks(transport) == PAGES * PER_PAGE
    bare: list[float] = []
    ours: list[float] = []
    for _ in range(rounds):  # interleaved, so drift hits both alike
        start = time.perf_counter()
        run_bare(transport)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_zbooks(transport)
        ours.append(time.perf_counter() - start)
    return statistics.median(bare), statistics.median(ours), sum(len(p) for p in pages) / 1e6


LABELS = {
    "bare": "bare httpx2 + `json.loads` per page (reference)",
    "typed": "zbooks `client.invoices.list()` (typed `Invoice` models)",
    "paginate": 'zbooks `client.paginate("/invoices")` (raw dicts)',
    "zohopy": "zohopy `invoices.list_all` (plain dicts)",
    "pyzohoapi": "pyzohoapi `Invoice().Iter(raw=True)` (plain dicts)",
    "ready": "import zbooks; zbooks.Client(...).invoices",
    "first": "... + first call: `client.invoices.list(per_page=10).first()`",
    "python -c pass": "python -c pass",
    "python -c 'import httpx'": "python -c 'import httpx'",
}


def label(kind: str) -> str:
    name = kind.removesuffix(BEFORE)
    text = LABELS[name]
    if name in ("ready", "first", "python -c pass", "python -c 'import httpx'"):
        text = f"`{text}`" if name != "first" else text
    return text + (" **before**" if kind.endswith(BEFORE) else "")


def target_rows(loop: dict[str, Sample], ready: dict[str, Sample], suffix: str) -> list[str]:
    """The issue's targets, read on one side (``suffix`` "" for now, BEFORE for before)."""
    ref = loop["bare"]
    t = loop["typed" + suffix]
    wall_r, cpu_r, rss_r = t.wall / ref.wall, t.cpu / ref.cpu, t.rss / ref.rss
    base = ready["python -c 'import httpx'"]
    r = ready["ready" + suffix]
    rows = [
        f"| typed list, wall <= 1.3x bare | {wall_r:.2f}x | {verdict(wall_r <= 1.3)} |",
        f"| typed list, CPU <= 1.6x bare | {cpu_r:.2f}x | {verdict(cpu_r <= 1.6)} |",
        f"| typed list, peak RSS <= 1.4x bare | {rss_r:.2f}x | {verdict(rss_r <= 1.4)} |",
    ]
    if "zohopy" in loop:
        zw = loop["zohopy"].wall
        rows.append(
            f"| typed list faster than zohopy `list_all` (wall) | {t.wall / zw:.2f}x of its "
            f"wall | {verdict(t.wall < zw)} |"
        )
    rows += [
        f"| ready to call <= 250 ms wall | {r.wall * 1000:.0f} ms | {verdict(r.wall <= 0.25)} |",
        f"| ready to call <= 40 MiB | {r.rss:.1f} MiB | {verdict(r.rss <= 40)} |",
        f"| ready to call <= 2x `import httpx` (wall) | {r.wall / base.wall:.2f}x | "
        f"{verdict(r.wall <= 2 * base.wall)} |",
    ]
    return rows


def report(args: argparse.Namespace) -> str:
    baseline = str(Path(args.baseline_src).resolve()) if args.baseline_src else None
    kinds, loop, ready = loopback(args.rounds, args.invoices, args.compare, baseline)
    b, z, size_mb = in_process(7)
    ref = loop["bare"]
    lines = [
        "## SDK overhead (`benchmarks/overhead.py`)",
        "",
        f"**Loopback HTTP against the sandbox.** Each client is a fresh process reading all "
        f"{args.invoices:,} invoices of a sandbox organization ({PER_PAGE} per page) over "
        f"127.0.0.1; the whole process is measured (start-up and imports included). Median "
        f"of {args.rounds} interleaved rounds; ratios are to the bare loop of the same run.",
    ]
    if baseline:
        lines += [
            "",
            f"Rows marked **before** run the same child script with the base commit's "
            f"source first on `PYTHONPATH` (`--baseline-src {args.baseline_src}`), "
            "interleaved with the others in every round.",
        ]
    lines += [
        "",
        "| client | wall | CPU | peak RSS | wall ratio | CPU ratio | RSS ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in kinds:
        s = loop[kind]
        lines.append(
            f"| {label(kind)} | {s.wall * 1000:.0f} ms | {s.cpu * 1000:.0f} ms | "
            f"{s.rss:.1f} MiB | {s.wall / ref.wall:.2f}x | {s.cpu / ref.cpu:.2f}x | "
            f"{s.rss / ref.rss:.2f}x |"
        )
    missing = [k for k in ("zohopy", "pyzohoapi") if k not in kinds]
    if missing and args.compare:
        lines += ["", f"Not installed, so not compared: {', '.join(missing)}."]
    n_ready = max(args.rounds, 5)
    base = ready["python -c 'import httpx'"]
    lines += [
        "",
        "**Ready to call**: a fresh process doing `import zbooks; c = zbooks.Client(...); "
        "c.invoices`, and the same process going on to the user's first call (one typed "
        f"page from the sandbox), median of {n_ready} (interleaved with the references).",
        "",
        "| process | wall | CPU | peak RSS | wall / `import httpx` | CPU / `import httpx` |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {label(name)} | {s.wall * 1000:.0f} ms | {s.cpu * 1000:.0f} ms | "
            f"{s.rss:.1f} MiB | {s.wall / base.wall:.2f}x | {s.cpu / base.cpu:.2f}x |"
            for name, s in ready.items()
        ],
        "",
        "**In-process transport** (no network, no server: only zbooks' request pipeline "
        f"differs). {PAGES * PER_PAGE:,} invoices, {PAGES} pages, {size_mb:.1f} MB of JSON, "
        "median of 7 interleaved rounds: bare httpx2 + json "
        f"{b * 1000:.1f} ms, zbooks `Client.paginate` {z * 1000:.1f} ms.",
        "",
        "**Targets** (issue 15, and the original pipeline target):",
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
        *target_rows(loop, ready, ""),
        f"| in-process `paginate` <= 1.3x bare | {z / b:.2f}x | {verdict(z / b <= 1.3)} |",
    ]
    if baseline:
        lines += [
            "",
            "The same targets read on the **before** rows of this run:",
            "",
            "| target (before) | measured | verdict |",
            "|---|---:|---|",
            *target_rows(loop, ready, BEFORE),
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--invoices", type=int, default=PAGES * PER_PAGE)
    parser.add_argument("--compare", action="store_true", help="add zohopy and pyzohoapi")
    parser.add_argument(
        "--baseline-src",
        help="a base commit's src/ folder: its typed, paginate and ready rows run side by side",
    )
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    args = parser.parse_args()
    body = report(args)
    print(body)
    if not args.no_write:
        write_section("overhead", body)


if __name__ == "__main__":
    main()
