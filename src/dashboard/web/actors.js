// Actors: filtered at the GCS by state, class and job; each links to its worker's log.
"use strict";
(() => {
  const { el, getJson, showError, table, state, mono, shortId, refresh } = Moray;

  function filters() {
    const form = new FormData(document.getElementById("filters"));
    return ["state", "class_name", "job_id"].filter((k) => form.get(k))
      .map((k) => `${k}=${form.get(k).trim()}`);
  }

  async function load() {
    const box = document.getElementById("actors");
    try {
      const page = await getJson("/api/v0/actors", { limit: 1000, filter: filters() });
      document.getElementById("count").textContent =
        `${page.result.length} of ${page.total} shown`;
      box.replaceChildren(table([
        { key: "actor_id", title: "Actor", render: (r) => mono(r.actor_id) },
        { key: "class_name", title: "Class" },
        { key: "name" },
        { key: "state", render: (r) => state(r.state) },
        { key: "job_id", title: "Job", render: (r) => mono(r.job_id) },
        { key: "node_id", title: "Node", render: (r) => shortId(r.node_id) },
        { key: "pid" },
        { key: "num_restarts", title: "Restarts" },
        { key: "death_message", title: "Death", wrap: true },
        { key: "log", title: "Log", render: (r) => r.pid ?
          el("a", { href: `logs.html?actor_id=${encodeURIComponent(r.actor_id)}`, class: "actor-log" }, "log") : "" },
      ], page.result, "No actors."));
    } catch (error) {
      showError(box, error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
    refresh(load, 5000);
  });
})();
