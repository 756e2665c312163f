"use strict";
// Logs Insights over the stack's log groups: editor, time range, saved queries, results.
const Insights = (() => {
  const { el } = C;
  const DEFAULT = "fields @timestamp, @message, @log\n| sort @timestamp desc\n| limit 100";
  const RANGES = [["15m", 15], ["1h", 60], ["1d", 1440], ["7d", 10080]];

  async function render(main) {
    const params = C.query();
    const meta = await C.api("/api/insights");
    const editor = el("textarea", { id: "q-text", rows: 7, cols: 100, spellcheck: "false", class: "mono" });
    editor.value = params.get("query") || DEFAULT;
    const range = el("select", { id: "q-range" }, RANGES.map(([v]) => el("option", { value: v, text: `last ${v}` })), el("option", { value: "custom", text: "custom", selected: !!params.get("start") }));
    const start = el("input", { id: "q-start", type: "text", value: params.get("start") || "", placeholder: "ISO start" });
    const end = el("input", { id: "q-end", type: "text", value: params.get("end") || "", placeholder: "ISO end" });
    const saved = el("select", { id: "q-saved" }, el("option", { value: "", text: meta.saved.queries.length ? "choose a saved query" : "no saved queries" }),
      meta.saved.queries.map((q, i) => el("option", { value: String(i), text: q.name })));
    saved.addEventListener("change", () => { if (saved.value !== "") editor.value = meta.saved.queries[Number(saved.value)].query; });
    const groups = el("fieldset", { class: "groups" }, el("legend", { text: `Log groups (${meta.logGroups.length})` }),
      meta.logGroups.map((g, i) => el("label", {}, el("input", { type: "checkbox", value: g, checked: true, id: `g-${i}` }), " ", g,
        g === meta.stateMachineLogGroup ? " (the state machine's)" : "")));
    const results = el("div", { role: "status" });
    const form = el("form", { class: "insights", "aria-label": "Logs Insights query" },
      el("label", { for: "q-saved", text: "Saved queries of the stack " }), saved,
      meta.saved.refused ? el("p", { class: "warn", text: `The endpoint refused DescribeQueryDefinitions: ${meta.saved.refused}` }) : null,
      el("div", {}, el("label", { for: "q-text", text: "Query" })), editor,
      el("div", { class: "filters" }, el("label", { for: "q-range", text: "Time range " }), range,
        el("label", { for: "q-start", text: " from " }), start, el("label", { for: "q-end", text: " to " }), end),
      groups, el("button", { type: "submit", class: "primary", id: "q-run", text: "Run query" }));
    main.replaceChildren(el("h1", { text: "Logs Insights" }), form, results);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { query: editor.value, logGroups: [...groups.querySelectorAll("input:checked")].map((i) => i.value) };
      if (range.value === "custom") { body.start = start.value || null; body.end = end.value || null; }
      else {
        const minutes = RANGES.find(([v]) => v === range.value)[1];
        body.end = new Date().toISOString();
        body.start = new Date(Date.now() - minutes * 60000).toISOString();
      }
      results.replaceChildren(el("p", { text: "Running…" }));
      try {
        const answer = await C.post("/api/insights/query", body);
        results.replaceChildren(el("p", { text: `${answer.rows.length} rows` }),
          C.table(answer.columns, answer.rows.map((row) => el("tr", {}, answer.columns.map((c) => el("td", { class: c === "@message" ? "wrap mono small" : "small", text: row[c] ?? "" })))), { class: "results" }));
      } catch (error) {
        const where = error.body.line ? ` (line ${error.body.line}, column ${error.body.column})` : "";
        results.replaceChildren(el("div", { class: "error", role: "alert", id: "q-error", text: error.message + where }));
        if (error.body.location) editor.setSelectionRange(error.body.location.startCharOffset, error.body.location.endCharOffset + 1);
      }
    });
    if (params.get("query")) form.requestSubmit();
  }

  return { render };
})();
