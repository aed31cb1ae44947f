// What every dashboard page shares: the navigation bar, JSON requests (the browser's session
// cookie carries the login), table rendering and small formatters. No framework, no build step.
"use strict";

const Moray = (() => {
  const PAGES = [
    ["index.html", "Overview"], ["jobs.html", "Jobs"], ["actors.html", "Actors"],
    ["tasks.html", "Tasks"], ["placement_groups.html", "Placement groups"],
    ["logs.html", "Logs"], ["metrics.html", "Metrics"],
  ];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function nav() {
    const here = location.pathname.split("/").pop() || "index.html";
    const links = PAGES.map(([href, title]) =>
      el("a", { href, class: href === here ? "current" : "" }, title));
    const logout = el("form", { method: "post", action: "/logout" },
      el("button", { type: "submit", id: "logout" }, "Log out"));
    document.body.prepend(
      el("header", {}, el("span", { class: "brand" }, "MORAY"), el("nav", {}, links), logout));
  }

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function getJson(path, params) {
    const url = new URL(path, location.origin);
    for (const [key, value] of Object.entries(params || {})) {
      for (const v of [].concat(value)) {
        if (v !== "" && v !== null && v !== undefined) url.searchParams.append(key, v);
      }
    }
    const response = await fetch(url, { credentials: "same-origin",
                                         headers: { Accept: "application/json" } });
    if (response.status === 401) {
      location.href = "/login.html?next=" + encodeURIComponent(location.pathname + location.search);
      throw new HttpError(401, "not logged in");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new HttpError(response.status, body.error || response.statusText);
    return body;
  }

  function showError(container, error) {
    container.replaceChildren(el("div", { class: "error" }, String(error.message || error)));
  }

  // columns: [{key, title, render(row) -> node|string}]
  function table(columns, rows, empty) {
    if (!rows.length) return el("p", { class: "muted" }, empty || "Nothing to show.");
    const head = el("tr", {}, columns.map((c) => el("th", {}, c.title || c.key)));
    const body = rows.map((row) => el("tr", {}, columns.map((c) => {
      const value = c.render ? c.render(row) : format(row[c.key]);
      return el("td", { class: c.wrap ? "wrap" : "" }, value);
    })));
    return el("table", {}, el("thead", {}, head), el("tbody", {}, body));
  }

  function format(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
    }
    return String(value);
  }

  function state(value) { return el("span", { class: `state state-${value}` }, value ?? ""); }
  function mono(value) { return el("span", { class: "mono" }, value ?? ""); }
  function shortId(value) { return el("span", { class: "mono", title: value || "" }, value ? value.slice(0, 12) : ""); }

  function bytes(n) {
    if (n === null || n === undefined) return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return i === 0 ? `${n}B` : `${n.toFixed(2)}${units[i]}`;
  }

  function time(ms) { return ms ? new Date(ms).toLocaleString() : ""; }

  function bar(used, total) {
    const fraction = total > 0 ? Math.min(1, used / total) : 0;
    const inner = el("span");
    inner.style.width = `${(fraction * 100).toFixed(1)}%`;
    return el("span", { class: "bar" }, inner);
  }

  // Reruns `load` every `ms` while the tab is visible.
  function refresh(load, ms) {
    load();
    setInterval(() => { if (!document.hidden) load(); }, ms);
  }

  document.addEventListener("DOMContentLoaded", nav);
  return { el, getJson, showError, table, format, state, mono, shortId, bytes, time, bar, refresh,
           HttpError };
})();
