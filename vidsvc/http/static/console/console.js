// The vidsvc console: the compositions list, one composition's detail, and a playground.
// Plain JavaScript, no build step, nothing from another host. Safe by construction: every
// string from the API or the user reaches the page through el() below, which only ever
// creates text nodes and sets attributes (never innerHTML); the server's CSP forbids inline
// script as a second line of defence.
"use strict";

const API = "/api/v1/compositions";
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
// The list follows at most this many running compositions over WebSockets (the server caps
// sockets per client, WS_MAX_CONN_PER_IP); the others move with the list's refresh.
const MAX_LIST_SOCKETS = 8;
// After a socket ends without a terminal message, wait this long before opening another.
const SOCKET_RETRY_MS = 5000;
// Compositions per page of the list (the API allows up to 100); "Show older" fetches one more.
const PAGE_SIZE = 50;
const app = document.getElementById("app");
let view = null; // {stop()} of the view on screen

// -- helpers ----------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options) {
  const resp = await fetch(path, options);
  let body = null;
  try {
    body = await resp.json();
  } catch (_) {
    body = null;
  }
  if (!resp.ok) {
    const error = (body && body.error) || { code: "HTTP_" + resp.status, message: resp.statusText };
    throw Object.assign(new Error(error.message), { code: error.code, details: error.details });
  }
  return body;
}

const enc = encodeURIComponent;
const downloadUrl = (id) => `${API}/${enc(id)}/download`;
const thumbnailUrl = (id) => `${API}/${enc(id)}/download?file=thumbnail`;

function socketUrl(id) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/compositions/${enc(id)}`;
}

function seconds(value) {
  return typeof value === "number" ? `${value.toFixed(1)} s` : "";
}

function progressText(status, progress) {
  if (!progress) return status;
  const parts = [`${Math.round(progress.percentage)}%`, progress.stage];
  if (typeof progress.eta_seconds === "number" && !TERMINAL.has(status)) {
    parts.push(`ETA ${Math.ceil(progress.eta_seconds)} s`);
  }
  return parts.join(" · ");
}

function errorText(error) {
  return error ? `${error.code}: ${error.message}` : "";
}

// Follows one composition over its WebSocket; onChange gets {status, progress} as they come,
// onEnd once when it is over (or the socket closed, so the caller re-reads the state).
function watch(id, onChange, onEnd) {
  const ws = new WebSocket(socketUrl(id));
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  ws.onmessage = (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (_) {
      return;
    }
    const data = msg.data || {};
    if (msg.type === "status") onChange({ status: data.status, progress: data.progress });
    else if (msg.type === "progress") onChange({ status: data.status || "processing", progress: data });
    else end();
  };
  ws.onclose = end;
  ws.onerror = end;
  return { close: () => { ended = true; ws.close(); } };
}

// A list poll answered before the socket's latest message must not move the bar back: a
// render's percentage never goes down while its status stays the same.
function notBehind(before, item) {
  const was = before && before.progress;
  if (!was || !item.progress || before.status !== item.status || TERMINAL.has(item.status)) {
    return item;
  }
  return item.progress.percentage < was.percentage ? { ...item, progress: was } : item;
}

function progressCell(item) {
  const bar = el("progress", { max: 100, value: item.progress ? item.progress.percentage : 0 });
  const text = el("span", { class: "progress-text" }, progressText(item.status, item.progress));
  const error = el("span", { class: "error" }, errorText(item.error));
  return { node: el("div", {}, bar, text, error), bar, text, error };
}

function setProgress(cell, status, progress) {
  if (status === "completed") cell.bar.value = 100; // the socket's last word may carry no progress
  else if (progress) cell.bar.value = progress.percentage;
  cell.text.textContent = progressText(status, progress);
}

async function cancel(id, button) {
  button.disabled = true;
  try {
    await api(`${API}/${enc(id)}`, { method: "DELETE" });
  } catch (err) {
    button.disabled = false;
    alert(`${err.code}: ${err.message}`);
  }
}

// -- the list ---------------------------------------------------------------------------

function listView() {
  const rows = new Map(); // id -> {row, item, cells, socket}
  const tbody = el("tbody");
  const empty = el("p", { class: "empty", hidden: true }, "No compositions yet: try the playground.");
  const table = el(
    "table",
    { id: "compositions" },
    el("thead", {}, el("tr", {}, ["", "Composition", "Status", "Progress", "Duration", "Created", ""].map((h) => el("th", {}, h)))),
    tbody,
  );
  const older = el("button", { id: "older", type: "button", hidden: true }, "Show older");
  app.replaceChildren(el("h2", {}, "Compositions"), table, empty, older);
  let timer = null;
  let stopped = false;
  let pages = 1; // pages of PAGE_SIZE the list keeps up to date; "Show older" adds one
  older.addEventListener("click", () => {
    pages += 1; // the next refresh fetches it: now, unless one is under way (it then hurries)
    if (timer !== null) {
      clearTimeout(timer);
      refresh();
    }
  });

  function build(item) {
    const cells = {
      thumb: el("td", { class: "thumb-cell" }),
      status: el("span", { class: "status" }),
      progress: progressCell(item),
      duration: el("td", { class: "duration" }),
      actions: el("td", { class: "actions" }),
    };
    const row = el(
      "tr",
      { "data-id": item.composition_id },
      cells.thumb,
      el(
        "td",
        { class: "id" },
        el("a", { href: `#/c/${enc(item.composition_id)}` }, item.composition_id),
        el("div", { class: "user" }, item.user_id || ""),
      ),
      el("td", {}, cells.status),
      el("td", { class: "progress-cell" }, cells.progress.node),
      cells.duration,
      el("td", { class: "created" }, new Date(item.created_at).toLocaleString()),
      cells.actions,
    );
    const entry = { row, item: null, cells, socket: null, retryAt: 0 };
    update(entry, item);
    return entry;
  }

  function update(entry, item) {
    const before = entry.item;
    item = notBehind(before, item);
    entry.item = item;
    const { cells } = entry;
    cells.status.textContent = item.status;
    cells.status.className = `status status-${item.status}`;
    setProgress(cells.progress, item.status, item.progress);
    cells.progress.error.textContent = errorText(item.error);
    cells.duration.textContent = seconds(item.duration);
    if (!before || before.status !== item.status) {
      cells.thumb.replaceChildren(
        item.status === "completed"
          ? el("img", { class: "thumb", src: thumbnailUrl(item.composition_id), alt: "thumbnail" })
          : el("div", { class: "thumb-empty" }),
      );
      cells.actions.replaceChildren();
      if (!TERMINAL.has(item.status)) {
        const button = el("button", { class: "cancel", type: "button" }, "Cancel");
        button.addEventListener("click", () => cancel(item.composition_id, button));
        cells.actions.append(button);
      }
    }
    const open = [...rows.values()].filter((e) => e.socket).length;
    const due = !entry.retryAt || Date.now() >= entry.retryAt;
    if (!TERMINAL.has(item.status) && !entry.socket && due && open < MAX_LIST_SOCKETS) {
      entry.socket = watch(
        item.composition_id,
        (change) => {
          entry.item = { ...entry.item, ...change, progress: change.progress || entry.item.progress };
          cells.status.textContent = entry.item.status;
          cells.status.className = `status status-${entry.item.status}`;
          setProgress(cells.progress, entry.item.status, entry.item.progress);
        },
        () => {
          entry.socket = null;
          entry.retryAt = Date.now() + SOCKET_RETRY_MS; // a refused socket is not retried hot
          refreshOne(entry);
        },
      );
    }
  }

  async function refreshOne(entry) {
    if (stopped) return;
    try {
      update(entry, await api(`${API}/${enc(entry.item.composition_id)}`));
    } catch (_) {
      /* the next list refresh tries again */
    }
  }

  async function refresh() {
    timer = null; // one refresh at a time: it schedules the next itself
    const wanted = pages;
    try {
      const items = [];
      let cursor = null;
      for (let n = 0; n < pages; n += 1) {
        const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
        const page = await api(`${API}?limit=${PAGE_SIZE}${query}`);
        items.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      if (stopped) return;
      older.hidden = !cursor;
      const seen = new Set();
      for (const item of items) {
        seen.add(item.composition_id);
        let entry = rows.get(item.composition_id);
        if (entry) update(entry, item);
        else rows.set(item.composition_id, (entry = build(item)));
        tbody.append(entry.row); // re-appending keeps the server's order: newest first
      }
      for (const [id, entry] of rows) {
        if (!seen.has(id)) {
          if (entry.socket) entry.socket.close();
          entry.row.remove();
          rows.delete(id);
        }
      }
      empty.hidden = rows.size > 0;
    } catch (_) {
      /* keep what is on screen; try again */
    }
    if (!stopped) timer = setTimeout(refresh, pages === wanted ? 2000 : 0);
  }

  refresh();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      for (const entry of rows.values()) if (entry.socket) entry.socket.close();
    },
  };
}

// -- one composition ---------------------------------------------------------------------

function table(id, pairs) {
  return el("table", { id, class: "kv" }, pairs.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
}

function probeSummary(p) {
  if (!p) return "";
  const size = p.width && p.height ? `${p.width}x${p.height}` : "";
  return [p.format, p.video, p.audio, size, p.fps ? `${p.fps} fps` : "", seconds(p.duration)]
    .filter(Boolean)
    .join(" · ");
}

function shellQuote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

function detailView(id) {
  let stopped = false;
  let socket = null;
  let timer = null;
  const status = el("span", { class: "status", id: "detail-status" });
  const cell = progressCell({ status: "", progress: null, error: null });
  const actions = el("div", { class: "toolbar" });
  const player = el("div", { id: "player-box" });
  const meta = el("div", { id: "meta" });
  const request = el("pre", { id: "request-json" }, "…");
  const clientMeta = el("div", { id: "client-metadata" }); // the request's `metadata`, if any
  app.replaceChildren(
    el("h2", {}, "Composition ", el("span", { class: "id" }, id)),
    el("div", { class: "toolbar" }, status, cell.node),
    actions,
    player,
    el("div", { class: "grid" }, el("div", {}, el("h2", {}, "Render"), meta), el("div", {}, clientMeta, el("h2", {}, "Request"), request)),
  );

  function show(item) {
    status.textContent = item.status;
    status.className = `status status-${item.status}`;
    setProgress(cell, item.status, item.progress);
    cell.error.textContent = errorText(item.error);
    actions.replaceChildren();
    if (!TERMINAL.has(item.status)) {
      const button = el("button", { class: "cancel", type: "button" }, "Cancel");
      button.addEventListener("click", () => cancel(id, button));
      actions.append(button);
    }
  }

  async function load() {
    if (stopped) return;
    let item;
    try {
      item = await api(`${API}/${enc(id)}`);
    } catch (err) {
      app.replaceChildren(el("p", { class: "error" }, `${err.code}: ${err.message}`));
      return;
    }
    show(item);
    if (item.metadata && !clientMeta.firstChild) {
      clientMeta.append(el("h2", {}, "Metadata"), el("pre", { id: "detail-metadata" }, JSON.stringify(item.metadata, null, 2)));
    }
    if (item.status === "completed" && !player.firstChild) {
      player.append(...outputsView(id, item));
    }
    if (TERMINAL.has(item.status)) loadMetadata();
    else if (!socket) {
      socket = watch(
        id,
        (change) => show({ ...item, ...change, progress: change.progress || item.progress }),
        () => {
          socket = null;
          if (!stopped) timer = setTimeout(load, 1000);
        },
      );
    }
  }

  async function loadMetadata() {
    try {
      const m = await api(`${API}/${enc(id)}/metadata`);
      const timings = Object.entries(m.timings || {}).map(([k, v]) => [k, seconds(v)]);
      const inputs = Object.entries(m.inputs || {}).map(([k, v]) => [k, probeSummary(v)]);
      meta.replaceChildren(
        table("facts", [
          ["status", m.status],
          ["attempts", String(m.attempts)],
          ["instance", m.instance || ""],
          ["output", probeSummary(m.output)],
          ["FFmpeg", m.ffmpeg_version || ""],
        ]),
        el("h3", {}, "Timings"),
        table("timings", timings),
        el("h3", {}, "Inputs"),
        table("inputs", inputs),
        el("h3", {}, "FFmpeg command"),
        el("pre", { id: "meta-command" }, (m.command || []).map(shellQuote).join(" ")),
      );
    } catch (err) {
      meta.replaceChildren(el("p", { class: "error" }, `${err.code}: ${err.message}`));
    }
  }

  api(`${API}/${enc(id)}/request`)
    .then((body) => { request.textContent = JSON.stringify(body, null, 2); })
    .catch((err) => { request.textContent = `${err.code}: ${err.message}`; });
  load();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}

// -- the playground -----------------------------------------------------------------------

function playView() {
  let socket = null;
  let timer = null;
  let stopped = false;
  const select = el("select", { id: "sample-select" });
  const editor = el("textarea", { id: "spec-editor", spellcheck: "false" });
  const submit = el("button", { id: "submit", class: "primary", type: "button" }, "Render");
  const plan = el("button", { id: "plan", type: "button", title: "dry run: stage, probe and plan; render nothing" }, "Plan");
  const preview = el("button", { id: "preview", type: "button", title: "render a draft of the range and play it" }, "Preview");
  const from = el("input", { id: "preview-start", type: "number", min: 0, step: 0.1, value: 0 });
  const slider = el("input", { id: "preview-slider", type: "range", min: 0, max: 0, step: 0.1, value: 0, hidden: true });
  const span = el("input", { id: "preview-duration", type: "number", min: 0.1, max: 3600, step: 0.1, value: 5 });
  const total = el("span", { id: "preview-total", class: "muted" });
  const result = el("div", { id: "play-result" });
  const templates = templatePanel(editor, (node) => result.replaceChildren(node)); // templates.js
  const range = el("span", { class: "preview-range" }, el("label", {}, "from ", from, " s"), slider, el("label", {}, "for ", span, " s"), total);
  app.replaceChildren(
    el("h2", {}, "Playground"),
    el("div", { class: "toolbar" }, el("label", {}, "Sample ", select), submit, plan, preview, range),
    templates.node,
    editor,
    result,
  );
  let samples = [];

  function choose() {
    const sample = samples.find((s) => s.name === select.value);
    editor.value = JSON.stringify(sample ? sample.spec : { clips: [] }, null, 2);
    templates.clear(); // the merge form wrote the editor: a sample replaces it
  }
  select.addEventListener("change", choose);

  api("/console/samples")
    .then((body) => {
      samples = body.samples;
      select.replaceChildren(...samples.map((s) => el("option", { value: s.name }, s.name)), el("option", { value: "" }, "(empty)"));
      choose();
    })
    .catch(() => choose());

  // Runs work(spec, text) on the editor's JSON, the buttons disabled; its error shows below.
  async function post(work) {
    const text = editor.value;
    let spec;
    try {
      spec = JSON.parse(text);
    } catch (err) {
      result.replaceChildren(el("p", { class: "error" }, `not JSON: ${err.message}`));
      return;
    }
    submit.disabled = plan.disabled = preview.disabled = true;
    try {
      await work(spec, text);
    } catch (err) {
      result.replaceChildren(el("p", { class: "error", id: "play-error" }, `${err.code}: ${err.message}`));
    } finally {
      submit.disabled = plan.disabled = preview.disabled = false;
    }
  }
  const send = (path, spec) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(spec) });
  submit.addEventListener("click", () => post(async (spec) => follow((await send(API, spec)).composition_id)));
  plan.addEventListener("click", () => {
    if (socket) socket.close(); // a render followed before: the plan takes its place
    clearTimeout(timer);
    result.replaceChildren(el("p", {}, "Planning: fetching and probing the inputs…"));
    post(async (spec, text) => result.replaceChildren(planBox((await planned(spec, text)).plan)));
  });

  // The timeline's length, from the last plan of exactly this text: it bounds the range.
  let known = { text: null, duration: 0 };
  async function planned(spec, text) {
    const answer = await send(`${API}?dry_run=true`, spec);
    known = { text, duration: answer.plan.duration };
    slider.max = from.max = known.duration;
    slider.hidden = false;
    total.textContent = `of ${Number(known.duration.toFixed(3))} s`;
    return answer;
  }
  const startAt = (value) => {
    from.value = slider.value = Number(Math.max(0, value).toFixed(1));
  };
  slider.addEventListener("input", () => startAt(Number(slider.value)));
  from.addEventListener("input", () => { slider.value = from.value; });
  // A video scrubbed here (a render, or a preview from `offset`): the range centres on it.
  const scrubbed = (video, offset) =>
    video.addEventListener("seeked", () => startAt(offset + video.currentTime - (Number(span.value) || 5) / 2));

  preview.addEventListener("click", () => post(async (spec, text) => {
    if (known.text !== text) {
      result.replaceChildren(el("p", {}, "Preview: planning, to learn the timeline's length…"));
      await planned(spec, text);
    }
    const length = Math.min(Math.max(Number(span.value) || 5, 0.1), 3600, known.duration);
    const start = Number(Math.min(Math.max(Number(from.value) || 0, 0), known.duration - length).toFixed(3));
    // by template_id, `output` replaces the template's: start from the template's own
    const base = spec.output || (spec.template_id ? (await api(`${TEMPLATES}/${enc(spec.template_id)}`)).composition.output : null);
    const output = { ...base, draft: true, range: { start, duration: Number(length.toFixed(3)) } };
    follow((await send(API, { ...spec, output })).composition_id, start);
  }));

  // Follows a render, or (offset: its range's start) a preview, and plays it when done.
  function follow(id, offset = null) {
    if (socket) socket.close();
    clearTimeout(timer);
    const cell = progressCell({ status: "queued", progress: null, error: null });
    cell.bar.id = "play-progress";
    const box = el("div", { id: "play-player" });
    const what = offset === null ? "Submitted " : `Preview from ${offset} s: `;
    result.replaceChildren(el("p", {}, what, el("a", { href: `#/c/${enc(id)}` }, id)), cell.node, box);
    socket = watch(
      id,
      (change) => setProgress(cell, change.status, change.progress),
      () => {
        socket = null;
        settle();
      },
    );

    // The socket ended: show the final state, or keep polling if it dropped mid-render.
    async function settle() {
      if (stopped) return;
      let item;
      try {
        item = await api(`${API}/${enc(id)}`);
      } catch (_) {
        timer = setTimeout(settle, 2000);
        return;
      }
      setProgress(cell, item.status, item.progress);
      cell.error.textContent = errorText(item.error);
      if (item.status === "completed") {
        const video = el("video", { controls: true, src: downloadUrl(id), id: offset === null ? null : "preview-video", autoplay: offset !== null });
        scrubbed(video, offset || 0);
        box.replaceChildren(video);
      } else if (!TERMINAL.has(item.status)) {
        timer = setTimeout(settle, 2000);
      }
    }
  }

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}

// A dry run's plan (POST ?dry_run=true): one row per clip, the warnings, length and estimate.
function planBox(plan) {
  const at = (value) => `${Number(value.toFixed(3))} s`; // the plan is exact to the millisecond
  const span = (v) => (v ? `${at(v.start_time)} – ${at(v.end_time)}` : "");
  const rows = plan.clips.map((c) =>
    el(
      "tr",
      {},
      el("td", {}, `${c.index}: ${c.url.split("/").pop()}`),
      el("td", {}, at(c.start_time)),
      el("td", {}, at(c.end_time)),
      el("td", {}, c.extended_by ? `${at(c.extended_by)} (${c.extend})` : ""),
      el("td", {}, span(c.voiceover)),
    ),
  );
  const head = ["Clip", "Start", "End", "Extended by", "Narration"].map((h) => el("th", {}, h));
  const estimate = typeof plan.estimated_duration === "number" ? `, rendered in about ${seconds(plan.estimated_duration)}` : "";
  return el(
    "div",
    { id: "plan-result" },
    el("p", { id: "plan-summary" }, `${at(plan.duration)} at ${plan.width}x${plan.height}, ${plan.fps} fps${estimate}`),
    el("table", { id: "plan-table" }, el("thead", {}, el("tr", {}, head)), el("tbody", {}, rows)),
    el("ul", { id: "plan-warnings", class: "warnings" }, plan.warnings.map((w) => el("li", {}, w))),
  );
}

// -- routing ------------------------------------------------------------------------------

function route() {
  if (view) view.stop();
  const hash = location.hash || "#/";
  document.getElementById("nav-list").classList.toggle("active", hash === "#/");
  document.getElementById("nav-play").classList.toggle("active", hash === "#/play");
  if (hash.startsWith("#/c/")) view = detailView(decodeURIComponent(hash.slice(4)));
  else if (hash === "#/play") view = playView();
  else view = listView();
}

window.addEventListener("hashchange", route);
route();
