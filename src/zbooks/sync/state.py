"""The cursor of one (organization, module), read and written inside the caller's
transaction so that rows and cursor can never disagree after a crash.

- ``cursor``: where the next run starts reading (minus the lookback window).
- ``resume_*``: set while a scan is under way, page by page; a run that finds them set
  continues that scan instead of starting over (a killed process loses at most the page
  it was working on, which is re-read and upserted again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from zbooks.sync.schema import SyncSchema, upsert


@dataclass
class ModuleState:
    organization_id: str
    module: str
    strategy: str | None = None
    cursor: str | None = None
    resume_since: str | None = None
    resume_page: int | None = None
    resume_max: str | None = None
    resume_full: bool = False
    run_upper: str | None = None
    last_success_at: datetime | None = None

    @property
    def in_progress(self) -> bool:
        return self.resume_page is not None


def load_state(conn: Connection, schema: SyncSchema, org_id: str, module: str) -> ModuleState:
    table = schema.state
    row = conn.execute(
        select(table).where(table.c.organization_id == org_id, table.c.module == module)
    ).mappings().first()
    if row is None:
        return ModuleState(org_id, module)
    return ModuleState(
        organization_id=org_id,
        module=module,
        strategy=row["strategy"],
        cursor=row["cursor"],
        resume_since=row["resume_since"],
        resume_page=row["resume_page"],
        resume_max=row["resume_max"],
        resume_full=bool(row["resume_full"]),
        run_upper=row["run_upper"],
        last_success_at=row["last_success_at"],
    )


def save_state(conn: Connection, schema: SyncSchema, state: ModuleState, now: datetime) -> None:
    row: dict[str, Any] = {
        "organization_id": state.organization_id,
        "module": state.module,
        "strategy": state.strategy,
        "cursor": state.cursor,
        "resume_since": state.resume_since,
        "resume_page": state.resume_page,
        "resume_max": state.resume_max,
        "resume_full": state.resume_full,
        "run_upper": state.run_upper,
        "last_success_at": state.last_success_at,
        "updated_at": now,
    }
    upsert(conn, schema.state, [row])
