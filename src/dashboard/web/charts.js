// Line charts on <canvas>, without a library: time on x, one line per series, a y axis from 0 to
// a rounded maximum. The canvas's data-points attribute counts the points drawn (for tests and
// for anyone reading the page with a script).
"use strict";

const Charts = (() => {
  const COLORS = ["#2f6fdf", "#1a7f37", "#c0392b", "#b7791f", "#7b3fe4", "#0e8a9a", "#666"];

  function niceMax(value) {
    if (value <= 0) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  // series: [{name, points: [[time_ms, value], ...]}]; format(value) labels the y axis.
  function draw(canvas, legend, series, format) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const pad = { left: 64, right: 12, top: 10, bottom: 24 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const all = series.flatMap((s) => s.points);
    canvas.dataset.points = String(all.length);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#667085";
    if (!all.length) {
      ctx.fillText("no samples yet", pad.left + 8, pad.top + plotH / 2);
      legend.replaceChildren();
      return;
    }
    let t0 = Math.min(...all.map((p) => p[0]));
    const t1 = Math.max(...all.map((p) => p[0]));
    if (t1 === t0) t0 = t1 - 1000;
    const yMax = niceMax(Math.max(...all.map((p) => p[1])));
    const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * plotW;
    const y = (v) => pad.top + plotH - (v / yMax) * plotH;
    // Grid and labels.
    ctx.strokeStyle = "#e7eaf0";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.left, y(v));
      ctx.lineTo(pad.left + plotW, y(v));
      ctx.stroke();
      ctx.fillText(format(v), pad.left - 6, y(v));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let i = 0; i <= 3; i++) {
      const t = t0 + ((t1 - t0) * i) / 3;
      ctx.fillText(new Date(t).toLocaleTimeString(), x(t), pad.top + plotH + 6);
    }
    // Lines.
    series.forEach((s, index) => {
      ctx.strokeStyle = COLORS[index % COLORS.length];
      ctx.lineWidth = 2;
      ctx.beginPath();
      s.points.forEach(([t, v], i) => (i ? ctx.lineTo(x(t), y(v)) : ctx.moveTo(x(t), y(v))));
      ctx.stroke();
      if (s.points.length === 1) {
        ctx.fillStyle = ctx.strokeStyle;
        ctx.fillRect(x(s.points[0][0]) - 2, y(s.points[0][1]) - 2, 4, 4);
      }
    });
    legend.replaceChildren(...series.map((s, index) => {
      const swatch = document.createElement("i");
      swatch.style.background = COLORS[index % COLORS.length];
      const last = s.points.length ? s.points[s.points.length - 1][1] : null;
      const item = document.createElement("span");
      item.append(swatch, `${s.name}${last === null ? "" : ": " + format(last)}`);
      return item;
    }));
  }

  return { draw };
})();
