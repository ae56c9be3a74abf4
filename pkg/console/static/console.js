// The Signal console: plain DOM, no dependencies, nothing about any
// domain. The app's shape comes from GET /app. The script only ever
// writes text (textContent, DOM nodes), never HTML, so the
// Content-Security-Policy can forbid inline script and require Trusted
// Types with no policy at all.
"use strict";

(() => {
  const REQUEST_TIMEOUT_MS = 10000;
  const DOUBLE_SUBMIT_MS = 1000; // the same request again within this is a double click
  const SLIDER_DEBOUNCE_MS = 120;
  const MAX_EVENTS = 5000; // the history lists at most this many

  const $ = (id) => document.getElementById(id);

  // el builds an element: props are properties (className, type...),
  // "data-*"/"aria-*"/"for"/"spellcheck" keys become attributes, on* keys listeners;
  // children are nodes or strings (as text).
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("data-") || k.startsWith("aria-") || k === "for" || k === "spellcheck") e.setAttribute(k, String(v));
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e[k] = v;
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      e.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
    }
    return e;
  }

  const plural = (n, one, many) => n + " " + (n === 1 ? one : many);
  const pretty = (v) => JSON.stringify(v, null, 2);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function randomHex(bytes) {
    const a = new Uint8Array(bytes);
    crypto.getRandomValues(a); // works outside secure contexts, unlike randomUUID
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- The API ---------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message);
      this.status = status; // 0: no answer
      this.code = code;
      this.body = body; // the JSON error document, when the API sent one
    }
  }

  // The API is the parent of the console's path ("/prod/console/" ->
  // "/prod/"): paths below are resolved against it, so a stage prefix
  // or any other mount point works.
  const ROOT = new URL("../", location.href);
  const apiURL = (path) => new URL(path.replace(/^\//, ""), ROOT);
  const enc = encodeURIComponent;
  const aggregatePath = (type, id) => "/aggregates/" + enc(type) + "/" + enc(id);

  // The caller the developer typed, for a server run with signal dev
  // -insecure-dev-auth, which believes this header; every other server
  // ignores it. Kept for the tab's session, so reloads and deep links
  // keep acting as the same caller.
  const DEV_CALLER_HEADER = "X-Signal-Insecure-Principal";
  const DEV_CALLER_KEY = "signal-console-dev-caller";

  function devCaller() {
    const v = $("dev-caller").value.trim();
    // fetch refuses header values outside Latin-1; say so, not "network".
    if (/[^\x20-\x7e]/.test(v)) {
      throw new ApiError(0, "invalid", "The caller may hold only printable ASCII characters, such as sub=alice; groups=admin.");
    }
    keepDevCaller(v);
    return v;
  }

  function keepDevCaller(v) {
    try {
      if (v) sessionStorage.setItem(DEV_CALLER_KEY, v);
      else sessionStorage.removeItem(DEV_CALLER_KEY);
    } catch (_) { /* storage may be off: the field still works */ }
  }

  function restoreDevCaller() {
    try {
      $("dev-caller").value = sessionStorage.getItem(DEV_CALLER_KEY) || "";
      if ($("dev-caller").value) $("dev-caller-panel").open = true;
    } catch (_) { /* storage may be off */ }
  }

  // api sends one request and answers {status, data, headers}; any non-2xx
  // answer, network failure or timeout is an ApiError with a message fit
  // for a person.
  async function api(method, path, { body, headers } = {}) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    const h = Object.assign({ Accept: "application/json" }, headers);
    // Every command says it is JSON: a local server refuses commands
    // without it, since a cross-site form cannot send that type.
    if (method !== "GET") h["Content-Type"] = "application/json";
    const caller = devCaller();
    if (caller) h[DEV_CALLER_HEADER] = caller;
    let res, text;
    try {
      res = await fetch(apiURL(path), {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        cache: "no-store",
        credentials: "same-origin",
      });
      text = await res.text();
    } catch (e) {
      if (ctrl.signal.aborted) {
        throw new ApiError(0, "timeout", "The server did not answer within " + REQUEST_TIMEOUT_MS / 1000 + " seconds.");
      }
      throw new ApiError(0, "network", "Cannot reach the server (" + ((e && e.message) || e) + "). Check that it is running, then try again.");
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!res.ok) {
      const err = data && data.error;
      const message = err && typeof err.message === "string" && err.message
        ? err.message
        : ("The server answered HTTP " + res.status + " " + res.statusText).trim() + ".";
      throw new ApiError(res.status, (err && err.code) || "http_" + res.status, message, err ? data : undefined);
    }
    if (data === null || typeof data !== "object") {
      throw new ApiError(res.status, "bad_response", "The server answered something that is not a JSON document.");
    }
    return { status: res.status, data, headers: res.headers };
  }

  // ---- Alert and status regions -----------------------------------------

  function showError(action, err) {
    const detail = err instanceof ApiError && err.status
      ? " (HTTP " + err.status + (err.code ? ", " + err.code : "") + ")"
      : "";
    const message = String((err && err.message) || err) + detail;
    $("alert").replaceChildren(
      el("p", { id: "alert-message" }, el("strong", {}, action + " failed: "), message),
      el("button", { type: "button", id: "alert-dismiss", className: "small", onclick: () => clearError(true) }, "Dismiss"),
    );
  }

  function clearError(focusBack) {
    const had = $("alert").contains(document.activeElement);
    $("alert").replaceChildren();
    if (focusBack && had) $("main").focus();
  }

  const say = (text) => { $("status").textContent = text; };

  // A form field the page itself refuses, before any request.
  class InputError extends Error {
    constructor(message, input) {
      super(message);
      this.input = input;
    }
  }

  function refuseInput(action, e) {
    showError(action, e);
    if (e.input) {
      e.input.setAttribute("aria-invalid", "true");
      e.input.focus();
    }
  }

  function required(input, what) {
    const v = input.value.trim();
    if (!v) throw new InputError("Enter " + what + ".", input);
    return v;
  }

  // ---- The app ---------------------------------------------------------

  const app = { name: "", types: [], views: [] };
  const typeNamed = (name) => app.types.find((t) => t.name === name);

  async function loadApp() {
    try {
      const d = (await api("GET", "/app")).data;
      app.name = d.name || "";
      app.types = Array.isArray(d.types) ? d.types : [];
      app.views = Array.isArray(d.views) ? d.views : [];
    } catch (e) {
      showError("Reading the app (GET /app)", e);
      $("types").replaceChildren(el("p", { className: "empty" }, "The app's description could not be read."));
      return false;
    }
    $("app-name").textContent = app.name || "app";
    document.title = (app.name ? app.name + " · " : "") + "Signal console";
    renderTypes();
    fillSelects();
    return true;
  }

  function fieldText(f) {
    return f.name + ": " + f.type + (f.items ? " of " + f.items : "") + (f.required ? "" : " (optional)");
  }

  function renderTypes() {
    if (app.types.length === 0) {
      $("types").replaceChildren(el("p", { className: "empty" }, "The app has no aggregate types."));
      return;
    }
    $("types").replaceChildren(...app.types.map((t) => el("section", { className: "type", "data-type": t.name, "aria-label": "Type " + t.name },
      el("h3", {}, t.name),
      el("h4", {}, "Commands"),
      el("ul", { className: "commands" }, ...(t.commands || []).map((c) => el("li", { className: "command", "data-command": c.name },
        el("span", { className: "command-name" }, c.name),
        c.genesis && el("span", { className: "badge genesis", title: "may create the aggregate" }, "genesis"),
        c.internal && el("span", { className: "badge internal", title: "sent only by the service itself" }, "internal"),
        (c.fields || []).length === 0
          ? el("span", { className: "no-fields" }, " no fields")
          : el("ul", { className: "fields-list" }, ...c.fields.map((f) => el("li", { className: "field", "data-field": f.name }, fieldText(f))))))),
      el("h4", {}, "Events"),
      el("ul", { className: "event-names" }, ...(t.events || []).map((e) => el("li", { className: "event", "data-event": e.name },
        e.name, e.terminal && el("span", { className: "badge terminal", title: "ends the aggregate's life" }, "terminal")))))));
  }

  const sendable = (t) => (t.commands || []).filter((c) => !c.internal);

  function fillSelects() {
    const withCommands = app.types.filter((t) => sendable(t).length > 0);
    $("command-type").replaceChildren(...withCommands.map((t) => el("option", { value: t.name }, t.name)));
    $("command-submit").disabled = withCommands.length === 0;
    $("history-type").replaceChildren(...app.types.map((t) => el("option", { value: t.name }, t.name)));
    $("view-names").replaceChildren(...app.views.map((v) => el("option", { value: v })));
    if (app.views.length > 0 && !$("view-name").value) $("view-name").value = app.views[0];
    fillCommands();
  }

  // ---- Commands --------------------------------------------------------

  function fillCommands() {
    const t = typeNamed($("command-type").value);
    const cmds = t ? sendable(t) : [];
    $("command-name").replaceChildren(...cmds.map((c) => el("option", { value: c.name }, c.name + (c.genesis ? " (genesis)" : ""))));
    fillFields();
  }

  function chosenCommand() {
    const t = typeNamed($("command-type").value);
    return t && sendable(t).find((c) => c.name === $("command-name").value);
  }

  // fillFields builds one input per field of the chosen command: text
  // for strings, number inputs for numbers, a choice for booleans, JSON
  // for the rest.
  function fillFields() {
    const c = chosenCommand();
    const fields = (c && c.fields) || [];
    if (fields.length === 0) {
      $("command-fields").replaceChildren(el("p", { className: "hint" }, c ? "This command takes no fields: the body is {}." : ""));
      return;
    }
    $("command-fields").replaceChildren(...fields.map((f, i) => {
      const id = "field-" + i;
      const common = { id, name: f.name, "data-field": f.name, "data-type": f.type, "aria-describedby": id + "-hint" };
      let input;
      if (f.type === "boolean") {
        input = el("select", common, ...(f.required ? [] : [el("option", { value: "" }, "(leave out)")]),
          el("option", { value: "false" }, "false"), el("option", { value: "true" }, "true"));
      } else if (f.type === "integer" || f.type === "number") {
        input = el("input", Object.assign({ type: "number", step: f.type === "integer" ? "1" : "any", inputMode: f.type === "integer" ? "numeric" : "decimal" }, common));
      } else if (f.type === "string") {
        input = el("input", Object.assign({ autocomplete: "off", autocapitalize: "off", spellcheck: "false" }, common));
      } else {
        input = el("textarea", Object.assign({ rows: 3, spellcheck: "false", placeholder: f.type === "array" ? "[ ]" : "{ }" }, common));
      }
      input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
      return el("div", { className: "field" + (input.tagName === "TEXTAREA" ? " grow" : "") },
        el("label", { for: id }, f.name),
        input,
        el("span", { id: id + "-hint", className: "hint" }, f.type + (f.items ? " of " + f.items : "") + (f.type === "array" || f.type === "object" || f.type === "any" ? ", as JSON" : "") + (f.required ? "" : ", optional")));
    }));
  }

  // commandBody reads the fields into the JSON body; an empty field is
  // left out. A value that is not of the field's type is an InputError.
  function commandBody() {
    const body = {};
    for (const input of $("command-fields").querySelectorAll("[data-field]")) {
      const name = input.dataset.field;
      const raw = input.value.trim();
      if (raw === "") continue;
      switch (input.dataset.type) {
        case "string":
          body[name] = input.value;
          break;
        case "boolean":
          body[name] = raw === "true";
          break;
        case "integer":
          if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new InputError(name + " must be a whole number.", input);
          body[name] = Number(raw);
          break;
        case "number":
          if (!Number.isFinite(Number(raw))) throw new InputError(name + " must be a number.", input);
          body[name] = Number(raw);
          break;
        default:
          try {
            body[name] = JSON.parse(raw);
          } catch (_) {
            throw new InputError(name + " must be JSON (" + input.dataset.type + ").", input);
          }
      }
    }
    return body;
  }

  const recent = new Map(); // request signature -> {key, at}

  // idempotencyKey returns a fresh key for each action, except that the
  // very same request again within DOUBLE_SUBMIT_MS (a double click)
  // reuses it, so the API applies it once.
  function idempotencyKey(signature) {
    const now = performance.now();
    for (const [k, v] of recent) if (now - v.at > 10 * DOUBLE_SUBMIT_MS) recent.delete(k);
    const r = recent.get(signature);
    if (r && now - r.at < DOUBLE_SUBMIT_MS) return r.key;
    const key = "console-" + randomHex(16);
    recent.set(signature, { key, at: now });
    return key;
  }

  let sending = false;

  async function onSend(ev) {
    ev.preventDefault();
    if (sending) return;
    for (const i of $("command-form").querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
    const type = $("command-type").value;
    const cmd = chosenCommand();
    let id, body;
    try {
      if (!cmd) throw new InputError("Choose a command.", $("command-name"));
      id = required($("command-id"), "an aggregate id");
      body = commandBody();
    } catch (e) {
      if (e instanceof InputError) return refuseInput("Send command", e);
      throw e;
    }
    const path = aggregatePath(type, id) + "/" + enc(cmd.name);
    const key = idempotencyKey(path + " " + JSON.stringify(body));
    const label = cmd.name + " to " + type + " " + id;
    sending = true;
    $("command-submit").setAttribute("aria-busy", "true");
    try {
      let res;
      for (let attempt = 1; ; attempt++) {
        try {
          res = await api("POST", path, { body, headers: { "Idempotency-Key": key } });
          break;
        } catch (e) {
          // a lost answer is retried with the same key: applied once
          if (attempt < 3 && e instanceof ApiError && (e.status === 0 || e.status === 503)) {
            await sleep(300 * attempt);
            continue;
          }
          throw e;
        }
      }
      clearError(false);
      const d = res.data;
      const dup = res.headers.get("X-Signal-Duplicate") === "true";
      const line = "HTTP " + res.status + (res.status === 201 ? " created" : "") + ": " + d.type + " " + d.id + " is at version " + d.version +
        (dup ? " (a repeat: nothing changed)" : "") + ".";
      showResult("ok", line, d);
      say(label + ": done, version " + d.version + ".");
      $("history-type").value = type;
      $("history-id").value = id;
      loadHistory(type, id);
    } catch (e) {
      showError(label, e);
      showResult("error", e.status ? "HTTP " + e.status + " " + e.code : e.code, e.body || { error: { code: e.code, message: e.message } });
      say("");
    } finally {
      sending = false;
      $("command-submit").removeAttribute("aria-busy");
    }
  }

  function showResult(kind, line, doc) {
    $("command-result").replaceChildren(
      el("p", { className: "result-line " + kind, "data-kind": kind }, line),
      el("pre", { className: "json", tabindex: 0, "aria-label": kind === "ok" ? "The answer, as JSON" : "The error, as JSON" }, pretty(doc)));
  }

  // ---- History ---------------------------------------------------------

  const hist = {
    type: "",
    id: "",
    events: [],
    version: 0,
    closed: false,
    states: new Map(), // version -> state document
    token: 0,
  };
  let versionToken = 0;
  let sliderTimer = 0;

  async function fetchEvents(type, id) {
    const out = [];
    let after = 0;
    for (;;) {
      const r = await api("GET", aggregatePath(type, id) + "/events?after=" + after + "&limit=1000");
      out.push(...(r.data.events || []));
      if (!r.data.next || out.length >= MAX_EVENTS) return out;
      after = r.data.next;
    }
  }

  async function loadHistory(type, id, { focus } = {}) {
    const token = ++hist.token;
    $("history-load").setAttribute("aria-busy", "true");
    try {
      const current = (await api("GET", aggregatePath(type, id))).data;
      const events = await fetchEvents(type, id);
      if (token !== hist.token) return;
      Object.assign(hist, { type, id, events, version: current.version, closed: !!current.closed, states: new Map() });
      hist.states.set(current.version, current);
      const link = "#" + enc(type) + "/" + enc(id);
      if (location.hash !== link) history.replaceState(null, "", link);
      renderHistory(current.version);
      showVersion(current.version);
      say("Showing " + plural(events.length, "event", "events") + " of " + type + " " + id + ".");
      if (focus) $("history-heading").focus();
    } catch (e) {
      if (token === hist.token) showError("Show the history of " + type + " " + id, e);
    } finally {
      if (token === hist.token) $("history-load").removeAttribute("aria-busy");
    }
  }

  function renderHistory(selected) {
    $("history-empty").hidden = true;
    $("history").hidden = false;
    const slider = $("version-slider");
    slider.min = "1";
    slider.max = String(Math.max(1, hist.version));
    slider.value = String(selected);
    $("version-max").textContent = String(hist.version);
    $("history-title").textContent = hist.type + " " + hist.id + ": " +
      plural(hist.events.length, "event", "events") + ", version " + hist.version + (hist.closed ? " (closed)" : "");
    $("events").replaceChildren(...hist.events.map(eventItem));
    markSelected(selected);
  }

  function eventItem(e) {
    const when = new Date(e.time);
    const meta = [
      ["Event id", e.id, "event-id"],
      ["Command id", e.commandId, "command-id"],
      ["Correlation id", e.correlationId, "correlation-id"],
      ["Causation id", e.causationId, "causation-id"],
      ["Actor", e.actor, "actor"],
      ["Schema version", e.schemaVersion === undefined ? undefined : String(e.schemaVersion), "schema-version"],
    ].filter(([, v]) => v !== undefined && v !== null && v !== "" && typeof v !== "object");
    return el("li", { className: "event-item", "data-version": e.version },
      el("div", { className: "event-head" },
        el("span", { className: "badge" }, "v" + e.version),
        el("span", { className: "event-name" }, e.name),
        el("time", { className: "event-time", dateTime: e.time, title: e.time }, isNaN(when) ? String(e.time) : when.toLocaleString()),
        el("button", { type: "button", className: "small goto", "data-version": e.version, onclick: () => selectVersion(e.version, true) },
          "State at v" + e.version)),
      el("dl", { className: "meta" }, ...meta.flatMap(([k, v, cls]) => [el("dt", {}, k), el("dd", { className: cls }, String(v))])),
      el("pre", { className: "json event-data", "aria-label": "Data of event " + e.version }, pretty(e.data)));
  }

  function markSelected(v) {
    $("version-value").textContent = String(v);
    $("version-slider").setAttribute("aria-valuetext", "version " + v + " of " + hist.version);
    for (const li of $("events").children) {
      const n = Number(li.dataset.version);
      li.classList.toggle("future", n > v);
      if (n === v) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
  }

  function selectVersion(v, now) {
    $("version-slider").value = String(v);
    markSelected(v);
    clearTimeout(sliderTimer);
    if (now) showVersion(v);
    else sliderTimer = setTimeout(() => showVersion(v), SLIDER_DEBOUNCE_MS);
  }

  // showVersion shows the state at version v (GET ?version=v, once per
  // version); a later choice wins over a slower answer.
  async function showVersion(v) {
    const token = ++versionToken;
    const { type, id } = hist;
    try {
      let doc = hist.states.get(v);
      if (!doc) {
        doc = (await api("GET", aggregatePath(type, id) + "?version=" + v)).data;
        if (type === hist.type && id === hist.id) hist.states.set(v, doc);
      }
      if (token !== versionToken || type !== hist.type || id !== hist.id) return;
      $("version-state").dataset.version = String(doc.version);
      $("version-state").textContent = pretty(doc.state);
    } catch (e) {
      if (token === versionToken) showError("Show " + type + " " + id + " at version " + v, e);
    }
  }

  // ---- Views -----------------------------------------------------------

  let viewToken = 0;

  async function onReadView(ev) {
    ev.preventDefault();
    let name, key;
    try {
      name = required($("view-name"), "a view name");
      key = required($("view-key"), "a key");
    } catch (e) {
      if (e instanceof InputError) return refuseInput("Read view", e);
      throw e;
    }
    const token = ++viewToken;
    $("view-load").setAttribute("aria-busy", "true");
    try {
      const d = (await api("GET", "/views/" + enc(name) + "/" + enc(key))).data;
      if (token !== viewToken) return;
      clearError(false);
      $("view-meta").textContent = d.view + "/" + d.key + ", version " + d.version;
      $("view-doc").textContent = pretty(d.data);
      $("view-doc").hidden = false;
      say("Read " + name + "/" + key + ".");
    } catch (e) {
      if (token !== viewToken) return;
      $("view-meta").textContent = e.status === 404 ? "No document " + name + "/" + key + " (yet: views are built asynchronously)." : "";
      $("view-doc").hidden = true;
      showError("Read " + name + "/" + key, e);
    } finally {
      if (token === viewToken) $("view-load").removeAttribute("aria-busy");
    }
  }

  // ---- Wiring ----------------------------------------------------------

  // fromHash reads a deep link "#<type>/<id>".
  function fromHash() {
    const h = location.hash.slice(1);
    const i = h.indexOf("/");
    if (i <= 0 || i === h.length - 1) return null;
    try {
      return { type: decodeURIComponent(h.slice(0, i)), id: decodeURIComponent(h.slice(i + 1)) };
    } catch (_) {
      return null;
    }
  }

  function openFromHash() {
    const link = fromHash();
    if (!link || (link.type === hist.type && link.id === hist.id)) return;
    if (typeNamed(link.type)) $("history-type").value = link.type;
    $("history-id").value = link.id;
    loadHistory(link.type, link.id, { focus: true });
  }

  async function init() {
    restoreDevCaller();
    $("command-type").addEventListener("change", fillCommands);
    $("command-name").addEventListener("change", fillFields);
    $("command-form").addEventListener("submit", onSend);
    $("view-form").addEventListener("submit", onReadView);
    $("history-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      try {
        const id = required($("history-id"), "an aggregate id");
        loadHistory($("history-type").value, id);
      } catch (e) {
        if (e instanceof InputError) return refuseInput("Show events", e);
        throw e;
      }
    });
    const slider = $("version-slider");
    slider.addEventListener("input", () => selectVersion(Number(slider.value), false));
    slider.addEventListener("change", () => selectVersion(Number(slider.value), true));
    for (const input of document.querySelectorAll("input, select")) {
      input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
    }
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && $("alert").childElementCount > 0) clearError(true);
    });
    window.addEventListener("hashchange", openFromHash);
    await loadApp();
    openFromHash();
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
