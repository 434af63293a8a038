"""Record store modules of the automation settings (one place, so no module imports
another just for a name). They live in the ordinary ``records`` table: lists reuse the
shared listing helper, and the control plane's reset wipes them with everything else."""

from __future__ import annotations

WEBHOOKS = "settings:webhooks"
WORKFLOWS = "settings:workflows"
RETRY_POLICIES = "settings:retrypolicies"
HISTORIES = "settings:webhookhistories"

SETTINGS_MODULES = frozenset({WEBHOOKS, WORKFLOWS, RETRY_POLICIES, HISTORIES})
