"""The URL a dry run shows is the one the pipeline will use."""

from __future__ import annotations

from zbooks import AsyncClient
from zbooks.auth.tokens import MemoryStore, Token
from zbooks.mcp.books import Books
from zbooks.mcp.budget import CallBudget


def _books(**kwargs: object) -> Books:
    token = Token(access_token="a", refresh_token="r", api_domain="https://www.zohoapis.com.au")
    client = AsyncClient(
        client_id="1000.X", client_secret="s", token_store=MemoryStore(token), env={}, **kwargs
    )  # type: ignore[arg-type]
    return Books(client, CallBudget())


def test_token_api_domain_wins_over_the_region_default() -> None:
    assert _books(region="us").api_url == "https://www.zohoapis.com.au/books/v3"


def test_an_explicit_api_url_is_kept() -> None:
    books = _books(api_url="http://127.0.0.1:9/books/v3", accounts_url="http://127.0.0.1:9")
    assert books.api_url == "http://127.0.0.1:9/books/v3"
