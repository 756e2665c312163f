"use strict";
// Every task with its true status (from the executions), filtered and paged on the server.
const Tasks = (() => {
  const { el } = C;
  const STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"];
  const WINDOWS = [["", "any time"], ["15m", "last 15 minutes"], ["1h", "last hour"], ["1d", "last day"], ["7d", "last 7 days"]];

  async function render(main) {
    const params = C.query();
    const state = { status: params.get("status") || "", q: params.get("q") || "", since: params.get("since") || "", page: Number(params.get("page") || 1) };
    const status = el("select", { id: "f-status", name: "status" }, el("option", { value: "", text: "any status" }), STATUSES.map((s) => el("option", { value: s, text: s, selected: s === state.status })));
    const since = el("select", { id: "f-since", name: "since" }, WINDOWS.map(([v, t]) => el("option", { value: v, text: t, selected: v === state.since })));
    const search = el("input", { id: "f-q", name: "q", type: "search", value: state.q, placeholder: "part of a taskId" });
    const live = el("input", { id: "f-live", type: "checkbox", checked: true });
    const form = el("form", { class: "filters", role: "search", "aria-label": "Filter tasks" },
      el("label", { for: "f-status", text: "Status " }), status,
      el("label", { for: "f-since", text: " Submitted " }), since,
      el("label", { for: "f-q", text: " Task id contains " }), search,
      el("button", { type: "submit", text: "Apply" }),
      el("label", { class: "live" }, live, " live"));
    const counts = el("p", { class: "counts", role: "status" });
    const body = el("div", {}, el("p", { text: "Loading…" }));
    main.replaceChildren(el("h1", { text: "Tasks" }),
      el("p", { class: "note", text: "Status is each task's current run as Step Functions reports it (the same mapping as GET /tasks/{taskId}); the table's own status field, written once at intake, is shown as “table field”." }),
      form, counts, body);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      Object.assign(state, { status: status.value, since: since.value, q: search.value.trim(), page: 1 });
      refresh();
    });
    async function refresh() {
      const query = new URLSearchParams();
      for (const key of ["status", "q", "since"]) if (state[key]) query.set(key, state[key]);
      if (state.page > 1) query.set("page", state.page);
      history.replaceState(null, "", `/tasks${query.toString() ? "?" + query : ""}`);
      let answer;
      try {
        answer = await C.api(`/api/tasks?${query}`);
      } catch (error) {
        body.replaceChildren(C.errorBox(error));
        return;
      }
      counts.replaceChildren(`${answer.total} of ${answer.all} tasks match · `,
        ...STATUSES.map((s) => el("span", { class: "count" }, C.status(s), ` ${answer.counts[s] || 0} `)));
      const rows = answer.items.map((t) => el("tr", { "data-task": t.taskId },
        el("td", {}, el("a", { href: `/tasks/${encodeURIComponent(t.taskId)}`, class: "mono", text: t.taskId })),
        el("td", {}, C.status(t.status)), el("td", { text: C.time(t.submittedAt) }), el("td", { text: C.time(t.startDate) }),
        el("td", { text: C.time(t.stopDate) }), el("td", { text: t.attempts ?? "" }), el("td", { text: t.run }),
        el("td", { class: "mono small", text: t.recordStatusField })));
      body.replaceChildren(
        rows.length ? C.table(["Task", "Status", "Submitted", "Started", "Stopped", "Attempts", "Run", "Table field"], rows, { class: "tasks" }) : el("p", { text: "No task matches." }),
        el("nav", { class: "pager", "aria-label": "Task pages" },
          el("button", { disabled: answer.page <= 1, onclick: () => { state.page = answer.page - 1; refresh(); }, text: "‹ Previous" }),
          el("span", { text: ` page ${answer.page} of ${answer.pages} ` }),
          el("button", { disabled: answer.page >= answer.pages, onclick: () => { state.page = answer.page + 1; refresh(); }, text: "Next ›" })));
    }
    await refresh();
    C.poll(() => (live.checked ? refresh() : Promise.resolve()), 3000);
  }

  return { render };
})();
