"use strict";
// Every dead-lettered task: error, cause, time; select several and redrive them.
const DeadLetters = (() => {
  const { el } = C;
  const WINDOWS = [["1h", "last hour"], ["1d", "last day"], ["7d", "last 7 days"], ["90d", "last 90 days"]];

  async function render(main) {
    const since = el("select", { id: "dl-since" }, WINDOWS.map(([v, t]) => el("option", { value: v, text: t, selected: v === (C.query().get("since") || "1d") })));
    const body = el("div", {}, el("p", { text: "Loading…" }));
    const result = el("div", { role: "status" });
    main.replaceChildren(el("h1", { text: "Dead letters" }),
      el("div", { class: "explain" },
        el("p", { text: "Where dead letters are kept: in the failed executions themselves (Step Functions keeps each execution, with its error and cause, for 90 days after it ends) and, for a task that never started an execution, on its record in the tasks table (deadLetter, written by monitor-dlq)." }),
        el("p", { text: "Why the dead-letter queue itself is empty: monitor-dlq consumes each message as it arrives — it records the task's failure and raises the alarm — so the queue is only a hand-off, not a store. This page reads the same sources as `ftb dead-letters`." })),
      el("div", { class: "filters" }, el("label", { for: "dl-since", text: "Failed in the " }), since), body, result);
    since.addEventListener("change", () => load());
    async function load() {
      let answer;
      try { answer = await C.api(`/api/dead-letters?since=${since.value}`); } catch (error) { body.replaceChildren(C.errorBox(error)); return; }
      const boxes = [];
      const rows = answer.items.map((item, index) => {
        const box = item.current ? el("input", { type: "checkbox", id: `dl-${index}`, value: item.taskId, "aria-label": `Select ${item.taskId}` }) : null;
        if (box) boxes.push(box);
        return el("tr", { "data-task": item.taskId },
          el("td", {}, box || el("span", { class: "small", text: item.redriven ? "redriven" : "" })),
          el("td", {}, el("a", { class: "mono", href: `/tasks/${encodeURIComponent(item.taskId)}`, text: item.taskId })),
          el("td", { text: item.source }), el("td", { class: "mono", text: item.error || "" }),
          el("td", { class: "wrap", text: item.message || "" }), el("td", { text: C.time(item.failedAt) }),
          el("td", { text: item.redriven ? `redriven: now ${item.currentExecutionName}` : item.currentExecutionName ? "failed (current run)" : "no record" }));
      });
      const all = el("input", { type: "checkbox", id: "dl-all", "aria-label": "Select every task that can be redriven" });
      all.addEventListener("change", () => boxes.forEach((b) => { b.checked = all.checked; }));
      const button = el("button", { class: "primary", id: "dl-redrive", text: "Redrive selected…" });
      button.addEventListener("click", () => redrive(boxes.filter((b) => b.checked).map((b) => b.value)));
      body.replaceChildren(
        el("p", { text: `${answer.items.length} dead-lettered since ${C.time(answer.since)}` }),
        rows.length ? el("div", {}, el("div", { class: "filters" }, el("label", {}, all, " select all"), " ", button),
          C.table(["", "Task", "Source", "Error", "Cause", "Failed at", "Now"], rows, { class: "dead-letters" })) : el("p", { text: "None." }));
    }
    async function redrive(ids) {
      if (!ids.length) { result.replaceChildren(el("p", { class: "warn", text: "Select the tasks to redrive first." })); return; }
      if (!window.confirm(`Redrive ${ids.length} task(s)? Each starts a new run under a derived name with its failed run's input.`)) return;
      result.replaceChildren(el("p", { text: "Redriving…" }));
      try {
        const answer = await C.post("/api/redrive", { taskIds: ids });
        result.replaceChildren(C.table(["Task", "Outcome", "Run", "Reason / next"], answer.results.map((r) => el("tr", {},
          el("td", {}, el("a", { href: `/tasks/${encodeURIComponent(r.taskId)}`, text: r.taskId })), el("td", { text: r.outcome }),
          el("td", { text: r.run || "" }), el("td", { text: [r.reason, r.next].filter(Boolean).join(" — ") })))));
        C.announce(`${answer.results.filter((r) => r.outcome === "redriven").length} redriven`);
        await load();
      } catch (error) { result.replaceChildren(C.errorBox(error)); }
    }
    await load();
  }

  return { render };
})();
