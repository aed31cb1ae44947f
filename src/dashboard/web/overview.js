// Overview: cluster totals (the newest metrics sample) and every node with its resources and
// object store usage (the raylets' last reports).
"use strict";
(() => {
  const { el, getJson, showError, table, state, shortId, bytes, bar, refresh } = Moray;

  function card(label, value, id) {
    return el("div", { class: "card", id }, el("div", { class: "label" }, label),
      el("div", { class: "value" }, value));
  }

  function resources(row) {
    const total = row.resources_total || {};
    const free = row.resources_available || {};
    const amount = (k, v) => (k === "memory" || k === "object_store_memory" ? bytes(v) : String(Number(v.toFixed(2))));
    return Object.keys(total).filter((k) => !k.startsWith("node:")).sort().map((k) =>
      el("div", {}, `${k}: ${amount(k, total[k] - (free[k] ?? total[k]))} / ${amount(k, total[k])}`));
  }

  async function load() {
    const cards = document.getElementById("cards");
    const nodes = document.getElementById("nodes");
    try {
      const [page, metrics] = await Promise.all([
        getJson("/api/v0/nodes", { limit: 1000 }),
        getJson("/api/v0/metrics", { since: Date.now() - 60000 }),
      ]);
      const last = metrics.samples[metrics.samples.length - 1];
      const alive = page.result.filter((n) => n.state === "ALIVE").length;
      cards.replaceChildren(
        card("Nodes alive", `${alive} / ${page.total}`, "card-nodes"),
        card("CPUs used", last ? `${last.cpu_used} / ${last.cpu_total}` : "–", "card-cpu"),
        card("Object store", last ? `${bytes(last.object_store_used)} / ${bytes(last.object_store_capacity)}` : "–", "card-store"),
        card("Tasks running", last ? last.tasks_by_state.RUNNING : "–", "card-running"),
        card("Actors alive", last ? last.actors_alive : "–", "card-actors"));
      nodes.replaceChildren(table([
        { key: "node_id", title: "Node", render: (r) => shortId(r.node_id) },
        { key: "node_name", title: "Name" },
        { key: "node_ip", title: "IP" },
        { key: "is_head_node", title: "Head", render: (r) => (r.is_head_node ? "yes" : "") },
        { key: "state", render: (r) => state(r.state) },
        { key: "resources", title: "Resources used / total", render: resources },
        { key: "object_store", title: "Object store",
          render: (r) => r.object_store_used === undefined ? "no report" :
            el("span", {}, bar(r.object_store_used, r.object_store_memory),
              `${bytes(r.object_store_used)} / ${bytes(r.object_store_memory)}`,
              r.object_store_spilled ? ` (${bytes(r.object_store_spilled)} spilled)` : "") },
        { key: "num_workers", title: "Workers" },
      ], page.result, "No nodes."));
    } catch (error) {
      showError(nodes, error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => refresh(load, 3000));
})();
