// plate-edge page: upload one image to /v1/analyze, draw the plates on a canvas, show and offer the JSON.
// Plain browser JavaScript, no build step. Boxes come in the image's pixels after EXIF orientation; the
// browser also applies EXIF orientation when it draws the image, and we scale by the ratio of the two
// sizes in case they ever differ.
"use strict";

const $ = (id) => document.getElementById(id);
const FONT = "'Noto Sans KR','Noto Sans CJK KR',NanumGothic,'Malgun Gothic','Apple SD Gothic Neo',sans-serif";
let lastJson = null;

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function jsonName(imageName) {
  const stem = (imageName || "analysis").replace(/\.[^.]*$/, "") || "analysis";
  return stem + ".json";
}

function quadPath(ctx, quad, sx, sy) {
  ctx.beginPath();
  quad.forEach(([x, y], i) => (i ? ctx.lineTo(x * sx, y * sy) : ctx.moveTo(x * sx, y * sy)));
  ctx.closePath();
}

function draw(img, result) {
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  ctx.drawImage(img, 0, 0);
  const sx = img.naturalWidth / result.image.width;
  const sy = img.naturalHeight / result.image.height;
  const unit = Math.max(2, Math.round(Math.max(canvas.width, canvas.height) / 400));
  result.plates.forEach((plate, i) => {
    for (const area of plate.areas) {
      ctx.setLineDash([3 * unit, 2 * unit]);
      ctx.lineWidth = Math.max(1, unit / 2);
      ctx.strokeStyle = "#ffd400";
      quadPath(ctx, area.box, sx, sy);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.lineWidth = unit;
    ctx.strokeStyle = i === 0 ? "#00d05a" : "#00a0ff";
    quadPath(ctx, plate.box, sx, sy);
    ctx.stroke();
    const size = Math.max(14, 8 * unit);
    ctx.font = `bold ${size}px ${FONT}`;
    const label = `${plate.text} ${(plate.confidence * 100).toFixed(0)}%`;
    const x = Math.min(...plate.box.map((p) => p[0])) * sx;
    const top = Math.min(...plate.box.map((p) => p[1])) * sy;
    const y = top - size - 4 * unit >= 0 ? top - size - 2 * unit : Math.max(...plate.box.map((p) => p[1])) * sy + unit;
    const w = ctx.measureText(label).width + 2 * unit;
    ctx.fillStyle = "rgba(0,0,0,0.7)";
    ctx.fillRect(x, y, w, size + 2 * unit);
    ctx.fillStyle = "#fff";
    ctx.textBaseline = "top";
    ctx.fillText(label, x + unit, y + unit);
  });
}

function listPlates(result) {
  const list = $("plates");
  list.replaceChildren();
  if (!result.plates.length) {
    const li = document.createElement("li");
    li.className = "meta";
    li.textContent = "No plate found.";
    list.append(li);
  }
  for (const p of result.plates) {
    const li = document.createElement("li");
    li.className = "plate";
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = p.text;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${p.kind} · confidence ${p.confidence.toFixed(3)} · ${p.valid ? "valid" : "not valid"}`;
    li.append(text, meta);
    list.append(li);
  }
}

async function analyse(file) {
  showError("");
  $("info").textContent = `Analysing ${file.name}…`;
  const form = new FormData();
  form.append("image", file, file.name);
  let response, body;
  try {
    response = await fetch("/v1/analyze", { method: "POST", body: form });
    body = await response.json();
  } catch (e) {
    showError(`Request failed: ${e}`);
    return;
  }
  if (!response.ok) {
    showError(`${response.status}: ${body.error ? body.error.message : response.statusText}`);
    $("info").textContent = "";
    return;
  }
  lastJson = body;
  const img = new Image();
  img.onload = () => {
    draw(img, body);
    URL.revokeObjectURL(img.src);
  };
  img.src = URL.createObjectURL(file);
  listPlates(body);
  // one line per point: [x, y] pairs on their own lines make the JSON four times as long
  $("json").textContent = JSON.stringify(body, null, 2).replace(/\[\s+(-?[\d.e+-]+),\s+(-?[\d.e+-]+)\s+\]/g, "[$1, $2]");
  $("result").hidden = false;
  const t = body.timing_ms;
  $("info").textContent = `${body.image.name}: ${body.image.width}x${body.image.height}, ` +
    `${body.plates.length} plate(s), ${t.total} ms`;
}

$("file").addEventListener("change", (e) => {
  if (e.target.files.length) analyse(e.target.files[0]);
});

const drop = $("drop");
["dragenter", "dragover"].forEach((t) => document.addEventListener(t, (e) => {
  e.preventDefault();
  drop.classList.add("over");
}));
["dragleave", "drop"].forEach((t) => document.addEventListener(t, (e) => {
  e.preventDefault();
  drop.classList.remove("over");
}));
document.addEventListener("drop", (e) => {
  if (e.dataTransfer.files.length) analyse(e.dataTransfer.files[0]);
});

$("download").addEventListener("click", () => {
  if (!lastJson) return;
  const blob = new Blob([JSON.stringify(lastJson, null, 2)], { type: "application/json;charset=utf-8" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = jsonName(lastJson.image.name);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

fetch("/readyz").then((r) => r.json()).then((s) => {
  const m = s.models || {};
  const providers = [...new Set(Object.values(m.providers || {}).flat())];
  const parts = ["Ready", `detector ${m.detector || "?"}`, ...providers];
  $("status").textContent = s.ready ? parts.join(" · ") : "Not ready";
  if (s.cameras) pollLive();  // only the daemon reports cameras (and serves /v1/live)
}).catch(() => { $("status").textContent = "Status unavailable"; });

// Under the daemon (`plate-edge run`, whose /readyz lists cameras) the page also shows camera states and
// recent events from /v1/live; under `serve` the section stays hidden. textContent only: plate text is
// never parsed as HTML.
function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
}

function showLive(live) {
  $("live").hidden = false;
  const cams = $("cameras");
  cams.replaceChildren(...Object.entries(live.cameras).map(([id, c]) => {
    const span = document.createElement("span");
    span.className = c.state;
    span.textContent = `${id}: ${c.state}${c.fps ? ` ${c.fps} fps` : ""}${c.reason ? ` (${c.reason})` : ""}`;
    return span;
  }));
  const body = $("events").tBodies[0];
  body.replaceChildren(...live.events.map((e) => {
    const tr = document.createElement("tr");
    cell(tr, e.ts.slice(11, 19));
    cell(tr, e.camera);
    cell(tr, e.type);
    cell(tr, e.plate.text);
    cell(tr, e.plate.confidence.toFixed(2));
    cell(tr, e.direction || "");
    cell(tr, e.list.name || "");
    return tr;
  }));
}

function pollLive() {
  fetch("/v1/live").then((r) => r.json()).then((live) => {
    showLive(live);
    setTimeout(pollLive, 2000);
  }).catch(() => setTimeout(pollLive, 5000));
}
