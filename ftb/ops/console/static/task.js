"use strict";
// A task: its runs; for the chosen run the graph of the definition that run executed, the
// attempts, a timeline, the events, the log lines, the dead letter, and the actions.
const TaskPage = (() => {
  const { el, svg } = C;
  const EVENTS_PER_PAGE = 25;
  // The log lines' request: a redrive waits for it before it opens the new run, so that
  // leaving the page never cuts a request short.
  let pendingLogs = Promise.resolve();
  const OUTCOME_TEXT = {
    succeeded: "succeeded", failed: "failed", caught: "caught (a Catch moved on)",
    running: "running", "not reached": "not reached",
  };

  async function render(main, taskId) {
    const run = C.query().get("run");
    const url = `/api/tasks/${encodeURIComponent(taskId)}` + (run ? `?run=${encodeURIComponent(run)}` : "");
    let page;
    try {
      page = await C.api(url);
    } catch (error) {
      main.replaceChildren(el("h1", { text: `Task ${taskId}` }), C.errorBox(error));
      return;
    }
    document.title = `${taskId} · ftb console`;
    draw(main, page);
    pendingLogs = loadLogs(main, taskId);
    const running = () => page.execution && ["RUNNING", "PENDING_REDRIVE"].includes(page.execution.status);
    if (running() || page.task.status === "QUEUED") {
      C.poll(async () => {
        const fresh = await C.api(url);
        if (JSON.stringify(fresh.events) !== JSON.stringify(page.events) || fresh.task.status !== page.task.status) {
          page = fresh;
          const logs = main.querySelector("#logs");
          draw(main, page);
          if (logs) main.querySelector("#logs").replaceWith(logs);
        }
      }, 2000);
    }
  }

  function draw(main, page) {
    const execution = page.execution;
    const parts = [
      el("h1", {}, "Task ", el("span", { class: "mono", text: page.taskId }), " ", C.status(page.task.status)),
      runsNav(page),
      summary(page),
      actions(page),
    ];
    if (!execution) {
      parts.push(el("p", { class: "note", text: page.deadLetter
        ? "This run never started: the task was dead-lettered before an execution existed."
        : "This run has no execution yet (the task is queued)." }));
      parts.push(deadLetter(page));
    } else {
      parts.push(
        section("graph", "Graph of the definition this run executed", graphView(page)),
        section("attempts", "Attempts", attemptsView(page)),
        section("timeline", "Timeline", timelineView(page)),
        section("events", "Events", eventsView(page)),
        deadLetter(page),
      );
    }
    parts.push(section("logs", "Log lines", el("p", { text: "Loading the task's log lines…" })));
    parts.push(section("commands", "Show this task from a shell", commandsView(page)));
    main.replaceChildren(...parts.filter(Boolean));
  }

  function section(id, title, ...content) {
    return el("section", { id, "aria-labelledby": `${id}-h` }, el("h2", { id: `${id}-h`, text: title }), ...content);
  }

  function runsNav(page) {
    return el("nav", { class: "runs", "aria-label": "Runs of this task" },
      el("span", { text: "Runs: " }),
      page.runs.map((run) => el("a", {
        href: `/tasks/${encodeURIComponent(page.taskId)}?run=${run.run}`,
        "aria-current": run.run === page.run ? "page" : null,
        title: run.executionName,
      }, `Run ${run.run}${run.run === 1 ? " (first)" : " (redrive)"}${run.current ? " · current" : ""}`)));
  }

  function summary(page) {
    const e = page.execution || {};
    const rows = [
      ["Status (from the execution)", C.status(page.task.status)],
      ["Table status field (written at intake, never updated)", el("span", { class: "mono", text: page.recordStatusField })],
      ["Submitted", C.time(page.submittedAt)],
      ["Run", `${page.run} of ${page.runs.length}: ${page.executionName}`],
      ["Execution status", e.status || "no execution"],
      ["Started", C.time(e.startDate)],
      ["Stopped", C.time(e.stopDate)],
      ["Duration", C.seconds(e.durationSeconds)],
      ["Error", e.error ? `${e.error}` : ""],
      ["Billed state transitions", e.billedStateTransitions ?? ""],
      ["Execution ARN", el("span", { class: "mono small", text: page.executionArn })],
    ];
    return el("dl", { class: "summary" }, rows.filter(([, v]) => v !== "").map(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
  }

  function actions(page) {
    const box = el("section", { id: "actions", "aria-labelledby": "actions-h" }, el("h2", { id: "actions-h", text: "Actions" }));
    const result = el("div", { role: "status" });
    if (!page.redrivable || page.run !== page.runs.length) {
      box.append(el("p", { class: "note", text: page.run !== page.runs.length
        ? "Redrive acts on the current run; this is an earlier one."
        : `Redrive is for a failed run; this task is ${page.task.status}.` }));
      return box;
    }
    const dialog = el("dialog", { "aria-labelledby": "confirm-h" },
      el("h3", { id: "confirm-h", text: `Redrive ${page.taskId}?` }),
      el("p", { text: `A new execution (run ${page.runs.length + 1}) starts with the failed run's input, under a derived name; the failed run stays as it is.` }),
      page.permanent ? el("p", { class: "warn", text: "This task failed permanently (PermanentTaskError): it fails again unless its cause was fixed." }) : null,
      el("form", { method: "dialog" },
        el("button", { value: "cancel", text: "Cancel" }),
        el("button", { value: "confirm", class: "primary", id: "confirm-redrive", text: "Redrive" })));
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "confirm") return;
      result.replaceChildren(el("p", { text: "Redriving…" }));
      try {
        const answer = await C.post("/api/redrive", { taskIds: [page.taskId] });
        const item = answer.results[0];
        if (item.outcome === "redriven" || item.outcome === "resumed") {
          C.announce(`Redriven: run ${item.run} started`);
          await pendingLogs;
          location.href = `/tasks/${encodeURIComponent(page.taskId)}?run=${item.run}`;
        } else {
          result.replaceChildren(el("p", { class: "error", text: `Not redriven: ${item.reason}` }),
            item.next ? el("p", { class: "hint", text: `Next: ${item.next}` }) : null);
        }
      } catch (error) {
        result.replaceChildren(C.errorBox(error));
      }
    });
    box.append(
      el("button", { class: "primary", id: "redrive", onclick: () => dialog.showModal(), text: "Redrive this task…" }),
      el("span", { class: "note", text: " the same code as `ftb redrive`" }),
      dialog, result);
    return box;
  }

  // -- the graph -----------------------------------------------------------------------

  function graphView(page) {
    const graph = page.graph;
    if (graph.error) return el("p", { class: "error", text: graph.error });
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "TB", nodesep: 50, ranksep: 46, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const node of graph.nodes) {
      const pseudo = node.id.startsWith("__");
      g.setNode(node.id, { width: pseudo ? 70 : 230, height: pseudo ? 30 : 58, node });
    }
    for (const edge of graph.edges) {
      if (g.hasNode(edge.source) && g.hasNode(edge.target)) g.setEdge(edge.source, edge.target, { edge, width: edge.label ? 90 : 0, height: edge.label ? 16 : 0, labelpos: "c" });
    }
    dagre.layout(g);
    const size = g.graph();
    const items = [];
    items.push(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
    for (const id of g.edges()) {
      const data = g.edge(id);
      const points = data.points.map((p) => `${p.x},${p.y}`).join(" ");
      items.push(svg("polyline", { points, class: `edge edge-${data.edge.kind}`, "marker-end": "url(#arrow)" }));
      if (data.edge.label) items.push(svg("text", { x: data.x, y: data.y + 4, class: "edge-label", "text-anchor": "middle", text: data.edge.label.length > 22 ? "catch" : data.edge.label }));
    }
    for (const id of g.nodes()) {
      const { x, y, width, height, node } = g.node(id);
      const pseudo = id.startsWith("__");
      const key = node.outcome.replace(/\s+/g, "-");
      const title = pseudo ? (id === "__start__" ? "Start" : "End") : id;
      const group = svg("g", { class: `node outcome-${key}`, "data-state": id, "data-outcome": node.outcome, role: "img", "aria-label": pseudo ? title : `${title} (${node.type}): ${node.label}` },
        svg("title", { text: pseudo ? title : `${title} (${node.type}): ${node.label}${node.error ? ` — last error ${node.error}` : ""}` }),
        svg("rect", { x: x - width / 2, y: y - height / 2, width, height, rx: pseudo ? 15 : 6 }));
      if (pseudo) {
        group.append(svg("text", { x, y: y + 5, "text-anchor": "middle", class: "node-name", text: title }));
      } else {
        group.append(svg("text", { x, y: y - 8, "text-anchor": "middle", class: "node-name", text: `${title}` }));
        group.append(svg("text", { x, y: y + 12, "text-anchor": "middle", class: "node-outcome", text: node.label }));
      }
      items.push(group);
    }
    const picture = svg("svg", { class: "graph", width: size.width, height: size.height, viewBox: `0 0 ${size.width} ${size.height}`, role: "group", "aria-label": "State machine graph with each state's outcome" }, ...items);
    const legend = el("ul", { class: "legend", "aria-label": "Legend" },
      Object.entries(OUTCOME_TEXT).map(([key, text]) => el("li", {}, C.outcome(key, key), " ", text)),
      el("li", {}, el("span", { class: "outcome", text: "retried n×" }), " tries beyond the first (Retry)"),
      el("li", {}, el("span", { class: "legend-line catch" }), " Catch edge"));
    const list = el("ul", { class: "state-list", "aria-label": "States and their outcomes" },
      graph.nodes.filter((n) => !n.id.startsWith("__")).map((n) => el("li", { "data-state": n.id },
        el("span", { class: "mono", text: n.id }), ` (${n.type}): `, C.outcome(n.outcome, n.label), n.error ? ` — last error ${n.error}` : "")));
    const note = page.execution.definitionUpdated ? el("p", { class: "note", text: `Definition as this run executed it (updated ${C.time(page.execution.definitionUpdated)}).` }) : null;
    return el("div", { class: "graph-box" }, el("div", { class: "graph-scroll" }, picture), el("div", {}, legend, list, note));
  }

  // -- attempts, timeline --------------------------------------------------------------

  function attemptsView(page) {
    if (!page.attempts.length) return el("p", { text: "No attempt of the work state in this run." });
    return C.table(["#", "Outcome", "Error", "Message", "Started after", "Duration", "Backoff before the next"],
      page.attempts.map((a) => el("tr", { "data-attempt": a.number },
        el("td", { text: a.number }), el("td", {}, C.outcome(a.outcome)), el("td", { class: "mono", text: a.error || "" }),
        el("td", { class: "wrap", text: a.message || "" }), el("td", { text: C.seconds(a.offsetSeconds) }),
        el("td", { text: C.seconds(a.durationSeconds) }),
        el("td", { text: a.backoffAfterSeconds === null ? (a.outcome === "failed" ? "none (no retry left or not retryable)" : "") : C.seconds(a.backoffAfterSeconds) }))),
      { class: "attempts" });
  }

  function timelineView(page) {
    const bars = page.timeline;
    if (!bars.length) return el("p", { text: "Nothing to draw yet." });
    const end = Math.max(...bars.map((b) => b.end), 0.001);
    const lanes = [];
    for (const bar of bars) {
      const lane = bar.kind === "state" ? `state ${bar.state}` : `${bar.state} tries`;
      if (!lanes.includes(lane)) lanes.push(lane);
    }
    const left = 180, width = 760, row = 26, top = 24;
    const x = (t) => left + (t / end) * width;
    const items = [];
    const ticks = 6;
    for (let i = 0; i <= ticks; i++) {
      const t = (end * i) / ticks;
      items.push(svg("line", { x1: x(t), x2: x(t), y1: top - 6, y2: top + lanes.length * row, class: "tick" }));
      items.push(svg("text", { x: x(t), y: 12, "text-anchor": "middle", class: "axis", text: C.seconds(t) }));
    }
    lanes.forEach((lane, i) => items.push(svg("text", { x: 4, y: top + i * row + 17, class: "lane", text: lane })));
    for (const bar of bars) {
      const lane = lanes.indexOf(bar.kind === "state" ? `state ${bar.state}` : `${bar.state} tries`);
      const klass = bar.kind === "attempt" ? (bar.label.includes(": failed") ? "bar bar-failed" : bar.label.includes(": running") ? "bar bar-running" : "bar bar-succeeded") : `bar bar-${bar.kind}`;
      items.push(svg("rect", { x: x(bar.start), y: top + lane * row + 4, width: Math.max(2, x(bar.end) - x(bar.start)), height: row - 8, class: klass },
        svg("title", { text: `${bar.label || bar.kind + " " + bar.state}: ${C.seconds(bar.start)} → ${C.seconds(bar.end)}` })));
    }
    const picture = svg("svg", { class: "timeline", width: left + width + 20, height: top + lanes.length * row + 6, role: "img", "aria-label": "Timeline of states, attempts and backoffs" }, ...items);
    const list = el("ol", { class: "visually-hidden" }, bars.map((b) => el("li", { text: `${b.kind} ${b.state} ${b.label}: ${C.seconds(b.start)} to ${C.seconds(b.end)}` })));
    const legend = el("ul", { class: "legend" },
      el("li", {}, el("span", { class: "swatch bar-state" }), " state (entered → left)"),
      el("li", {}, el("span", { class: "swatch bar-succeeded" }), " attempt succeeded"),
      el("li", {}, el("span", { class: "swatch bar-failed" }), " attempt failed"),
      el("li", {}, el("span", { class: "swatch bar-backoff" }), " backoff before the next attempt"));
    return el("div", {}, el("div", { class: "graph-scroll" }, picture), legend, list);
  }

  // -- events --------------------------------------------------------------------------

  function eventsView(page) {
    const types = [...new Set(page.events.map((e) => e.type))].sort();
    const state = { type: "", page: 1 };
    const body = el("div");
    const select = el("select", { id: "event-type" }, el("option", { value: "", text: `All types (${page.events.length})` }),
      types.map((t) => el("option", { value: t, text: t })));
    select.addEventListener("change", () => { state.type = select.value; state.page = 1; draw(); });
    function draw() {
      const shown = page.events.filter((e) => !state.type || e.type === state.type);
      const pages = Math.max(1, Math.ceil(shown.length / EVENTS_PER_PAGE));
      state.page = Math.min(state.page, pages);
      const rows = [];
      for (const event of shown.slice((state.page - 1) * EVENTS_PER_PAGE, state.page * EVENTS_PER_PAGE)) {
        const details = el("tr", { class: "details", hidden: true }, el("td", { colspan: 7 }, detailsOf(event)));
        const toggle = el("button", { class: "expand", "aria-expanded": "false", "aria-label": `Details of event ${event.id}`, text: "▸" });
        toggle.addEventListener("click", () => {
          const open = details.hidden;
          details.hidden = !open;
          toggle.setAttribute("aria-expanded", String(open));
          toggle.textContent = open ? "▾" : "▸";
        });
        const note = [event.attempt ? `attempt ${event.attempt}` : "", event.backoffSeconds != null ? `after a ${C.seconds(event.backoffSeconds)} backoff` : "", event.error || ""].filter(Boolean).join(" · ");
        rows.push(el("tr", { "data-event": event.id, class: event.error ? "has-error" : "" },
          el("td", {}, toggle), el("td", { text: event.id }), el("td", { class: "mono", text: event.type }),
          el("td", { text: event.step || "" }), el("td", { class: "mono small", text: event.resource || "" }),
          el("td", { text: C.seconds(event.elapsedSeconds) }), el("td", {}, C.time(event.timestamp), note ? el("div", { class: "small", text: note }) : null)));
        rows.push(details);
      }
      body.replaceChildren(
        C.table(["", "ID", "Type", "Step", "Resource", "Started after", "Timestamp"], rows, { class: "events" }),
        el("nav", { class: "pager", "aria-label": "Event pages" },
          el("button", { disabled: state.page <= 1, onclick: () => { state.page--; draw(); }, text: "‹ Previous" }),
          el("span", { text: ` page ${state.page} of ${pages} (${shown.length} events) ` }),
          el("button", { disabled: state.page >= pages, onclick: () => { state.page++; draw(); }, text: "Next ›" })));
    }
    draw();
    return el("div", {}, el("div", { class: "filters" }, el("label", { for: "event-type", text: "Event type " }), select), body);
  }

  function detailsOf(event) {
    const parts = [];
    for (const key of ["input", "output", "error", "cause"]) {
      if (event[key] === undefined || event[key] === null) continue;
      parts.push(el("div", { class: "detail" }, el("h4", { text: key }), C.json(event[key])));
    }
    return parts.length ? parts : el("p", { class: "note", text: "No input, output, error or cause." });
  }

  // -- dead letter, logs, commands ----------------------------------------------------

  function deadLetter(page) {
    const letter = page.deadLetter;
    if (!letter) return section("dead-letter", "Dead letter", el("p", { text: "None: this run is not dead-lettered." }));
    return section("dead-letter", "Dead letter",
      el("dl", { class: "summary" },
        el("dt", { text: "Kept in" }), el("dd", { text: letter.keptIn }),
        el("dt", { text: "Source" }), el("dd", { text: letter.source }),
        el("dt", { text: "Error" }), el("dd", { class: "mono", text: letter.error || "" }),
        el("dt", { text: "When" }), el("dd", { text: C.time(letter.at) })),
      letter.cause ? C.json(letter.cause) : null);
  }

  async function loadLogs(main, taskId) {
    const box = main.querySelector("#logs");
    try {
      const logs = await C.api(`/api/tasks/${encodeURIComponent(taskId)}/logs`);
      const link = `/insights?${new URLSearchParams({ query: logs.query, start: logs.start, end: logs.end })}`;
      const rows = logs.lines.map((line) => el("tr", {},
        el("td", { text: C.time(line.timestamp) }), el("td", { class: "mono", text: line.source }),
        el("td", { text: line.level || "" }), el("td", { class: "wrap" }, messageOf(line.message), line.error ? el("div", { class: "small", text: `${line.error}${line.cause ? ": " + line.cause : ""}` }) : null)));
      main.querySelector("#logs").replaceChildren(
        el("h2", { id: "logs-h", text: `Log lines (${logs.lines.length}, from ${logs.logGroups.length} log groups)` }),
        el("p", {}, "The same Logs Insights query as ", el("code", { text: `ftb logs ${taskId}` }), ": ", el("a", { href: link, text: "open it in the Logs Insights page" })),
        el("pre", { class: "query", text: logs.query }),
        rows.length ? C.table(["Time", "Function", "Level", "Message"], rows, { class: "logs" }) : el("p", { text: "No log lines yet (they arrive within seconds locally, a minute or two on AWS)." }));
    } catch (error) {
      if (box) box.replaceChildren(el("h2", { id: "logs-h", text: "Log lines" }), C.errorBox(error));
    }
  }

  // A multi-line message (a traceback) shows its first line; the rest opens on demand.
  function messageOf(text) {
    const lines = String(text).split(/[\r\n]+/).filter((l) => l.trim());
    if (lines.length <= 1) return text;
    return el("details", {}, el("summary", { text: `${lines[0]} (+${lines.length - 1} lines)` }), el("pre", { text: lines.slice(1).join("\n") }));
  }

  function commandsView(page) {
    const c = page.commands;
    return el("div", {},
      el("h3", { text: "GET /tasks/{taskId}, signed (curl)" }), el("pre", { class: "command", text: c.curl }),
      el("h3", { text: "The execution (AWS CLI)" }), el("pre", { class: "command", text: c.describeExecution }),
      el("pre", { class: "command", text: c.history }),
      el("h3", { text: "The history as a table (ftb)" }), el("pre", { class: "command", text: c.ftb }));
  }

  return { render };
})();
