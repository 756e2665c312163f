"use strict";
// Shared helpers of the console's pages. The DOM is built with el(), never from HTML strings:
// every value shown (task ids, errors, log lines) is text, never markup.
const C = (() => {
  const token = document.querySelector('meta[name="console-token"]').content;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) if (child) node.append(child);
    return node;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || `HTTP ${status}`);
      this.status = status;
      this.hint = body && body.hint;
      this.body = body || {};
    }
  }

  async function api(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  async function post(path, document) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Console-Token": token },
      body: JSON.stringify(document),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function errorBox(error) {
    return el("div", { class: "error", role: "alert" },
      el("strong", { text: "Error: " }), error.message,
      error.hint ? el("div", { class: "hint", text: `Next: ${error.hint}` }) : null);
  }

  function time(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return date.toLocaleString(undefined, { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
  }

  function seconds(value) {
    if (value === null || value === undefined) return "";
    if (value < 10) return `${value.toFixed(3)} s`;
    if (value < 60) return `${value.toFixed(1)} s`;
    const minutes = Math.floor(value / 60);
    if (minutes < 60) return `${minutes} min ${Math.round(value % 60)} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  function status(value) {
    const text = value || "UNKNOWN";
    return el("span", { class: `status status-${text.toLowerCase()}`, text });
  }

  function outcome(value, label) {
    const key = (value || "").replace(/\s+/g, "-");
    return el("span", { class: `outcome outcome-${key}`, text: label || value });
  }

  function json(value) {
    if (typeof value === "string") {
      try { value = JSON.parse(value); } catch (_) { return el("pre", { class: "json", text: value }); }
    }
    return el("pre", { class: "json", text: JSON.stringify(value, null, 2) });
  }

  function announce(text) {
    document.getElementById("announce").textContent = text;
  }

  function table(columns, rows, attrs) {
    return el("table", attrs || {},
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", text: c })))),
      el("tbody", {}, rows));
  }

  // Poll `refresh` every `ms` while the page is visible: live updates without a reload.
  function poll(refresh, ms) {
    let timer = null;
    const tick = async () => {
      if (!document.hidden) await refresh().catch(() => {});
      timer = setTimeout(tick, ms);
    };
    timer = setTimeout(tick, ms);
    return () => clearTimeout(timer);
  }

  function query() { return new URLSearchParams(location.search); }

  return { el, svg, api, post, errorBox, time, seconds, status, outcome, json, announce, table, poll, query, ApiError };
})();
