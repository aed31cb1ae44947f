// Jobs: what the Jobs API ran (`moray job submit`, with each one's driver log) and every job the
// GCS knows (drivers that connected, submitted or not).
"use strict";
(() => {
  const { el, getJson, showError, table, state, mono, time, refresh } = Moray;

  async function showLogs(id) {
    const box = document.getElementById("submission-logs");
    box.hidden = false;
    try {
      const body = await getJson(`/api/jobs/${encodeURIComponent(id)}/logs`);
      box.replaceChildren(el("h3", {}, `Driver log of ${id}`),
        el("pre", { class: "log", id: "submission-log" }, body.logs || "(empty)"));
    } catch (error) {
      showError(box, error);
    }
  }

  async function load() {
    const submissions = document.getElementById("submissions");
    const jobs = document.getElementById("jobs");
    try {
      const list = await getJson("/api/jobs/");
      list.sort((a, b) => (b.start_time || 0) - (a.start_time || 0));
      submissions.replaceChildren(table([
        { key: "submission_id", title: "Submission", render: (r) => mono(r.submission_id) },
        { key: "status", render: (r) => state(r.status) },
        { key: "entrypoint", wrap: true, render: (r) => mono(r.entrypoint) },
        { key: "message", wrap: true },
        { key: "start_time", title: "Started", render: (r) => time(r.start_time) },
        { key: "end_time", title: "Ended", render: (r) => time(r.end_time) },
        { key: "logs", title: "Log",
          render: (r) => el("a", { href: "#", onclick: (e) => { e.preventDefault(); showLogs(r.submission_id); } }, "driver log") },
      ], list, "No job was submitted through the Jobs API."));
    } catch (error) {
      showError(submissions, error);
    }
    try {
      const page = await getJson("/api/v0/jobs", { limit: 1000 });
      jobs.replaceChildren(table([
        { key: "job_id", title: "Job", render: (r) => mono(r.job_id) },
        { key: "status", render: (r) => state(r.status) },
        { key: "entrypoint", wrap: true, render: (r) => mono(r.entrypoint) },
        { key: "driver_ip", title: "Driver IP" },
        { key: "driver_pid", title: "Driver pid" },
        { key: "ray_namespace", title: "Namespace" },
        { key: "start_time_ms", title: "Started", render: (r) => time(r.start_time_ms) },
        { key: "end_time_ms", title: "Ended", render: (r) => time(r.end_time_ms) },
      ], page.result, "No job yet."));
    } catch (error) {
      showError(jobs, error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => refresh(load, 5000));
})();
