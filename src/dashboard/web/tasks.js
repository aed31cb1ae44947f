// Tasks: filtered and paged by the GCS (offset, limit), so a page past the 10,000th record costs
// what the first does. The filters and the page are in the address, so a view can be shared.
"use strict";
(() => {
  const { getJson, showError, table, state, mono, shortId } = Moray;
  let offset = 0;
  let total = 0;

  function form() { return document.getElementById("filters"); }
  function limit() { return Number(form().elements.limit.value); }

  function filters() {
    const data = new FormData(form());
    return ["state", "name", "job_id"].filter((k) => data.get(k))
      .map((k) => `${k}=${data.get(k).trim()}`);
  }

  function fromAddress() {
    const params = new URLSearchParams(location.search);
    for (const key of ["state", "name", "job_id", "limit"]) {
      if (params.has(key)) form().elements[key].value = params.get(key);
    }
    offset = Math.max(0, Number(params.get("offset")) || 0);
  }

  function toAddress() {
    const params = new URLSearchParams();
    for (const key of ["state", "name", "job_id", "limit"]) {
      const value = form().elements[key].value.trim();
      if (value) params.set(key, value);
    }
    if (offset) params.set("offset", offset);
    history.replaceState(null, "", `${location.pathname}?${params}`);
  }

  async function load() {
    const box = document.getElementById("tasks");
    toAddress();
    try {
      const page = await getJson("/api/v0/tasks", { offset, limit: limit(), filter: filters() });
      total = page.total;
      const pages = Math.max(1, Math.ceil(total / limit()));
      const first = total ? offset + 1 : 0;
      document.getElementById("page-info").textContent =
        `${first}–${offset + page.result.length} of ${total} (page ${Math.floor(offset / limit()) + 1} of ${pages})` +
        (page.num_dropped ? `; the cluster dropped ${page.num_dropped} records` : "");
      document.getElementById("prev").disabled = document.getElementById("first").disabled = offset === 0;
      document.getElementById("next").disabled = document.getElementById("last").disabled =
        offset + limit() >= total;
      box.replaceChildren(table([
        { key: "task_id", title: "Task", render: (r) => mono(r.task_id) },
        { key: "attempt_number", title: "Attempt" },
        { key: "name" },
        { key: "state", render: (r) => state(r.state) },
        { key: "type" },
        { key: "job_id", title: "Job", render: (r) => mono(r.job_id) },
        { key: "actor_id", title: "Actor", render: (r) => shortId(r.actor_id) },
        { key: "node_id", title: "Node", render: (r) => shortId(r.node_id) },
        { key: "worker_pid", title: "Pid" },
        { key: "error_type", title: "Error" },
      ], page.result, "No tasks match."));
    } catch (error) {
      showError(box, error);
    }
  }

  function go(to) {
    offset = Math.max(0, to);
    load();
  }

  document.addEventListener("DOMContentLoaded", () => {
    fromAddress();
    form().addEventListener("submit", (e) => { e.preventDefault(); go(0); });
    document.getElementById("first").addEventListener("click", () => go(0));
    document.getElementById("prev").addEventListener("click", () => go(offset - limit()));
    document.getElementById("next").addEventListener("click", () => go(offset + limit()));
    document.getElementById("last").addEventListener("click",
      () => go(Math.floor(Math.max(0, total - 1) / limit()) * limit()));
    load();
  });
})();
