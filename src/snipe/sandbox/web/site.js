// Shared by every page: the session in localStorage, API calls with the bearer token.
"use strict";
const SITE = window.SITE;

function readAuth() {
  try {
    const auth = JSON.parse(localStorage.getItem(SITE.storageKey));
    return auth && auth.isLoggedIn && auth.tokenResponse && auth.tokenResponse.accessToken ? auth : null;
  } catch (e) {
    return null;
  }
}

function goLogin() {
  localStorage.removeItem(SITE.storageKey);
  window.location.replace(SITE.pages.login);
}

async function api(path, options = {}) {
  const auth = readAuth();
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (auth) headers.Authorization = "Bearer " + auth.tokenResponse.accessToken;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch("/api" + path, { method: options.method || "GET", headers, body: options.body });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return { status: response.status, ok: response.ok, data };
}

// The app's guard: a missing, expired or refused session sends the user to the login page.
async function requireLogin() {
  const auth = readAuth();
  if (!auth) { goLogin(); return null; }
  const me = await api("/auth?cf=0");
  if (me.status === 401) { goLogin(); return null; }
  return auth;
}

function localParts(iso) {
  const d = new Date(iso);
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: SITE.timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
  const time = new Intl.DateTimeFormat("en-GB", { timeZone: SITE.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
  return { day, time };
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.appendChild(child);
  return node;
}

// Times of slots as the API writes them: true UTC, or local wall-clock time with a false "Z".
function slotParts(iso) {
  return SITE.localZ ? { day: iso.slice(0, 10), time: iso.slice(11, 16) } : localParts(iso);
}

// A refusal's message: NestJS answers validation failures with a list of messages.
function messageOf(answer) {
  const message = answer.data && answer.data.message;
  return Array.isArray(message) ? message.join("; ") : message;
}
