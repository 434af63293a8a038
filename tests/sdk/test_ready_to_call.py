"""``client.invoices`` is ready to call without pydantic, the models or the operation
registry (issue 15); they load with the first call that needs them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = "('pydantic', 'zbooks.models.invoices', 'zbooks.models.base', 'zbooks.resources._catalog')"


def _run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_resource_is_ready_without_pydantic_or_models() -> None:
    _run(
        "import sys, zbooks\n"
        "c = zbooks.Client(access_token='1000.x', organization_id='1', env={})\n"
        "c.invoices, c.estimates, c.bank_accounts\n"
        f"loaded = [m for m in {HEAVY} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert 'zbooks.resources.invoices' in sys.modules\n"
    )


def test_the_first_typed_call_loads_the_models_it_needs() -> None:
    _run(
        "import sys, httpx2, zbooks\n"
        "from decimal import Decimal\n"
        "def answer(request):\n"
        "    return httpx2.Response(200, json={'code': 0, 'invoices': [\n"
        "        {'invoice_id': '1', 'total': 10.5, 'date': ''}],\n"
        "        'page_context': {'has_more_page': False}})\n"
        "c = zbooks.Client(access_token='1000.x', organization_id='1', env={},\n"
        "                  rate_limiter=False, transport=httpx2.MockTransport(answer))\n"
        "(invoice,) = c.invoices.list()\n"
        "assert type(invoice).__module__ == 'zbooks.models.invoices', type(invoice)\n"
        "assert invoice.total == Decimal('10.5') and invoice.date is None\n"
        "assert 'zbooks.resources._catalog' not in sys.modules\n"
        "lazy = ('zbooks.models._more_invoices', 'zbooks.models._dicts_invoices',\n"
        "        'zbooks.models._index', 'asyncio', 'filelock',\n"
        "        'zbooks.auth.oauth', 'concurrent.futures')  # a refresh, a keyring\n"
        "assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]\n"
    )


def test_other_models_of_a_module_load_on_first_use() -> None:
    _run(
        "import sys\n"
        "from zbooks.models import invoices\n"
        "assert 'zbooks.models._more_invoices' not in sys.modules\n"
        "from zbooks.models.invoices import CreateInvoiceRequest, CreateInvoiceRequestDict\n"
        "assert CreateInvoiceRequest.__module__ == 'zbooks.models._more_invoices'\n"
        "assert invoices.CreateInvoiceRequest is CreateInvoiceRequest\n"
        "body = CreateInvoiceRequest(customer_id='1', line_items=[{'rate': '1.50'}])\n"
        'assert body.to_json() == \'{"customer_id":"1","line_items":[{"rate":1.50}]}\'\n'
        "import zbooks.models as models\n"
        "assert models.CreateInvoiceRequest is CreateInvoiceRequest\n"
        "try:\n"
        "    invoices.NoSuchModel\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('an unknown name must raise AttributeError')\n"
    )


def test_lazy_models_module_reads_like_the_module() -> None:
    from zbooks.models import invoices
    from zbooks.models.lazy import models_module

    lazy = models_module("invoices")
    assert "not loaded yet" in repr(lazy)
    assert lazy.Invoice is invoices.Invoice
    assert "loaded" in repr(lazy) and "not loaded" not in repr(lazy)
