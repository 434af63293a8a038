"""Webhooks in the sandbox: the settings Zoho keeps for them (webhooks, workflow rules,
retry policies), the engine that delivers matching changes, and the delivery history.

The sandbox app wires it all with one call, ``WebhookEngine.attach(app)``; the Books
routes live in ``zbooks.sandbox.books.webhooks`` and ``zbooks.sandbox.books.workflows``.
"""

from __future__ import annotations

from zbooks.sandbox.webhooks.engine import WebhookEngine, WebhookSettings, engine_for

__all__ = ["WebhookEngine", "WebhookSettings", "engine_for"]
