// The log viewer: every node's log files (read through that node's raylet), and one file — by
// name, or an actor's or a task's worker (?actor_id= / ?task_id=, linked from the actors page) —
// shown from its last 1000 lines and followed while it grows.
"use strict";
(() => {
  const { el, getJson, showError, table, mono, bytes, time } = Moray;
  let source = null;      // {path, params} of the file shown
  let nextOffset = null;  // where the next read starts
  let timer = null;

  function stream() { return document.getElementById("stream").value; }

  async function read(first) {
    const log = document.getElementById("log");
    const params = { ...source.params, err: stream() };
    if (first) params.tail = 1000; else params.offset = nextOffset;
    try {
      const body = await getJson(source.path, params);
      // The first read, a rotated file (it starts over) or the placeholder: a fresh view.
      if (first || body.offset !== nextOffset || (log.dataset.empty && body.data)) {
        log.textContent = "";
        delete log.dataset.empty;
      }
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      log.append(body.data);
      if (atBottom) log.scrollTop = log.scrollHeight;
      nextOffset = body.next_offset;
      document.getElementById("log-title").textContent =
        `${body.file_name} on ${body.node_ip} (${bytes(body.size)}${body.worker_alive ? ", worker alive" : ""})`;
      if (first && !body.data) {
        log.textContent = "(empty)";
        log.dataset.empty = "1";
      }
    } catch (error) {
      showError(document.getElementById("viewer"), error);
      stop();
    }
  }

  function stop() { if (timer) clearInterval(timer); timer = null; }

  function open(path, params) {
    stop();
    source = { path, params };
    document.getElementById("viewer").hidden = false;
    document.getElementById("viewer").replaceChildren(el("pre", { class: "log", id: "log" }));
    read(true);
    if (document.getElementById("follow").checked) {
      timer = setInterval(() => { if (!document.hidden) read(false); }, 2000);
    }
  }

  async function listFiles() {
    const box = document.getElementById("files");
    try {
      const body = await getJson("/api/v0/logs");
      box.replaceChildren(...body.nodes.map((node) => el("div", {},
        el("h3", {}, `Node ${node.node_id.slice(0, 12)} (${node.node_ip}${node.is_head_node ? ", head" : ""})`),
        node.error ? el("div", { class: "error" }, node.error) : table([
          { key: "name", render: (f) => el("a", { href: "#", class: "log-file", onclick: (e) => {
              e.preventDefault();
              document.getElementById("stream").value = "0";
              open("/api/v0/logs/file", { node_id: node.node_id, name: f.name });
            } }, f.name) },
          { key: "size", render: (f) => bytes(f.size) },
          { key: "mtime_ms", title: "Modified", render: (f) => time(f.mtime_ms) },
          { key: "pid" },
          { key: "job_id", title: "Job", render: (f) => mono(f.job_id) },
          { key: "alive", render: (f) => (f.pid ? (f.alive ? "running" : "exited") : "") },
        ], node.files, "No log files."))));
    } catch (error) {
      showError(box, error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const params = new URLSearchParams(location.search);
    if (params.has("actor_id")) open("/api/v0/logs/actor", { actor_id: params.get("actor_id") });
    else if (params.has("task_id")) open("/api/v0/logs/task", { task_id: params.get("task_id") });
    document.getElementById("stream").addEventListener("change", () => source && open(source.path, source.params));
    document.getElementById("follow").addEventListener("change", () => source && open(source.path, source.params));
    listFiles();
  });
})();
