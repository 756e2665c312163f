"use strict";
// The stack at a glance: tasks by status over time, throughput, dead letters, alarms, queues.
const Overview = (() => {
  const { el } = C;
  const COLOURS = { QUEUED: "#6b7280", RUNNING: "#2563eb", SUCCEEDED: "#15803d", FAILED: "#b91c1c" };
  let plot = null;

  async function render(main) {
    const cards = el("div", { class: "cards", role: "status", "aria-live": "polite" });
    const chart = el("div", { class: "chart", role: "img", "aria-label": "Tasks by status over the last 15 minutes" });
    const alarms = el("div");
    const queues = el("div");
    main.replaceChildren(el("h1", { text: "Overview" }), cards,
      el("section", { "aria-labelledby": "chart-h" }, el("h2", { id: "chart-h", text: "Tasks by status, last 15 minutes" }), chart),
      el("section", { "aria-labelledby": "alarms-h" }, el("h2", { id: "alarms-h", text: "Alarms" }), alarms),
      el("section", { "aria-labelledby": "queues-h" }, el("h2", { id: "queues-h", text: "Queues" }), queues));
    async function refresh() {
      const data = await C.api("/api/overview");
      cards.replaceChildren(
        card("Tasks", data.total, "/tasks"),
        ...["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"].map((s) => card(s, data.counts[s], `/tasks?status=${s}`, s)),
        card("Dead letters", data.deadLetters, "/dead-letters"),
        card("Finished / min", data.throughput.finishedPerMinute, null, null, `last ${data.throughput.windowMinutes} min; submitted ${data.throughput.submittedPerMinute}/min`));
      drawChart(chart, data.series);
      drawAlarms(alarms, data.alarms);
      drawQueues(queues, data.queues);
    }
    try { await refresh(); } catch (error) { main.append(C.errorBox(error)); }
    C.poll(refresh, 3000);
  }

  function card(title, value, href, status, note) {
    const body = [el("div", { class: "card-title" }, status ? C.status(status) : title), el("div", { class: "card-value", "data-card": title, text: value })];
    if (note) body.push(el("div", { class: "small", text: note }));
    return href ? el("a", { class: "card", href }, body) : el("div", { class: "card" }, body);
  }

  function drawChart(box, series) {
    const names = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"];
    const data = [series.times, ...names.map((n) => series.counts[n])];
    if (plot) { plot.setData(data); return; }
    plot = new uPlot({
      width: Math.min(1100, box.clientWidth || 900), height: 260,
      series: [{}, ...names.map((n) => ({ label: n, stroke: COLOURS[n], width: 2 }))],
      axes: [{}, { label: "tasks" }],
    }, data, box);
  }

  function drawAlarms(box, answer) {
    const parts = [];
    if (answer.refused) {
      parts.push(el("p", { class: "warn", text: `The endpoint refused DescribeAlarms: ${answer.refused.code}: ${answer.refused.message}. The stack's alarms cannot be shown here.` }));
    } else if (!answer.alarms.length) {
      parts.push(el("p", { text: "The endpoint answered DescribeAlarms with no alarm of this stack." }));
    } else {
      parts.push(C.table(["Alarm", "State", "Since", "Reason"], answer.alarms.map((a) => el("tr", {},
        el("td", { class: "mono", text: a.name, title: a.description || "" }),
        el("td", {}, el("span", { class: `status alarm-${(a.state || "").toLowerCase()}`, text: a.state })),
        el("td", { text: C.time(a.updated) }), el("td", { class: "wrap", text: a.reason || "" })))));
    }
    box.replaceChildren(...parts);
  }

  function drawQueues(box, queues) {
    box.replaceChildren(C.table(["Queue", "Visible", "In flight", "Delayed"], queues.map((q) => el("tr", {},
      el("td", { title: q.url, text: q.queue }),
      ...(q.refused ? [el("td", { colspan: 3, class: "warn", text: `refused: ${q.refused.code}` })]
        : [el("td", { text: q.visible }), el("td", { text: q.inFlight }), el("td", { text: q.delayed })])))),
      el("p", { class: "note", text: "The dead-letter queue is almost always empty: monitor-dlq consumes each message as it arrives and records it. Dead letters are read from the failed executions and the task records (the Dead letters page)." }));
  }

  return { render };
})();
