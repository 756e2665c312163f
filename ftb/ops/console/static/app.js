"use strict";
// The router: the path names the page (deep links are stable: /tasks/{taskId}?run=N).
(async () => {
  const main = document.getElementById("main");
  const path = location.pathname;
  const pages = [
    [/^\/$/, "overview", () => Overview.render(main)],
    [/^\/tasks$/, "tasks", () => Tasks.render(main)],
    [/^\/tasks\/([^/]+)$/, "tasks", (m) => TaskPage.render(main, decodeURIComponent(m[1]))],
    [/^\/dead-letters$/, "dead-letters", () => DeadLetters.render(main)],
    [/^\/insights$/, "insights", () => Insights.render(main)],
  ];
  document.getElementById("jump").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = document.getElementById("jump-id").value.trim();
    if (id) location.href = `/tasks/${encodeURIComponent(id)}`;
  });
  C.api("/api/target").then((t) => { document.getElementById("target").textContent = t.target; }).catch(() => {});
  for (const [pattern, name, render] of pages) {
    const match = path.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll("nav a")) {
      if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    }
    try {
      await render(match);
    } catch (error) {
      main.replaceChildren(C.errorBox(error));
    }
    return;
  }
  main.replaceChildren(C.el("p", { text: "No such page." }));
})();
