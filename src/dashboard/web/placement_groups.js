// Placement groups: every group the GCS holds (removed ones included) with its bundles.
"use strict";
(() => {
  const { el, getJson, showError, table, state, mono, format, refresh } = Moray;

  async function load() {
    const box = document.getElementById("groups");
    try {
      const page = await getJson("/api/v0/placement_groups", { limit: 1000 });
      box.replaceChildren(table([
        { key: "placement_group_id", title: "Group", render: (r) => mono(r.placement_group_id) },
        { key: "name" },
        { key: "state", render: (r) => state(r.state) },
        { key: "strategy" },
        { key: "creator_job_id", title: "Job", render: (r) => mono(r.creator_job_id) },
        { key: "bundles", wrap: true, render: (r) => (r.bundles || []).map((b) =>
          el("div", { class: "mono" }, `#${b.bundle_index} ${format(b.unit_resources)} on ${b.node_id ? b.node_id.slice(0, 12) : "(not placed)"}`)) },
        { key: "state_message", title: "Message", wrap: true },
      ], page.result, "No placement groups."));
    } catch (error) {
      showError(box, error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => refresh(load, 5000));
})();
