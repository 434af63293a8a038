// The zbooks sandbox inspector. Plain browser JavaScript, no build step, no dependencies.
// Every value from the sandbox is written with textContent, never as HTML: record data
// is whatever a client sent.
"use strict";

const API = "/_sandbox/inspector/api";
const state = { org: null, module: null, query: "", since: 0 };

async function call(path, options = {}) {
  const response = await fetch(API + path, {
    credentials: "same-origin",
    ...options,
    headers: { "X-Zbooks-Inspector": "1", "Content-Type": "application/json", ...(options.headers || {}) },
  });
  if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function showError(error) {
  document.getElementById("error").textContent = error ? String(error.message || error) : "";
}

async function refreshState() {
  const data = await call("/state");
  renderClock(data.clock);
  const box = document.getElementById("orgs");
  box.replaceChildren();
  for (const org of data.organizations) {
    const div = document.createElement("div");
    div.className = "org";
    div.dataset.org = org.organization_id;
    const title = document.createElement("h3");
    title.textContent = `${org.name} (${org.organization_id}, ${org.plan})`;
    div.appendChild(title);
    for (const [module, count] of Object.entries(org.modules)) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.module = module;
      button.textContent = `${module}: ${count}`;
      button.addEventListener("click", () => selectModule(org.organization_id, module));
      div.appendChild(button);
    }
    box.appendChild(div);
  }
  if (!state.org && data.organizations.length) state.org = data.demo_org_id || data.organizations[0].organization_id;
}

function renderClock(clock) {
  document.getElementById("clock-now").textContent = clock.now;
  document.getElementById("clock-today").textContent = clock.today;
}

async function selectModule(org, module) {
  state.org = org;
  state.module = module;
  document.getElementById("record-json").textContent = "";
  await refreshRecords();
}

async function refreshRecords() {
  if (!state.org || !state.module) return;
  const query = state.query ? `&q=${encodeURIComponent(state.query)}` : "";
  const path = `/records/${encodeURIComponent(state.org)}/${encodeURIComponent(state.module)}?limit=100${query}`;
  const data = await call(path);
  document.getElementById("records-title").textContent = `${data.module}: ${data.total}`;
  const body = document.querySelector("#records tbody");
  body.replaceChildren();
  for (const record of data.records) {
    const row = document.createElement("tr");
    row.className = "clickable";
    row.dataset.id = record.id;
    cell(row, record.id);
    cell(row, record.label);
    cell(row, record.status);
    cell(row, record.date);
    cell(row, record.total);
    row.addEventListener("click", () => openRecord(record.id, row));
    body.appendChild(row);
  }
}

async function openRecord(id, row) {
  document.querySelectorAll("#records tr.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  const path = `/records/${encodeURIComponent(state.org)}/${encodeURIComponent(state.module)}/${encodeURIComponent(id)}`;
  const data = await call(path);
  document.getElementById("record-json").textContent = JSON.stringify(data.record, null, 2);
}

async function refreshRequests() {
  const data = await call(`/requests?since=${state.since}`);
  const body = document.querySelector("#requests tbody");
  for (const entry of data.requests) {
    state.since = Math.max(state.since, entry.seq);
    const row = document.createElement("tr");
    row.dataset.seq = entry.seq;
    cell(row, entry.time);
    cell(row, entry.method);
    cell(row, entry.path);
    cell(row, entry.status, `status-${String(entry.status)[0]}`);
    cell(row, entry.code);
    cell(row, entry.duration_ms);
    body.prepend(row);
  }
  while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
}

async function refreshDeliveries() {
  const data = await call("/deliveries");
  const body = document.querySelector("#deliveries tbody");
  body.replaceChildren();
  for (const item of data.deliveries) {
    const row = document.createElement("tr");
    cell(row, item.history_time);
    cell(row, `${item.entity_type} ${item.entity_id}`);
    cell(row, item.webhook_url);
    cell(row, item.status);
    cell(row, item.attempts.map((a) => `${a.history_time} ${a.response_code || "-"} ${a.response_status}`).join("; "));
    body.appendChild(row);
  }
}

async function refreshFaults() {
  const data = await call("/faults");
  const body = document.querySelector("#faults tbody");
  body.replaceChildren();
  for (const rule of data.faults) {
    const row = document.createElement("tr");
    for (const key of ["id", "kind", "method", "path_prefix", "probability", "count", "fired"]) cell(row, rule[key]);
    body.appendChild(row);
  }
}

async function advanceClock() {
  const hours = Number(document.getElementById("advance-hours").value);
  const clock = await call("/clock/advance", { method: "POST", body: JSON.stringify({ seconds: hours * 3600 }) });
  renderClock(clock);
  await refreshRecords();
}

async function tick(fn) {
  try { await fn(); showError(null); } catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("advance-clock").addEventListener("click", () => tick(advanceClock));
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.query = document.getElementById("search").value;
    tick(refreshRecords);
  });
  const fast = () => tick(async () => { await refreshRequests(); });
  const slow = () => tick(async () => {
    await refreshState();
    await refreshRecords();
    await refreshDeliveries();
    await refreshFaults();
  });
  fast();
  slow();
  setInterval(fast, 1000);
  setInterval(slow, 2000);
});
