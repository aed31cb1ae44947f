// Live charts of the dashboard's samples (GET /api/v0/metrics): the history the dashboard kept
// when the page opens, then the new samples as they come.
"use strict";
(() => {
  const { getJson } = Moray;
  const samples = [];
  const MAX = 900;

  const count = (v) => (Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2))));

  function series(name, pick) {
    return { name, points: samples.map((s) => [s.time_ms, pick(s)]) };
  }

  function render() {
    const chart = (id, list, format) =>
      Charts.draw(document.getElementById(`chart-${id}`), document.getElementById(`legend-${id}`), list, format);
    chart("cpu", [series("used", (s) => s.cpu_used), series("total", (s) => s.cpu_total)], count);
    chart("store", [series("used", (s) => s.object_store_used),
                    series("capacity", (s) => s.object_store_capacity)], Moray.bytes);
    const states = samples.length ? Object.keys(samples[samples.length - 1].tasks_by_state) : [];
    chart("tasks", states.map((state) => series(state, (s) => s.tasks_by_state[state] || 0)), count);
    chart("actors", [series("alive", (s) => s.actors_alive)], count);
  }

  async function poll() {
    const since = samples.length ? samples[samples.length - 1].time_ms : 0;
    try {
      const body = await getJson("/api/v0/metrics", { since });
      samples.push(...body.samples);
      samples.splice(0, Math.max(0, samples.length - MAX));
      document.getElementById("status").textContent =
        `${samples.length} samples, one every ${body.interval_ms / 1000} s` +
        (samples.length ? `; last at ${new Date(samples[samples.length - 1].time_ms).toLocaleTimeString()}` : "");
      render();
    } catch (error) {
      document.getElementById("status").textContent = String(error.message || error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    poll();
    setInterval(() => { if (!document.hidden) poll(); }, 2000);
    window.addEventListener("resize", render);
  });
})();
