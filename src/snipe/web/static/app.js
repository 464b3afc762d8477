// snipe's dashboard: countdowns, the live stream (SSE), and the actions of each page.
// No build step: plain browser JavaScript. Every state-changing request sends the CSRF token
// (the snipe_csrf cookie's value) in the X-Snipe-CSRF header.
"use strict";

const body = document.body;
const skewMs = body.dataset.now ? Date.parse(body.dataset.now) - Date.now() : 0;

function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

function flash(message, kind) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = message;
  box.className = kind || "info";
}

class ApiError extends Error {
  constructor(detail, problems) {
    super(detail);
    this.problems = problems || [];
  }
}

async function api(method, url, payload) {
  const options = {method, credentials: "same-origin",
    headers: {"Accept": "application/json", "X-Snipe-CSRF": cookie("snipe_csrf")}};
  if (payload !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(payload);
  }
  const response = await fetch(url, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(data.detail || response.statusText, data.problems);
  return data;
}

// -- countdowns, by our server's clock ----------------------------------------------------

function words(seconds) {
  if (seconds < 1) return "now";
  let s = Math.floor(seconds);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (d) return `${d}d ${h}h ${pad(m)}m`;
  if (h) return `${h}h ${pad(m)}m ${pad(s)}s`;
  return `${m}m ${pad(s)}s`;
}

function tick() {
  const now = Date.now() + skewMs;
  for (const el of document.querySelectorAll(".countdown[data-at]")) {
    const left = (Date.parse(el.dataset.at) - now) / 1000;
    el.textContent = el.classList.contains("short") ? shortWords(left) : "in " + words(left);
    el.dataset.left = Math.max(0, Math.round(left));
  }
}

function shortWords(seconds) {
  if (seconds < 1) return "open";
  const h = Math.floor(seconds / 3600);
  return h >= 24 ? `${Math.floor(h / 24)}d` : h ? `${h}h` : `${Math.ceil(seconds / 60)}m`;
}

// -- live updates ---------------------------------------------------------------------------

let refreshing = null;

async function refreshLive(keepEditors = false) {
  const live = document.getElementById("live");
  if (!live) return;
  const url = new URL(location.href);
  url.searchParams.set("partial", "1");
  const response = await fetch(url, {credentials: "same-origin"});
  if (response.ok) {
    const editing = keepEditors ? openEditors(live) : [];
    live.innerHTML = await response.text();
    reopen(live, editing);
    tick();
  }
}

// A live refresh must not close a form the user has open (reschedule, password): each open
// <details> is found again by its form's action and subject, and gets back what was typed.
function editorKey(details) {
  const form = details.querySelector("form[data-action]");
  return form ? `${form.dataset.action}:${form.dataset.id || form.dataset.netid || ""}` : null;
}

function openEditors(live) {
  const focused = document.activeElement;
  return [...live.querySelectorAll("details[open]")].map((details) => ({
    key: editorKey(details),
    values: [...details.querySelectorAll("input[name], select[name], textarea[name]")].map(
      (input) => [input.name, input.type === "checkbox" ? input.checked : input.value]),
    focus: details.contains(focused) && focused.name ? focused.name : null,
  })).filter((editor) => editor.key);
}

function reopen(live, editing) {
  for (const editor of editing) {
    const details = [...live.querySelectorAll("details")].find((d) => editorKey(d) === editor.key);
    if (!details) continue;  // its subject is gone (e.g. the booking was cancelled)
    details.open = true;
    for (const [name, value] of editor.values) {
      const input = details.querySelector(`[name="${name}"]`);
      if (!input) continue;
      if (input.type === "checkbox") input.checked = value; else input.value = value;
    }
    if (editor.focus) details.querySelector(`[name="${editor.focus}"]`)?.focus();
  }
}

function scheduleRefresh() {
  clearTimeout(refreshing);
  refreshing = setTimeout(() => refreshLive(true), 150);
}

function markOurs(event) {
  // The grid turns at once; the refresh that follows confirms it from the store.
  const selected = body.dataset.account;
  const sub = event.sub_location || "";
  for (const cell of document.querySelectorAll(".grid td.cell")) {
    const d = cell.dataset;
    if (d.location === event.location && d.day === event.day && Number(d.hour) === event.hour
        && (d.sub === sub || !sub)) {
      const state = !selected || selected === event.account ? "ours" : "team";
      cell.className = "cell " + state;
      cell.innerHTML = `<span class="holder"></span>`;
      cell.querySelector(".holder").textContent = event.account;
      if (sub || !d.sub) break;
    }
  }
}

function listen() {
  const live = document.getElementById("live");
  const dot = document.getElementById("live-dot");
  if (!window.EventSource || !dot) return;
  const wanted = new Set((live && live.dataset.refreshOn || "").split(" ").filter(Boolean));
  const source = new EventSource("/api/events");
  source.onopen = () => { dot.className = "dot on"; dot.title = "live"; };
  source.onerror = () => { dot.className = "dot off"; dot.title = "reconnecting"; };
  const kinds = ["strike_fired", "attempt", "booking_won", "booking_released", "block_completed",
    "block_failed", "slot_freed", "daemon"];
  for (const kind of kinds) {
    source.addEventListener(kind, (message) => {
      const event = JSON.parse(message.data);
      body.dataset.lastEvent = kind;
      if (kind === "booking_won") markOurs(event);
      if (wanted.has(kind)) scheduleRefresh();
    });
  }
}

// -- actions ----------------------------------------------------------------------------------

function formData(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.value !== "") out[el.name] = el.value;
  }
  return out;
}

async function run(label, action, after) {
  try {
    flash(label + "…", "info");
    const result = await action();
    flash(label + ": done.", "ok");
    if (after) after(result); else await refreshLive();
  } catch (error) {
    const lines = [error.message, ...(error.problems || []).map((p) => `${p.path}: ${p.message}`)];
    flash(label + " failed: " + lines.join(" · "), "error");
  }
}

const actions = {
  "book": (el) => {
    const cell = el.closest("td.cell");
    const account = body.dataset.account;
    if (!account) { flash("Choose an account above first.", "error"); return; }
    const d = cell.dataset;
    return run(`Booking ${d.sub || d.location} ${d.day} ${d.hour}:00 for ${account}`, () =>
      api("POST", "/api/bookings", {account, location: d.location, sub_location: d.sub || null,
        date: d.day, hour: Number(d.hour)}));
  },
  "cancel-booking": (el) => {
    if (!confirm(`Cancel booking ${el.dataset.id} on the site?`)) return;
    return run(`Cancelling booking ${el.dataset.id}`,
      () => api("DELETE", `/api/bookings/${el.dataset.id}`));
  },
  "cancel-strike": (el) => run(`Cancelling strike ${el.dataset.id}`,
    () => api("DELETE", `/api/strikes/${el.dataset.id}`)),
  "cancel-target": (el) => {
    if (!confirm("Stop pursuing this target? Its waiting strikes are cancelled.")) return;
    return run(`Cancelling target ${el.dataset.id}`,
      () => api("DELETE", `/api/targets/${el.dataset.id}`));
  },
  "refresh-slots": (el) => run(`Reading ${el.dataset.location} from the site`, () =>
    api("POST", "/api/slots/refresh", {location: el.dataset.location,
      date: el.dataset.date || null, days: Number(el.dataset.days || 3)})),
  "toggle-account": (el) => run(`Updating ${el.dataset.netid}`, () =>
    api("PUT", `/api/accounts/${encodeURIComponent(el.dataset.netid)}`,
      {active: el.dataset.active === "true"})),
  "remove-account": (el) => {
    if (!confirm(`Remove ${el.dataset.netid} and its stored password?`)) return;
    return run(`Removing ${el.dataset.netid}`, () =>
      api("DELETE", `/api/accounts/${encodeURIComponent(el.dataset.netid)}`));
  },
  "logout": () => api("POST", "/logout").then(() => location.reload()),
  "add-priority": () => addPriority(),
  "plan-target": () => submitTarget(false),
};

const forms = {
  "login": (form) => run("Logging in", () =>
    api("POST", "/login", {token: form.elements.token.value}),
    () => { location.href = location.pathname === "/login" ? "/" : location.href; }),
  "move-booking": (form) => {
    const data = formData(form);
    return run(`Moving booking ${form.dataset.id}`, () =>
      api("POST", `/api/bookings/${form.dataset.id}/move`, {date: data.date,
        hour: Number(data.hour), location: data.location || null,
        sub_location: data.sub_location || null}));
  },
  "account-password": (form) => {
    const data = formData(form);
    return run(`Changing the password of ${form.dataset.netid}`, () =>
      api("PUT", `/api/accounts/${encodeURIComponent(form.dataset.netid)}`,
        {password: data.password, check: data.check}));
  },
  "add-account": (form) => {
    const data = formData(form);
    return run(`Adding ${data.netid}`, () => api("POST", "/api/accounts", {
      netid: data.netid, password: data.password, login: data.login || null,
      site: data.site || null, site_url: data.site_url || null, check: data.check,
    }), () => location.reload());
  },
};

document.addEventListener("click", (e) => {
  const el = e.target.closest("button[data-action]");
  if (!el || !actions[el.dataset.action]) return;
  e.preventDefault();
  actions[el.dataset.action](el);
});

document.addEventListener("submit", (e) => {
  const form = e.target;
  if (form.id === "target-form") { e.preventDefault(); submitTarget(true); return; }
  if (!forms[form.dataset.action]) return;
  e.preventDefault();
  forms[form.dataset.action](form);
});

const switcher = document.getElementById("account-switcher");
if (switcher) {
  switcher.addEventListener("change", () => {
    document.cookie = `snipe_account=${encodeURIComponent(switcher.value)}; Path=/; SameSite=Strict`;
    location.reload();
  });
}

// -- the snipe-job form ---------------------------------------------------------------------

const targetForm = document.getElementById("target-form");

function addPriority(location) {
  const list = document.getElementById("priorities");
  const names = JSON.parse(targetForm.dataset.locations);
  const subs = JSON.parse(targetForm.dataset.subs);
  const item = document.createElement("li");
  item.className = "priority";
  const select = document.createElement("select");
  select.name = "location";
  select.setAttribute("aria-label", "location");
  for (const name of names) select.add(new Option(name, name));
  // The first row defaults to the first location with halls (X1), the next ones follow it.
  const halled = names.filter((n) => (subs[n] || []).length);
  const order = [...halled, ...names.filter((n) => !halled.includes(n))];
  select.value = location || order[list.children.length % order.length];
  const halls = document.createElement("span");
  halls.className = "subs";
  const fill = () => {
    halls.replaceChildren();
    for (const sub of subs[select.value] || []) {
      const label = document.createElement("label");
      label.className = "check";
      label.innerHTML = `<input type="checkbox" name="sub" checked> `;
      label.querySelector("input").value = sub;
      label.append(sub);
      halls.append(label);
    }
  };
  select.addEventListener("change", fill);
  const most = document.createElement("label");
  // An account books a location once a day: an N-hour hall block needs N accounts.
  const hours = Number(targetForm.elements.consecutive_hours.value) || 1;
  most.innerHTML = `max accounts <input type="number" name="max_accounts" min="1" value="${hours}">`;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "×";
  remove.setAttribute("aria-label", "remove this location");
  remove.addEventListener("click", () => item.remove());
  item.append(select, halls, most, remove);
  list.append(item);
  fill();
}

function ranges(text) {
  return (text || "").split(",").map((t) => t.trim()).filter(Boolean);
}

function targetDocument() {
  const f = targetForm.elements;
  const when = targetForm.querySelector("input[name=when]:checked").value;
  const config = {consecutive_hours: Number(f.consecutive_hours.value),
    time_window: {start: f.window_start.value, end: f.window_end.value}};
  if (f.name.value.trim()) config.name = f.name.value.trim();
  if (when === "date") config.target_date = f.target_date.value;
  if (when === "weekday") config.target_date = f.weekday.value;
  if (when === "range") config.date_range = {start: f.range_start.value, end: f.range_end.value};
  if (f.weekly.checked) config.repeat = "weekly";
  config.priorities = [...document.querySelectorAll("#priorities li")].map((li, i) => ({
    rank: i + 1, location: li.querySelector("select").value,
    sub_locations: [...li.querySelectorAll("input[name=sub]:checked")].map((c) => c.value),
    max_accounts: Number(li.querySelector("input[name=max_accounts]").value || 1)}));
  if (f.accept.value) config.fallback_strategy = `accept_${f.accept.value}_consecutive_hours`;
  const preferred = ranges(f.preferred_times.value);
  const avoid = ranges(f.avoid_times.value);
  if (preferred.length) config.preferred_times = preferred;
  if (avoid.length) config.avoid_times = avoid;
  config.allow_weekends = f.allow_weekends.checked;
  config.allow_evenings = f.allow_evenings.checked;
  if (f.insurance.value) config.insurance = f.insurance.value;
  const accounts = [...targetForm.querySelectorAll("input[name=accounts]:checked")].map((c) => c.value);
  if (accounts.length) config.accounts = accounts;
  const site = {profile: targetForm.dataset.profile};
  if (targetForm.dataset.baseUrl) site.base_url = targetForm.dataset.baseUrl;
  return {site, snipe_config: config};
}

function showProblems(problems) {
  const list = document.getElementById("problems");
  list.replaceChildren();
  for (const p of problems) {
    const li = document.createElement("li");
    li.textContent = `${p.path}: ${p.message}`;
    list.append(li);
  }
}

function cellText(row, values) {
  for (const v of values) {
    const td = document.createElement("td");
    td.textContent = v;
    row.append(td);
  }
}

function scrolling(table) {
  const wrap = document.createElement("div");
  wrap.className = "scroll";
  wrap.append(table);
  return wrap;
}

function showPlan(plan, saved) {
  const box = document.getElementById("plan");
  box.replaceChildren();
  const head = document.createElement("h2");
  head.textContent = saved ? "Saved: the daemon fires these strikes" : "The plan (not saved yet)";
  box.append(head);
  for (const t of plan.targets) {
    for (const line of t.explanation) {
      const p = document.createElement("p");
      p.textContent = line;
      box.append(p);
    }
    if (t.candidates && t.candidates.length) {
      const table = document.createElement("table");
      table.className = "candidates";
      table.innerHTML = "<thead><tr><th>day</th><th>hours</th><th>date</th><th>time</th><th>avoid</th><th>wknd/eve</th><th>W_C</th></tr></thead><tbody></tbody>";
      for (const c of t.candidates) {
        const row = document.createElement("tr");
        const s = c.score;
        cellText(row, [c.day, `${c.start}-${c.end}`, s.date_match, s.time_of_day_match,
          s.avoid_time_penalty, s.weekend_evening_bonus, s.total + (c.needs_confirmation ? " ⚠" : "")]);
        table.tBodies[0].append(row);
      }
      box.append(scrolling(table));
    }
  }
  const table = document.createElement("table");
  table.id = "plan-strikes";
  table.innerHTML = "<thead><tr><th>fires</th><th>slot</th><th>where</th><th>accounts</th><th>state</th></tr></thead><tbody></tbody>";
  for (const s of plan.strikes) {
    const row = document.createElement("tr");
    const where = `#${s.rank} ${s.location}` + (s.sub_locations.length ? ` (${s.sub_locations.join(", ")})` : "");
    cellText(row, [s.fire_at_local.replace("T", " ").slice(0, 16), s.slot_start.replace("T", " ").slice(0, 16),
      where, s.accounts.join(", "), s.state]);
    table.tBodies[0].append(row);
  }
  box.append(scrolling(table));
  for (const w of plan.warnings) {
    const p = document.createElement("p");
    p.className = "warning";
    p.textContent = w;
    box.append(p);
  }
}

async function submitTarget(save) {
  showProblems([]);
  try {
    flash(save ? "Saving…" : "Planning…", "info");
    const plan = await api("POST", save ? "/api/targets" : "/api/targets/plan", targetDocument());
    showPlan(plan, save);
    flash(save ? "Saved." : "Planned: nothing saved yet.", "ok");
    if (save) await refreshLive();
  } catch (error) {
    showProblems(error.problems.length ? error.problems : [{path: "$", message: error.message}]);
    flash(error.message, "error");
  }
}

if (targetForm) {
  addPriority();
  for (const radio of targetForm.querySelectorAll("input[name=when]")) {
    radio.addEventListener("change", () => {
      for (const el of targetForm.querySelectorAll("[data-when]")) el.hidden = el.dataset.when !== radio.value;
    });
  }
}

tick();
setInterval(tick, 1000);
listen();
