"""The delivery engine: from committed changes to HTTP requests, with retries.

How a change becomes a delivery:

1. ``on_changes`` is a post-commit listener of the database (``Database.add_listener``).
   It runs on the committing thread with the database lock held, so it only reads: it
   finds the active workflow rules the change fires, snapshots the record as
   ``GET /<collection>/{id}`` would return it, and queues one ``Firing`` per webhook.
2. A worker thread turns a firing into a history record (the delivery's durable state)
   in its own transaction.
3. Every committed history write that leaves the record ``pending``/``retrying`` with a
   due time reaches ``on_changes`` too, which schedules an ``Attempt`` for that time.
   Creating a delivery, a failed attempt with retries left, a resend, and a restart
   (``resume``) all schedule attempts this one way.
4. An attempt sends the stored request (15 s timeout by default) on its own short-lived
   thread, then records the outcome, which may schedule the next retry per the policy.

Nothing here ever runs HTTP inside a database transaction or while holding the engine
lock, and nothing takes the database lock while holding the engine lock (the listener
holds the database lock when it takes the engine lock: that is the only order).

Due times are sandbox-clock seconds, so ``POST /_sandbox/clock/advance`` makes retries
due without waiting; ``retry_scale`` shrinks every retry interval (0.001 turns minutes
into fractions of a second) for tests and demos.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx2

from zbooks.sandbox.books.registry import BooksRequest, Registry
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Change, Database
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.webhooks import history as histories
from zbooks.sandbox.webhooks import hooks, workflows
from zbooks.sandbox.webhooks.delivery import OutgoingRequest, build_request, check_url, send
from zbooks.sandbox.webhooks.entities import WATCHED_MODULES, Entity, find_entity
from zbooks.sandbox.webhooks.modules import HISTORIES
from zbooks.sandbox.webhooks.retrypolicies import policy_for_webhooks

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from zbooks.sandbox.app import SandboxApp

logger = logging.getLogger("zbooks.sandbox.webhooks")

_ENGINES: weakref.WeakKeyDictionary[Database, WebhookEngine] = weakref.WeakKeyDictionary()
MANUAL_TRIGGER_LIMIT = 1000


@dataclass
class WebhookSettings:
    """Knobs of the engine. ``from_config`` reads optional ``webhook_*`` fields of
    ``SandboxConfig`` so the sandbox's configuration can set them."""

    timeout: float = 15.0  # seconds per attempt (Zoho Payments documents 15 s)
    retry_scale: float = 1.0  # multiplies every retry interval; 0.001 for fast tests
    allow_external: bool = False  # deliver to non-loopback URLs
    sign: bool = True  # send X-Zoho-Webhook-Signature when a secret is set
    max_concurrent: int = 8  # attempts in flight at once
    poll_interval: float = 0.05  # how soon a clock advance is noticed
    idle_exit: float = 2.0  # the worker thread stops after this long with nothing to do
    transport: httpx2.BaseTransport | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config: object) -> WebhookSettings:
        defaults = cls()
        return cls(
            timeout=float(getattr(config, "webhook_timeout", defaults.timeout)),
            retry_scale=float(getattr(config, "webhook_retry_scale", defaults.retry_scale)),
            allow_external=bool(getattr(config, "webhook_allow_external", defaults.allow_external)),
            sign=bool(getattr(config, "webhook_sign", defaults.sign)),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout,
            "retry_scale": self.retry_scale,
            "allow_external": self.allow_external,
            "sign": self.sign,
            "max_concurrent": self.max_concurrent,
        }


@dataclass(frozen=True)
class Firing:
    """A workflow rule matched: deliver ``record`` to one webhook."""

    org_id: str
    workflow_id: str
    webhook_id: str
    entity: Entity
    record: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Attempt:
    """Try history ``history_id`` once, if it is still at sequence ``seq``."""

    org_id: str
    history_id: str
    seq: int


Job = Firing | Attempt


def engine_for(db: Database) -> WebhookEngine | None:
    """The engine delivering for this database (None when none is installed)."""
    return _ENGINES.get(db)


def strip_private(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not str(k).startswith("_")}


Action = Literal["add", "edit", "delete"]
NetChange = tuple[str, str, str, Action, dict[str, Any] | None, dict[str, Any] | None]


def coalesce(changes: list[Change]) -> list[NetChange]:
    """One net change per record of a transaction: created-then-edited is "add" with the
    final state, created-then-deleted is nothing, edited twice is one "edit"."""
    first: dict[tuple[str, str, str], Change] = {}
    last: dict[tuple[str, str, str], Change] = {}
    for change in changes:
        key = (change.org_id, change.module, change.record_id)
        first.setdefault(key, change)
        last[key] = change
    merged: list[NetChange] = []
    for key, opening in first.items():
        before = opening.before if opening.action != "add" else None
        after = last[key].after
        if before is None and after is None:
            continue
        action: Action = "add" if before is None else "delete" if after is None else "edit"
        merged.append((key[0], key[1], key[2], action, before, after))
    return merged


class WebhookEngine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        registry: Registry | None = None,
        settings: WebhookSettings | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.settings = settings or WebhookSettings()
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._scheduled: set[tuple[str, str, int]] = set()
        self._busy: set[tuple[str, str]] = set()
        self._running = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._installed = False

    # wiring -------------------------------------------------------------------------
    @classmethod
    def attach(cls, app: SandboxApp) -> WebhookEngine:
        """Everything the sandbox app needs, in one call: listen to the change feed,
        resume unfinished deliveries and mount ``/_sandbox/webhooks/*``."""
        engine = cls(app.db, app.clock, app.registry, WebhookSettings.from_config(app.config))
        engine.install()
        app.asgi.router.routes.extend(engine.control_routes(app))
        return engine

    def install(self) -> None:
        """Subscribe to the database's changes and pick up deliveries left pending."""
        if self._installed:
            return
        self._installed = True
        _ENGINES[self.db] = self
        self.db.add_listener(self.on_changes)
        self.resume()

    def control_routes(self, app: SandboxApp) -> list[BaseRoute]:
        from zbooks.sandbox.webhooks.control import webhook_control_routes

        return webhook_control_routes(app, self)

    def resume(self) -> int:
        """Schedule every delivery a previous run left pending or retrying."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT org_id, data FROM records WHERE module=? AND "
                "json_extract(data, '$.status') IN ('pending', 'retrying')",
                (HISTORIES,),
            ).fetchall()
        count = 0
        for row in rows:
            record = json.loads(row["data"])
            due = histories.due_of(record)
            if due is not None:
                self._schedule(Attempt(str(row["org_id"]), record["history_id"], due[1]), due[0])
                count += 1
        return count

    def close(self) -> None:
        """Stop scheduling; attempts already in flight finish on their own."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._scheduled.clear()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if _ENGINES.get(self.db) is self:
            del _ENGINES[self.db]

    def drop_scheduled(self) -> None:
        """Forget every queued firing and attempt (a snapshot restore replaces the state
        they belong to; ``resume`` then schedules the restored state's own)."""
        with self._cond:
            self._heap.clear()
            self._scheduled.clear()
            self._cond.notify_all()

    # the change feed ------------------------------------------------------------------
    def on_changes(self, changes: list[Change]) -> None:
        """Post-commit listener: read-only, quick, never raises into the committer."""
        rules_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
        payloads: dict[tuple[str, str, str], dict[str, Any]] = {}
        for org_id, module, record_id, action, before, after in coalesce(changes):
            if module == HISTORIES:
                due = histories.due_of(after) if after is not None else None
                if due is not None:
                    self._schedule(Attempt(org_id, record_id, due[1]), due[0])
                continue
            if module not in WATCHED_MODULES:
                continue
            key = (org_id, module)
            if key not in rules_cache:
                rules_cache[key] = workflows.rules_for(self._ledger(org_id), module)
            for rule in rules_cache[key]:
                if not workflows.fires_on_change(rule, action, before, after):
                    continue
                entity = find_entity(str(rule["entity"]))
                if entity is None:
                    continue
                shot = (org_id, entity.key, record_id)
                if shot not in payloads:  # one snapshot per record, however many rules
                    payloads[shot] = self.payload(org_id, entity, record_id, after or before)
                record = payloads[shot]
                for webhook_id in hooks.webhook_ids_of(rule):
                    firing = Firing(org_id, str(rule["workflow_id"]), webhook_id, entity, record)
                    self._schedule(firing, self.clock.time())

    def payload(
        self, org_id: str, entity: Entity, record_id: str, stored: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The record as ``GET /<collection>/{id}`` returns it (the default payload is
        "the same fields as GET", api-facts §6.2); the stored JSON when that fails (a
        deleted record, a module without a detail route)."""
        fallback = strip_private(stored or {})
        if self.registry is None or not stored:
            return fallback
        path = f"/{entity.collection}/{record_id}"
        try:
            route, params = self.registry.match("GET", path)
            response = route.handler(
                BooksRequest(
                    method="GET",
                    path=path,
                    path_params=params,
                    query={},
                    body={},
                    ledger=self._ledger(org_id),
                )
            )
        except Exception:
            return fallback
        body = response.body or {}
        found = body.get(entity.key)
        if isinstance(found, list) and len(found) == 1:
            found = found[0]
        return dict(found) if isinstance(found, dict) else fallback

    # operations the API and the control plane use ---------------------------------------
    def deliver(
        self,
        ledger: Ledger,
        *,
        webhook: Mapping[str, Any],
        workflow_id: str,
        entity: Entity,
        record: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Create a delivery (a history record due now). Call inside a transaction; the
        attempt is scheduled when it commits."""
        request = build_request(webhook, entity.key, record, sign=self.settings.sign)
        return histories.new_history(
            ledger,
            webhook=webhook,
            workflow_id=workflow_id,
            entity=entity,
            record=record,
            request=request,
            policy=policy_for_webhooks(ledger),
        )

    def fire_workflow(
        self, ledger: Ledger, workflow: Mapping[str, Any], record: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Run a rule's webhook actions for one record now (manual trigger)."""
        entity = find_entity(str(workflow.get("entity", "")))
        if entity is None:
            return []
        payload = self.payload(ledger.org_id, entity, str(record.get(entity.id_field, "")), record)
        created = []
        with ledger.db.transaction():
            for webhook_id in hooks.webhook_ids_of(workflow):
                webhook = ledger.store.get(hooks.MODULE, webhook_id)
                if webhook is None or webhook.get("is_active") is False:
                    continue
                created.append(
                    self.deliver(
                        ledger,
                        webhook=webhook,
                        workflow_id=str(workflow["workflow_id"]),
                        entity=entity,
                        record=payload,
                    )
                )
        return created

    def trigger(
        self,
        ledger: Ledger,
        event: str,
        *,
        entity_id: str | None = None,
        url: str | None = None,
        secret: str | None = None,
        method: str = "POST",
    ) -> tuple[Entity, dict[str, Any], list[dict[str, Any]]]:
        """Fire ``<entity>.<trigger>`` (e.g. ``invoice.created``) for one record: through
        every active rule it would fire, or straight to ``url`` when given.

        Raises ``ValueError`` for an unknown event and ``LookupError`` when there is no
        record to send or nothing would receive it.
        """
        entity, trigger = workflows.parse_event(event)
        record = self._pick_record(ledger, entity, entity_id)
        record_id = str(record.get(entity.id_field) or "")
        if url:
            webhook: dict[str, Any] = {
                "webhook_id": "",
                "webhook_name": "zbooks sandbox trigger",
                "url": check_url(url, allow_external=self.settings.allow_external),
                "secret": secret or "",
                "method": method.upper(),
                "entity": entity.name,
            }
            payload = self.payload(ledger.org_id, entity, record_id, record)
            with ledger.db.transaction():
                made = [
                    self.deliver(
                        ledger, webhook=webhook, workflow_id="", entity=entity, record=payload
                    )
                ]
            return entity, payload, made
        rules = [
            rule
            for rule in workflows.rules_for(ledger, entity.module)
            if workflows.fires_on_trigger(rule, trigger, record)
        ]
        made = []
        for rule in rules:
            made += self.fire_workflow(ledger, rule, record)
        if not made:
            raise LookupError(
                f"no active workflow rule with a webhook fires on {entity.name}.{trigger} "
                f"for {entity.name} {record_id}; create one (POST /settings/workflows) or "
                "pass a url to deliver to directly"
            )
        payload = made[0].get("entity_details") or record
        return entity, dict(payload), made

    def _pick_record(self, ledger: Ledger, entity: Entity, entity_id: str | None) -> dict[str, Any]:
        if entity_id:
            record = ledger.store.get(entity.module, entity_id)
            if record is None or not entity.matches(record):
                raise LookupError(f"no {entity.name} {entity_id} in organization {ledger.org_id}")
            return record
        filters = [Filter("contact_type", "eq", entity.contact_type)] if entity.contact_type else []
        newest = ledger.store.query(
            entity.module, filters, sort="last_modified_time", per_page=1
        ).records
        if not newest:
            raise LookupError(
                f"organization {ledger.org_id} has no {entity.name} to send; create one "
                f'or seed some (POST /_sandbox/seed {{"module": "{entity.module}"}})'
            )
        return newest[0]

    def resend(self, ledger: Ledger, history_id: str) -> dict[str, Any]:
        """Send a delivery again now, with a fresh run of retries (inside the caller's
        transaction; scheduled when it commits)."""
        return histories.resend(ledger, history_id)

    def wait_for(self, org_id: str, history_ids: list[str], timeout: float) -> list[dict[str, Any]]:
        """Block until each delivery has been tried at least once (or ``timeout``)."""
        ledger = self._ledger(org_id)
        deadline = time.monotonic() + timeout
        while True:
            found = [ledger.store.get(HISTORIES, hid) for hid in history_ids]
            records = [r for r in found if r is not None]
            settled = all(r.get("status") != "pending" for r in records)
            if settled or time.monotonic() >= deadline:
                return records
            with self._cond:
                self._cond.wait(min(self.settings.poll_interval, deadline - time.monotonic()))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once no job is due and none is running (for tests and the CLI)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                due_now = bool(self._heap) and self._heap[0][0] <= self.clock.time()
                if not due_now and self._running == 0:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, self.settings.poll_interval))

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._running

    # scheduling ---------------------------------------------------------------------
    def _ledger(self, org_id: str) -> Ledger:
        return Ledger(db=self.db, clock=self.clock, org_id=org_id)

    def _schedule(self, job: Job, due: float) -> None:
        with self._cond:
            if self._closed:
                return
            if isinstance(job, Attempt):
                key = (job.org_id, job.history_id, job.seq)
                if key in self._scheduled:
                    return
                self._scheduled.add(key)
            heapq.heappush(self._heap, (due, next(self._order), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="zbooks-webhooks", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _loop(self) -> None:
        idle_since: float | None = None
        while True:
            with self._cond:
                if self._closed:
                    self._thread = None
                    return
                if not self._heap:
                    if self._running == 0:
                        idle_since = idle_since or time.monotonic()
                        if time.monotonic() - idle_since >= self.settings.idle_exit:
                            self._thread = None
                            return
                    self._cond.wait(self.settings.poll_interval)
                    continue
                idle_since = None
                due, _, job = self._heap[0]
                wait = due - self.clock.time()
                if wait > 0 or self._running >= self.settings.max_concurrent:
                    self._cond.wait(min(max(wait, 0.001), self.settings.poll_interval))
                    continue
                heapq.heappop(self._heap)
                if isinstance(job, Attempt):
                    self._scheduled.discard((job.org_id, job.history_id, job.seq))
                    busy = (job.org_id, job.history_id)
                    if busy in self._busy:
                        # Another attempt of the same delivery is in flight: try again
                        # shortly rather than send twice at once.
                        self._scheduled.add((job.org_id, job.history_id, job.seq))
                        heapq.heappush(
                            self._heap, (self.clock.time() + 0.05, next(self._order), job)
                        )
                        continue
                    self._busy.add(busy)
                self._running += 1
            threading.Thread(
                target=self._run, args=(job,), name="zbooks-webhook-attempt", daemon=True
            ).start()

    def _run(self, job: Job) -> None:
        try:
            if isinstance(job, Firing):
                self._run_firing(job)
            else:
                self._run_attempt(job)
        except sqlite3.ProgrammingError:
            # The sandbox closed its database under us: nothing more can be recorded.
            self.close()
        except Exception:
            logger.exception("webhook job %r failed", job)
        finally:
            with self._cond:
                self._running -= 1
                if isinstance(job, Attempt):
                    self._busy.discard((job.org_id, job.history_id))
                self._cond.notify_all()

    def _run_firing(self, job: Firing) -> None:
        ledger = self._ledger(job.org_id)
        with self.db.transaction():
            webhook = ledger.store.get(hooks.MODULE, job.webhook_id)
            if webhook is None or webhook.get("is_active") is False:
                return
            self.deliver(
                ledger,
                webhook=webhook,
                workflow_id=job.workflow_id,
                entity=job.entity,
                record=job.record,
            )

    def _run_attempt(self, job: Attempt) -> None:
        ledger = self._ledger(job.org_id)
        record = ledger.store.get(HISTORIES, job.history_id)
        if record is None or not _current(record, job.seq):
            return
        request = OutgoingRequest.from_json(record["_request"])
        result = send(
            request,
            timeout=self.settings.timeout,
            allow_external=self.settings.allow_external,
            transport=self.settings.transport,
        )
        with self.db.transaction():
            record = ledger.store.get(HISTORIES, job.history_id)
            if record is None:
                return  # the sandbox was reset while we were sending
            if not _current(record, job.seq):
                histories.record_overtaken_attempt(ledger, record, result)
                return
            histories.record_attempt(ledger, record, result, retry_scale=self.settings.retry_scale)


def _current(record: Mapping[str, Any], seq: int) -> bool:
    due = histories.due_of(record)
    return due is not None and due[1] == seq
