// The responder console's glue: sign-in (the token kept in this tab's sessionStorage and sent
// only in the Authorization header), the hash routes that htmx swaps server-rendered parts in
// for, the role feeds read with fetch (EventSource cannot send a header) and parsed by
// eventsource-parser, countdowns, and the task and incident actions sent to the agent API.
// Every string from the server or an event is put into the page as text, never as markup
// (the parts are HTML the server escaped).
import { createParser } from "./vendor/eventsource-parser.js";

const TOKEN_KEY = "orchestrator.console.token";
const RETRY_MS = 2000;
const REFRESH_DEBOUNCE_MS = 150;
const TITLE = "Responder console";
const htmx = window.htmx;

const state = {
  token: null,
  session: null,
  feeds: null,
  poller: null,
  refreshTimer: null,
  view: null,
  clockOffset: 0,
};

const $ = (id) => document.getElementById(id);

function say(text, kind) {
  const answer = $("answer");
  answer.textContent = text;
  answer.className = `answer ${kind || ""}`;
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// -- sign-in -------------------------------------------------------------------------------

async function signIn(token, quiet) {
  let response;
  try {
    response = await fetch("/console/session", {
      headers: { Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
  } catch (err) {
    $("signin-error").textContent = "The server cannot be reached; try again.";
    return;
  }
  if (!response.ok) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (!quiet) {
      $("signin-error").textContent =
        response.status === 401
          ? "That token belongs to no responder."
          : `Sign-in failed (${response.status}).`;
    }
    return;
  }
  state.token = token;
  state.session = await response.json();
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token").value = "";
  $("signin-error").textContent = "";
  const roles = state.session.roles.length ? state.session.roles.join(", ") : "no roles";
  $("who-name").textContent = `${state.session.name} (${roles})`;
  $("signin-panel").hidden = true;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("main").hidden = false;
  startFollowing();
  route();
}

function signOut(message) {
  stopFollowing();
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.session = null;
  state.view = null;
  history.replaceState(null, "", location.pathname); // the next responder starts on the board
  $("main").replaceChildren();
  $("main").hidden = true;
  $("nav").hidden = true;
  $("who").hidden = true;
  $("signin-panel").hidden = false;
  $("signin-error").textContent = message || "";
  document.title = TITLE;
  say("");
  $("token").focus();
}

// -- views ---------------------------------------------------------------------------------

function partFor(hash) {
  if (hash.startsWith("#/incidents/")) {
    const id = decodeURIComponent(hash.slice("#/incidents/".length));
    return `/console/parts/incidents/${encodeURIComponent(id)}`;
  }
  if (hash.startsWith("#/incidents")) {
    const query = hash.split("?")[1];
    return `/console/parts/incidents${query ? `?${query}` : ""}`;
  }
  return "/console/parts/board";
}

function route() {
  if (!state.session) return;
  const hash = location.hash;
  if (hash && !hash.startsWith("#/")) return; // an in-page anchor (the skip link)
  state.view = partFor(hash || "#/board");
  say(""); // an answer belongs to the view it was given on
  load(true);
}

function load(focus) {
  if (!state.view) return;
  htmx.ajax("GET", state.view, { target: "#main", swap: "innerHTML" }).then(() => {
    if (focus) $("main").querySelector("h1")?.focus();
  });
}

function refreshSoon() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    // keep what the responder is typing: refresh later if a form field has focus
    if (document.activeElement?.closest("#main form")) return refreshSoon();
    load(false);
  }, REFRESH_DEBOUNCE_MS);
}

document.body.addEventListener("htmx:configRequest", (event) => {
  if (state.token) event.detail.headers.Authorization = `Bearer ${state.token}`;
});

document.body.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status === 401) signOut("Your token was refused; sign in again.");
  else say(`The page could not be loaded (${status}).`, "refused");
});

document.body.addEventListener("htmx:afterSwap", () => {
  const view = $("main").querySelector("[data-now]");
  if (view) state.clockOffset = Date.parse(view.dataset.now) - Date.now();
  const board = $("main").querySelector("[data-waiting]");
  if (board) {
    const waiting = Number(board.dataset.waiting);
    document.title = waiting > 0 ? `(${waiting}) ${TITLE}` : TITLE;
  }
  tick();
});

// -- live feeds ----------------------------------------------------------------------------

async function follow(role, signal) {
  let last = null;
  while (!signal.aborted) {
    try {
      const headers = { Authorization: `Bearer ${state.token}` };
      if (last !== null) headers["Last-Event-ID"] = last;
      const response = await fetch(`/roles/${encodeURIComponent(role)}/feed`, {
        headers,
        signal,
        cache: "no-store",
      });
      if (response.status === 401) return signOut("Your token was refused; sign in again.");
      if (!response.ok) setLive(false, `refused (${response.status})`);
      if (response.ok) {
        setLive(true);
        const parser = createParser({
          onEvent(message) {
            if (message.id) last = message.id;
            refreshSoon();
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
    }
    if ($("live").textContent === "feed: live") setLive(false);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function setLive(on, why) {
  const live = $("live");
  live.textContent = on ? "feed: live" : `feed: ${why || "reconnecting"}`;
  live.className = `live ${on ? "on" : "off"}`;
}

function startFollowing() {
  stopFollowing();
  state.feeds = new AbortController();
  for (const role of state.session.feeds) follow(role, state.feeds.signal);
  if (state.session.poll_seconds > 0) {
    $("live").textContent = `feed: every ${state.session.poll_seconds} s`;
    state.poller = setInterval(refreshSoon, state.session.poll_seconds * 1000);
  } else if (state.session.feeds.length === 0) {
    $("live").textContent = "feed: none (no role)";
  }
}

function stopFollowing() {
  if (state.feeds) state.feeds.abort();
  if (state.poller) clearInterval(state.poller);
  state.feeds = null;
  state.poller = null;
}

// -- countdowns ----------------------------------------------------------------------------

function spell(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const [d, h, m, s] = [
    Math.floor(total / 86400),
    Math.floor((total % 86400) / 3600),
    Math.floor((total % 3600) / 60),
    total % 60,
  ];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}m ${String(s).padStart(2, "0")}s`;
}

function tick() {
  const now = Date.now() + state.clockOffset;
  for (const clock of document.querySelectorAll("time[data-due]")) {
    const left = Date.parse(clock.dataset.due) - now;
    clock.textContent = left >= 0 ? `in ${spell(left)}` : `overdue by ${spell(left)}`;
    clock.className = left >= 0 ? "due" : "overdue";
    clock.title = clock.dataset.due;
  }
}

setInterval(tick, 1000);

// -- actions -------------------------------------------------------------------------------

async function act(kind, target, body) {
  const url = target.task
    ? `/tasks/${encodeURIComponent(target.task)}/${kind}`
    : `/incidents/${encodeURIComponent(target.incident)}/${kind}`;
  const headers = { Authorization: `Bearer ${state.token}`, "Idempotency-Key": newKey() };
  const init = { method: "POST", headers, cache: "no-store" };
  if (body) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  say(`Sending ${kind}…`);
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    try {
      response = await fetch(url, init); // one retry with the same Idempotency-Key
    } catch (again) {
      return say(`Not sent: the server cannot be reached (${kind}); try again.`, "refused");
    }
  }
  const answer = await response.json().catch(() => ({}));
  if (response.status === 202) {
    say(`Accepted: ${kind} recorded for ${answer.actor} at ${answer.time}.`, "accepted");
  } else if (response.status === 401) {
    return signOut("Your token was refused; sign in again.");
  } else {
    const title = answer.title || response.statusText;
    say(`Refused (${response.status} ${title}): ${answer.detail || "no reason given"}`, "refused");
  }
  load(false);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-act]");
  if (!button || button.form) return;
  act(button.dataset.act, { task: button.dataset.task }, null);
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.id === "signin") {
    event.preventDefault();
    signIn($("token").value.trim(), false);
  } else if (form.matches("form[data-act]")) {
    event.preventDefault();
    const fields = Object.fromEntries(
      Array.from(new FormData(form)).filter(([, value]) => String(value).trim() !== ""),
    );
    const body = Object.keys(fields).length ? fields : null;
    act(form.dataset.act, { task: form.dataset.task, incident: form.dataset.incident }, body);
  } else if (form.matches("form[data-filters]")) {
    event.preventDefault();
    filter(form);
  }
});

function filter(form) {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (value) query.set(name, value);
  location.hash = `#/incidents?${query}`;
}

document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-filters]");
  if (form) filter(form);
});

window.addEventListener("hashchange", route);
$("signout").addEventListener("click", () => signOut("Signed out."));

const kept = sessionStorage.getItem(TOKEN_KEY);
if (kept) signIn(kept, true);
else $("token").focus();
