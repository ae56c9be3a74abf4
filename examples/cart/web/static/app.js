// The cart page: plain DOM, no dependencies. It only ever writes text
// (textContent, DOM nodes), never HTML, so the Content-Security-Policy can
// forbid inline script and require Trusted Types.
"use strict";

(() => {
  const POLL_MS = 1500; // the views are built asynchronously in production
  const REQUEST_TIMEOUT_MS = 10000;
  const DOUBLE_SUBMIT_MS = 1000; // the same request again within this is a double click
  const CURRENCY = "$";
  const SKU_STORE = "signal-cart.skus";

  const $ = (id) => document.getElementById(id);

  // el builds an element: props are properties (className, id, type...),
  // "data-*"/"aria-*" keys become attributes, on* keys listeners; children
  // are nodes or strings (as text).
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("data-") || k.startsWith("aria-")) e.setAttribute(k, String(v));
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e[k] = v;
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      e.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
    }
    return e;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function randomHex(bytes) {
    const a = new Uint8Array(bytes);
    crypto.getRandomValues(a); // works outside secure contexts, unlike randomUUID
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // money formats integer cents, e.g. 123456 -> "$1,234.56".
  function money(cents) {
    if (typeof cents !== "number" || !Number.isFinite(cents)) return "—";
    const neg = cents < 0;
    const abs = Math.abs(Math.trunc(cents));
    const whole = Math.floor(abs / 100).toLocaleString("en-US");
    const frac = String(abs % 100).padStart(2, "0");
    return (neg ? "-" : "") + CURRENCY + whole + "." + frac;
  }


  // ---- The API ---------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status; // 0: no answer
      this.code = code;
    }
  }

  const enc = encodeURIComponent;
  const aggregatePath = (type, id) => "/aggregates/" + enc(type) + "/" + enc(id);

  // api sends one request and answers {status, data, headers}; any non-2xx
  // answer, network failure or timeout is an ApiError with a message fit
  // for a person.
  async function api(method, path, { body, headers } = {}) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    const h = Object.assign({ Accept: "application/json" }, headers);
    // Every command says it is JSON, a body or not (a DELETE): a local
    // server refuses commands without it, since a cross-site form cannot
    // send that type.
    if (body !== undefined || method !== "GET") h["Content-Type"] = "application/json";
    let res, text;
    try {
      res = await fetch(path, {
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
      throw new ApiError(res.status, (err && err.code) || "http_" + res.status, message);
    }
    if (data === null || typeof data !== "object") {
      throw new ApiError(res.status, "bad_response", "The server answered something that is not a JSON document.");
    }
    return { status: res.status, data, headers: res.headers };
  }

  // ---- Alert and status regions -----------------------------------------

  let alertFromPoll = false; // the alert shows a refresh failure, which the next good refresh clears

  function showError(action, err, fromPoll) {
    if (fromPoll && $("alert").childElementCount > 0 && !alertFromPoll) return; // keep the user's error
    alertFromPoll = !!fromPoll;
    const detail = err instanceof ApiError && err.status
      ? " (HTTP " + err.status + (err.code ? ", " + err.code : "") + ")"
      : "";
    const message = String((err && err.message) || err) + detail;
    const shown = $("alert-message");
    if (shown && shown.dataset.action === action && shown.dataset.message === message) return; // announce once
    $("alert").replaceChildren(
      el("p", { id: "alert-message", "data-action": action, "data-message": message },
        el("strong", {}, action + " failed: "), message),
      el("button", { type: "button", id: "alert-dismiss", className: "small", onclick: () => clearError(true) }, "Dismiss"),
    );
  }

  function clearError(focusBack) {
    const had = $("alert").contains(document.activeElement);
    $("alert").replaceChildren();
    alertFromPoll = false;
    if (focusBack && had) $("main").focus();
  }

  function say(text) {
    $("status").textContent = text;
  }

  // A form field the page itself refuses, before any request.
  class InputError extends Error {
    constructor(message, input) {
      super(message);
      this.input = input;
    }
  }

  function wholeNumber(input, name) {
    const v = input.value.trim();
    if (!/^-?\d{1,15}$/.test(v)) throw new InputError(name + " must be a whole number.", input);
    return Number(v);
  }

  function markInvalid(input) {
    if (!input) return;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  function clearInvalid(form) {
    for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  }

  // ---- Page state ------------------------------------------------------

  const state = {
    cartId: "",
    cart: null, // the last state read: {version, state:{items,total,status}, closed}
    summaryVersion: -1,
    skus: loadSkus(),
  };

  function loadSkus() {
    try {
      const a = JSON.parse(localStorage.getItem(SKU_STORE) || "[]");
      return new Set(Array.isArray(a) ? a.filter((s) => typeof s === "string").slice(0, 50) : []);
    } catch (_) {
      return new Set();
    }
  }

  function rememberSku(sku) {
    if (!sku || state.skus.has(sku) || state.skus.size >= 50) return;
    state.skus.add(sku);
    try {
      localStorage.setItem(SKU_STORE, JSON.stringify([...state.skus]));
    } catch (_) { /* private mode: keep it in memory */ }
  }

  // ---- Commands --------------------------------------------------------

  let busy = false;
  const recent = new Map(); // request signature -> {key, at}

  // idempotencyKey returns a fresh key for each user action, except that
  // the very same request again within DOUBLE_SUBMIT_MS (a double click,
  // a double Enter) reuses the key, so the API applies it once and answers
  // the repeat with X-Signal-Duplicate.
  function idempotencyKey(signature) {
    const now = performance.now();
    for (const [k, v] of recent) if (now - v.at > 10 * DOUBLE_SUBMIT_MS) recent.delete(k);
    const r = recent.get(signature);
    if (r && now - r.at < DOUBLE_SUBMIT_MS) return r.key;
    const key = "web-" + randomHex(16);
    recent.set(signature, { key, at: now });
    return key;
  }

  function setBusy(on) {
    busy = on;
    $("cart-panel").setAttribute("aria-busy", on ? "true" : "false");
  }

  // command sends one command for the person's action and answers {res}
  // or {error} (already shown), or null when the previous action is still
  // on its way. Network failures and 503s are retried with the same
  // Idempotency-Key, so a command whose answer was lost is not applied
  // twice.
  async function command(label, method, path, body) {
    if (busy) return null;
    setBusy(true);
    const signature = method + " " + path + " " + JSON.stringify(body === undefined ? null : body);
    const key = idempotencyKey(signature);
    try {
      let res;
      for (let attempt = 1; ; attempt++) {
        try {
          res = await api(method, path, { body, headers: { "Idempotency-Key": key } });
          break;
        } catch (e) {
          if (attempt < 3 && e instanceof ApiError && (e.status === 0 || e.status === 503)) {
            await sleep(300 * attempt);
            continue;
          }
          throw e;
        }
      }
      clearError(false);
      const d = res.data;
      const duplicate = res.headers.get("X-Signal-Duplicate") === "true";
      say(duplicate
        ? label + ": already done; the repeated request changed nothing (version " + d.version + ")."
        : label + ": done. " + d.type + " " + d.id + " is at version " + d.version + ".");
      if (d.type === "cart" && d.id === state.cartId) {
        const st = d.state || {};
        renderCart({ version: d.version, state: st, closed: st.status && st.status !== "open" });
      }
      refresh();
      return { res };
    } catch (e) {
      showError(label, e, false);
      say("");
      return { error: e };
    } finally {
      setBusy(false);
    }
  }

  function cartPath(suffix) {
    return aggregatePath("cart", state.cartId) + (suffix ? "/" + suffix : "");
  }

  async function onAdd(ev) {
    ev.preventDefault();
    const form = $("add-form");
    clearInvalid(form);
    let body;
    try {
      const sku = $("add-sku").value.trim();
      if (!sku) throw new InputError("Enter a SKU.", $("add-sku"));
      body = { sku, quantity: wholeNumber($("add-quantity"), "Quantity"), price: wholeNumber($("add-price"), "The unit price in cents") };
    } catch (e) {
      if (e instanceof InputError) {
        showError("Add item", e, false);
        markInvalid(e.input);
        return;
      }
      throw e;
    }
    const out = await command("Add " + body.quantity + " × " + body.sku, "POST", cartPath("AddItem"), body);
    if (out && out.res) rememberSku(body.sku);
    if (out && out.error) markInvalidFromServer(form, out.error);
  }

  // markInvalidFromServer marks the field a refusal (422) names, if any.
  function markInvalidFromServer(form, err) {
    if (!(err instanceof ApiError) || err.status !== 422) return;
    for (const name of ["quantity", "price", "sku"]) {
      if (err.message.startsWith(name) || err.message.includes(" " + name + " ")) {
        const input = form.querySelector("[name=" + name + "]");
        if (input) input.setAttribute("aria-invalid", "true");
        return;
      }
    }
  }

  async function onRemove(ev) {
    ev.preventDefault();
    const form = $("remove-form");
    clearInvalid(form);
    let body;
    try {
      const sku = $("remove-sku").value;
      if (!sku) throw new InputError("The cart has nothing to remove.", $("remove-sku"));
      body = { sku, quantity: wholeNumber($("remove-quantity"), "Quantity") };
    } catch (e) {
      if (e instanceof InputError) {
        showError("Remove item", e, false);
        markInvalid(e.input);
        return;
      }
      throw e;
    }
    const out = await command("Remove " + body.quantity + " × " + body.sku, "POST", cartPath("RemoveItem"), body);
    if (out && out.error) markInvalidFromServer(form, out.error);
  }

  function onPurchase() {
    command("Complete purchase", "POST", cartPath("CompletePurchase"), {});
  }

  function onDiscard() {
    command("Discard cart", "DELETE", cartPath(""), undefined);
  }

  // ---- The cart --------------------------------------------------------

  function openCart(id, { focusAdd } = {}) {
    if (id === state.cartId) {
      refresh();
      return;
    }
    state.cartId = id;
    state.cart = null;
    state.summaryVersion = -1;
    $("cart-id").value = id;
    $("summary-key").textContent = id;
    if (location.hash !== "#cart=" + enc(id)) history.replaceState(null, "", "#cart=" + enc(id));
    renderCart(null);
    renderSummary(null);
    if (focusAdd) $("add-sku").focus();
    refresh();
  }

  function newCartId() {
    return "cart-" + randomHex(4);
  }

  // renderCart shows a state read or returned by a command; null is a cart
  // with no events yet. An older version than the one shown is ignored (a
  // slow poll answering after a command).
  function renderCart(cart) {
    if (cart && state.cart && cart.version < state.cart.version) return;
    state.cart = cart;
    const st = (cart && cart.state) || {};
    const items = st.items || {};
    const skus = Object.keys(items).sort();
    $("cart-status").textContent = cart ? st.status || "?" : "new";
    $("cart-version").textContent = String(cart ? cart.version : 0);
    $("cart-total").textContent = money(cart ? st.total || 0 : 0);

    $("cart-items").replaceChildren(...skus.map((sku) => {
      const it = items[sku];
      return el("tr", { "data-sku": sku },
        el("th", { scope: "row", className: "sku" }, sku),
        el("td", { className: "num quantity" }, String(it.quantity)),
        el("td", { className: "num price" }, money(it.price)),
        el("td", { className: "num line-total" }, money(it.quantity * it.price)));
    }));
    $("cart-empty").hidden = skus.length > 0;
    for (const sku of skus) rememberSku(sku);

    const sel = $("remove-sku");
    const keep = sel.value;
    sel.replaceChildren(...(skus.length
      ? skus.map((sku) => el("option", { value: sku }, sku + " (" + items[sku].quantity + ")"))
      : [el("option", { value: "" }, "(the cart is empty)")]));
    if (skus.includes(keep)) sel.value = keep;

    const open = !cart || st.status === "open";
    for (const id of ["add-submit", "remove-submit", "purchase", "discard"]) {
      $(id).setAttribute("aria-disabled", open ? "false" : "true");
    }
    $("cart-panel").classList.toggle("closed", !open);
    $("cart-closed").hidden = open;
    // The histories are the console's: deep links to the cart and its order.
    $("console-cart").href = "/console/#cart/" + enc(state.cartId);
    $("console-cart").hidden = !cart;
    $("console-order").href = "/console/#order/" + enc(state.cartId);
    $("console-order").hidden = st.status !== "purchased";
  }

  // ---- Views -----------------------------------------------------------

  function renderSummary(view) {
    const facts = $("summary-facts");
    if (!view) {
      $("summary-note").hidden = false;
      $("summary-note").textContent = "No summary yet: the projection has not seen an event of this cart.";
      facts.hidden = true;
      $("summary-items").replaceChildren();
      return;
    }
    if (view.version < state.summaryVersion) return;
    state.summaryVersion = view.version;
    const d = view.data || {};
    $("summary-note").hidden = true;
    facts.hidden = false;
    $("summary-status").textContent = d.status || "?";
    $("summary-version").textContent = String(d.version === undefined ? view.version : d.version);
    $("summary-total").textContent = money(d.total || 0);
    const items = d.items || {};
    $("summary-items").replaceChildren(...Object.keys(items).sort().map((sku) =>
      el("li", { "data-sku": sku }, sku + " × " + items[sku].quantity + " at " + money(items[sku].price))));
  }

  function renderSales(rows) {
    $("sales").replaceChildren(...rows.map(({ sku, data }) => el("tr", { "data-sku": sku },
      el("th", { scope: "row", className: "sku" }, sku),
      el("td", { className: "num units" }, data ? String(data.unitsSold) : "0"),
      el("td", { className: "num revenue" }, data ? money(data.revenue) : money(0)),
      el("td", { className: "num purchases" }, data ? String(data.purchases) : "0"))));
    $("sales-empty").hidden = rows.length > 0;
  }

  // readOr404 answers the data of a GET, or null for a 404 (not created yet).
  async function readOr404(path) {
    try {
      return (await api("GET", path)).data;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  // ---- Refresh: the cart and the views -----------------------------------

  let running = null;
  let queued = null;

  // refresh reads everything again; calls during a refresh join one more
  // refresh after it, so a command's effects are never missed.
  function refresh() {
    if (!running) {
      running = doRefresh().finally(() => { running = null; });
      return running;
    }
    if (!queued) queued = running.then(() => { queued = null; return refresh(); });
    return queued;
  }

  async function doRefresh() {
    const id = state.cartId;
    if (!id) return;
    try {
      const skus = [...state.skus].sort();
      const [cart, summary, ...sales] = await Promise.all([
        readOr404(aggregatePath("cart", id)),
        readOr404("/views/cart-summary/" + enc(id)),
        ...skus.map((sku) => readOr404("/views/sku-sales/" + enc(sku))),
      ]);
      if (id !== state.cartId) return; // the person opened another cart meanwhile
      if (cart) renderCart(cart);
      else if (!state.cart) renderCart(null);
      if (summary) renderSummary(summary);
      renderSales(skus.map((sku, i) => ({ sku, data: sales[i] && sales[i].data })));
      // skus learnt from the cart while reading get their row next time
      $("views-updated").textContent = "Read at " + new Date().toLocaleTimeString() + ".";
      if (alertFromPoll) clearError(false);
    } catch (e) {
      showError("Refreshing the page", e, true);
    }
  }

  function poll() {
    const next = () => setTimeout(poll, POLL_MS);
    if (document.hidden) return next();
    refresh().finally(next);
  }

  // ---- Wiring ----------------------------------------------------------

  function init() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("cart");
    const id = fromHash || newCartId();
    openCart(id);

    $("cart-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const v = $("cart-id").value.trim();
      if (!v) {
        showError("Open cart", new InputError("Enter a cart id.", $("cart-id")), false);
        markInvalid($("cart-id"));
        return;
      }
      $("cart-id").removeAttribute("aria-invalid");
      openCart(v);
      say("Cart " + v + " opened.");
    });
    $("cart-new").addEventListener("click", () => {
      const v = newCartId();
      openCart(v, { focusAdd: true });
      say("New cart " + v + ": add an item to create it.");
    });
    $("add-form").addEventListener("submit", onAdd);
    $("remove-form").addEventListener("submit", onRemove);
    $("purchase").addEventListener("click", onPurchase);
    $("discard").addEventListener("click", onDiscard);
    const priceHint = () => {
      const v = $("add-price").value.trim();
      $("add-price-hint").textContent = /^-?\d{1,15}$/.test(v) ? "= " + money(Number(v)) + " a unit" : "whole cents, e.g. 150";
    };
    $("add-price").addEventListener("input", priceHint);
    priceHint();
    for (const input of document.querySelectorAll("input, select")) {
      input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
    }
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && $("alert").childElementCount > 0) clearError(true);
    });
    window.addEventListener("hashchange", () => {
      const v = new URLSearchParams(location.hash.slice(1)).get("cart");
      if (v && v !== state.cartId) openCart(v);
    });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    setTimeout(poll, POLL_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
