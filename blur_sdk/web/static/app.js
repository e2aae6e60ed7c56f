/* blur-sdk try-it page: plain JavaScript, no framework, no build step.
 *
 * Faces & plates: POST / (the Blur API, multipart) per image; the answer's regions are drawn
 * over the original and listed, the blurred image comes from answer.blur.base64.
 * Watermark removal: the Kaze API (submit_watermark_removal with image_base64 and an optional
 * smear_base64 painted with the brush, then get_task_result until done, then the result URL).
 */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("server-config").textContent);
  const $ = (id) => document.getElementById(id);
  const KAZE = config.base + "api/ext/v1/";
  const POLL_MS = 800;
  const POLL_LIMIT_MS = 10 * 60 * 1000;
  const COLORS = { face: "#f59e0b", plate: "#06b6d4", skipped: "#94a3b8" };
  const state = {
    tool: config.tools.length ? config.tools[0].api : "blur",
    items: [],
    current: null,
    running: false,
    erase: false,
  };
  let nextId = 1;

  // -- small helpers ---------------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function show(node, visible) {
    node.classList.toggle("hidden", !visible);
  }

  function apiKey() {
    return $("api-key").value.trim();
  }

  function base64ToBlob(b64, type) {
    const bytes = atob(b64);
    const buffer = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i += 1) buffer[i] = bytes.charCodeAt(i);
    return new Blob([buffer], { type });
  }

  function fileToBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(new Error("the file cannot be read"));
      reader.readAsDataURL(file);
    });
  }

  function seconds(ms) {
    return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
  }

  function intensityLabel(value) {
    const v = Number(value);
    if (v < 0) return "Off";
    if (v === 0) return "Find only";
    return `Blur ${v}/10`;
  }

  function authMessage(status, message) {
    if (status === 401 || status === 403) {
      document.body.classList.add("needs-key");
      return `${message || "Not authorized"}: enter this server's API key at the top.`;
    }
    return message;
  }

  function resultOf(item, tool = state.tool) {
    if (!item.results[tool]) item.results[tool] = { status: "new" };
    return item.results[tool];
  }

  // -- tools and options -----------------------------------------------------------------------

  function renderTools() {
    const nav = $("tools");
    nav.replaceChildren();
    for (const tool of config.tools) {
      const button = el("button", { type: "button", "data-api": tool.api, text: tool.label });
      button.addEventListener("click", () => setTool(tool.api));
      nav.append(button);
    }
    show(nav, config.tools.length > 1);
  }

  function setTool(api) {
    state.tool = api;
    for (const button of $("tools").children) {
      button.classList.toggle("on", button.dataset.api === api);
    }
    for (const section of document.querySelectorAll(".options")) {
      show(section, section.dataset.tool === api);
    }
    document.body.dataset.tool = api;
    $("after-caption").textContent = api === "kaze" ? "Watermark removed" : "Anonymized";
    renderStrip();
    renderCurrent();
  }

  function updateLabels() {
    $("faces-out").textContent = intensityLabel($("faces").value);
    $("plates-out").textContent = intensityLabel($("plates").value);
    $("brush-out").textContent = `${$("brush").value} px`;
    show($("logo-file"), $("logo-mode").value === "file");
  }

  function margins() {
    const value = (id) => Math.min(100, Math.max(0, Number($(id).value) || 0));
    return { et: value("et"), eb: value("eb"), el: value("el"), er: value("er") };
  }

  // -- files, strip, queue ---------------------------------------------------------------------

  function isImage(file) {
    return file.type.startsWith("image/") || /\.(heic|heif|avif|tiff?|bmp)$/i.test(file.name);
  }

  function addFiles(files) {
    const added = [];
    for (const file of files) {
      if (!isImage(file)) continue;
      const item = { id: nextId, file, name: file.name, url: URL.createObjectURL(file) };
      nextId += 1;
      item.results = {};
      item.mask = null;
      item.painted = false;
      state.items.push(item);
      added.push(item);
    }
    if (!added.length) return;
    select(added[0]);
    if (state.tool === "blur") {
      for (const item of added) resultOf(item, "blur").status = "queued";
      processQueue();
    }
    renderStrip();
  }

  function renderStrip() {
    const strip = $("strip");
    strip.replaceChildren();
    for (const item of state.items) {
      const status = resultOf(item).status;
      const thumb = el(
        "button",
        { type: "button", class: "thumb", title: item.name, "data-status": status },
        el("img", { src: item.url, alt: "" }),
        el("span", { class: "badge" }),
      );
      thumb.classList.toggle("on", item === state.current);
      thumb.addEventListener("click", () => select(item));
      strip.append(thumb);
    }
    show(strip, state.items.length > 0);
  }

  function select(item) {
    state.current = item;
    renderStrip();
    renderCurrent();
  }

  async function processQueue() {
    if (state.running) return;
    state.running = true;
    try {
      for (;;) {
        const item = state.items.find((it) => resultOf(it, "blur").status === "queued"
          || resultOf(it, "kaze").status === "queued");
        if (!item) break;
        const tool = resultOf(item, "blur").status === "queued" ? "blur" : "kaze";
        await runOne(item, tool);
      }
    } finally {
      state.running = false;
    }
  }

  async function runOne(item, tool) {
    const result = resultOf(item, tool);
    if (result.url) URL.revokeObjectURL(result.url);
    Object.assign(result, { status: "working", error: "", url: "", answer: null });
    refresh(item);
    const started = performance.now();
    try {
      if (tool === "blur") await runBlur(item, result);
      else await runKaze(item, result);
      result.status = "done";
    } catch (error) {
      result.status = "error";
      result.error = error.message || String(error);
    }
    result.ms = performance.now() - started;
    refresh(item);
  }

  function refresh(item) {
    renderStrip();
    if (item === state.current) renderCurrent();
  }

  // -- the APIs --------------------------------------------------------------------------------

  async function runBlur(item, result) {
    const form = new FormData();
    form.append("upload", item.file, item.name);
    form.append("faces", $("faces").value);
    form.append("plates", $("plates").value);
    const logo = $("logo-mode").value;
    const logoFile = $("logo-file").files[0];
    if (logo === "file" && logoFile) form.append("logo", logoFile, logoFile.name);
    else form.append("logo", logo === "file" ? "" : logo);
    for (const [name, value] of Object.entries(margins())) {
      if (value > 0) form.append(name, String(value));
    }
    const regions = $("regions").value.trim();
    if (regions) form.append("regions", regions);
    const headers = apiKey() ? { Authorization: `Token ${apiKey()}` } : {};
    const response = await fetch(config.base, { method: "POST", body: form, headers });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = (body && body.error) || `HTTP ${response.status}`;
      throw new Error(authMessage(response.status, message));
    }
    result.answer = body;
    if (body.blur) {
      result.url = URL.createObjectURL(base64ToBlob(body.blur.base64, body.blur.content_type));
      result.filename = body.blur.filename;
    }
  }

  async function kazeCall(name, body) {
    const headers = { "Content-Type": "application/json" };
    if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
    const response = await fetch(KAZE + name, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => null);
    if (!answer) throw new Error(`HTTP ${response.status}`);
    if (answer.code !== 0) {
      const status = answer.code === 1002 ? 401 : response.status;
      throw new Error(authMessage(status, answer.message || `code ${answer.code}`));
    }
    return answer.data;
  }

  async function runKaze(item, result) {
    const body = { image_base64: await fileToBase64(item.file) };
    if (item.painted && item.mask) {
      body.smear_base64 = item.mask.toDataURL("image/png").split(",", 2)[1];
    }
    result.smear = Boolean(body.smear_base64);
    const { task_id: taskId } = await kazeCall("submit_watermark_removal", body);
    const deadline = performance.now() + POLL_LIMIT_MS;
    for (;;) {
      const data = await kazeCall("get_task_result", { task_id: taskId });
      if (data.status === "success") {
        const url = data.images[0].url;
        const response = await fetch(url);
        if (!response.ok) throw new Error(`result: HTTP ${response.status}`);
        result.url = URL.createObjectURL(await response.blob());
        const stem = item.name.replace(/\.[^.]+$/, "");
        result.filename = `${stem}-clean.${url.split(".").pop() || "png"}`;
        return;
      }
      if (data.status !== "processing") throw new Error(data.err_msg || data.status);
      if (performance.now() > deadline) throw new Error("no result after 10 minutes");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  // -- the viewer ------------------------------------------------------------------------------

  function renderCurrent() {
    const item = state.current;
    show($("empty"), !item);
    show($("viewer"), Boolean(item));
    if (!item) return;
    const result = resultOf(item);
    const viewer = $("viewer");
    viewer.dataset.status = result.status;
    $("item-name").textContent = item.name;
    $("item-status").textContent = statusText(result);
    $("item-status").dataset.status = result.status;
    const before = $("before-image");
    if (before.dataset.item !== String(item.id)) {
      before.dataset.item = String(item.id);
      before.onload = () => {
        fitStages(before.naturalWidth, before.naturalHeight);
        prepareMask(item);
        drawOverlay();
      };
      before.src = item.url;
    } else {
      drawOverlay();
    }
    const after = $("result-image");
    if (result.url) {
      if (after.getAttribute("src") !== result.url) after.src = result.url;
    } else {
      after.removeAttribute("src");
    }
    show(after, Boolean(result.url));
    show($("spinner"), result.status === "working" || result.status === "queued");
    $("after-placeholder").textContent = placeholderText(result);
    show($("after-placeholder"), !result.url && result.status !== "working");
    const download = $("download");
    if (result.url) {
      download.href = result.url;
      download.download = result.filename || item.name;
      download.setAttribute("aria-disabled", "false");
    } else {
      download.removeAttribute("href");
      download.setAttribute("aria-disabled", "true");
    }
    $("error").textContent = result.error || "";
    show($("error"), Boolean(result.error));
    renderDetections(result);
  }

  function statusText(result) {
    const texts = { new: "Not processed", queued: "Waiting…", working: "Processing…",
      done: "Done", error: "Failed" };
    const text = texts[result.status] || "";
    return result.status === "done" && result.ms ? `${text} · ${seconds(result.ms)}` : text;
  }

  function placeholderText(result) {
    if (result.status === "error") return "No result";
    if (result.status === "done" && state.tool === "blur") {
      return "Find-only: no image returned. Set Faces or Plates above 0 to blur.";
    }
    if (state.tool === "kaze") return "Paint the watermark (optional), then Remove watermark.";
    return "Press Anonymize";
  }

  function fitStages(width, height) {
    const cap = `min(100%, ${((62 * width) / height).toFixed(2)}vh)`;
    for (const id of ["before-stage", "after-stage"]) {
      $(id).style.width = cap;
      $(id).style.aspectRatio = `${width} / ${height}`;
    }
  }

  function renderDetections(result) {
    const tbody = $("detections").tBodies[0];
    tbody.replaceChildren();
    const summary = $("summary");
    summary.replaceChildren();
    const answer = result.answer;
    const isBlur = state.tool === "blur";
    show($("detections"), isBlur && Boolean(answer));
    if (isBlur && answer) {
      const rows = detections(answer);
      const faces = rows.filter((r) => r.kind === "face").length;
      const plates = rows.length - faces;
      summary.append(chip(`${faces} face${faces === 1 ? "" : "s"}`, "face"));
      summary.append(chip(`${plates} plate${plates === 1 ? "" : "s"}`, "plate"));
      rows.forEach((row, index) => tbody.append(detectionRow(row, index + 1)));
      if (!rows.length) {
        tbody.append(el("tr", {}, el("td", { colspan: "5", class: "none", text: "Nothing found" })));
      }
    } else if (!isBlur && result.status === "done") {
      summary.append(chip(result.smear ? "Painted mask" : "Found automatically", "plate"));
    }
    if (result.status === "done" && result.ms) summary.append(chip(seconds(result.ms), "time"));
  }

  function chip(text, kind) {
    return el("span", { class: `chip chip-${kind}`, text });
  }

  function detections(answer) {
    const rows = answer.faces.map((face) => ({ kind: "face", score: face.score, box: face.box }));
    for (const plate of answer.plates) {
      const r = plate.result;
      rows.push({
        kind: "plate",
        score: r.score,
        dscore: r.dscore,
        reading: r.plate,
        region: r.region && r.region.code !== "unknown" ? r.region.code : "",
        box: r.box,
        polygon: plate.polygon,
        skipped: plate.skipped,
      });
    }
    return rows;
  }

  function detectionRow(row, index) {
    const box = row.box;
    const type = el("span", { class: `tag tag-${row.kind}`, text: row.kind === "face" ? "Face" : "Plate" });
    const reading = el("td", { class: "reading" });
    if (row.kind === "plate") {
      reading.append(el("span", { class: "plate-text", text: row.reading || "?" }));
      if (row.region) reading.append(el("span", { class: "muted", text: ` ${row.region}` }));
      if (row.skipped) reading.append(el("span", { class: "tag tag-skipped", text: "skipped" }));
    } else {
      reading.append(el("span", { class: "muted", text: "—" }));
    }
    const score = row.kind === "plate" && row.dscore !== undefined
      ? `${row.score.toFixed(2)} (box ${row.dscore.toFixed(2)})` : row.score.toFixed(2);
    return el(
      "tr",
      { class: row.skipped ? "skipped" : "" },
      el("td", { class: "muted", text: String(index) }),
      el("td", {}, type),
      el("td", { class: "num", text: score }),
      reading,
      el("td", { class: "num muted", text: `${box.xmin},${box.ymin} → ${box.xmax},${box.ymax}` }),
    );
  }

  // -- the overlay: found regions, exclusion margins -------------------------------------------

  function drawOverlay() {
    const before = $("before-image");
    const canvas = $("overlay");
    const width = before.naturalWidth;
    const height = before.naturalHeight;
    if (!width || !height) return;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    if (state.tool !== "blur" || !state.current) return;
    drawMargins(ctx, width, height);
    const answer = resultOf(state.current, "blur").answer;
    if (!answer) return;
    const line = Math.max(2, Math.round(width / 320));
    const font = Math.max(12, Math.round(width / 42));
    for (const row of detections(answer)) {
      const color = row.skipped ? COLORS.skipped : COLORS[row.kind];
      ctx.lineWidth = line;
      ctx.strokeStyle = color;
      ctx.beginPath();
      if (row.polygon) {
        row.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.closePath();
      } else {
        const b = row.box;
        ctx.rect(b.xmin, b.ymin, b.xmax - b.xmin, b.ymax - b.ymin);
      }
      ctx.stroke();
      const text = row.kind === "face"
        ? `Face ${row.score.toFixed(2)}`
        : `${(row.reading || "?").toUpperCase()} ${row.score.toFixed(2)}`;
      label(ctx, text, row.box.xmin, row.box.ymin, font, color);
    }
  }

  function label(ctx, text, x, y, font, color) {
    ctx.font = `600 ${font}px system-ui, sans-serif`;
    const pad = Math.round(font * 0.35);
    const w = ctx.measureText(text).width + pad * 2;
    const h = font + pad * 2;
    const top = y - h >= 0 ? y - h : y;
    const left = Math.min(Math.max(0, x), ctx.canvas.width - w);
    ctx.fillStyle = color;
    ctx.fillRect(left, top, w, h);
    ctx.fillStyle = "#0b1220";
    ctx.textBaseline = "top";
    ctx.fillText(text, left + pad, top + pad);
  }

  function drawMargins(ctx, width, height) {
    const m = margins();
    const zones = [
      [0, 0, width, (height * m.et) / 100],
      [0, height - (height * m.eb) / 100, width, (height * m.eb) / 100],
      [0, 0, (width * m.el) / 100, height],
      [width - (width * m.er) / 100, 0, (width * m.er) / 100, height],
    ];
    ctx.fillStyle = "rgba(15, 23, 42, 0.45)";
    for (const [x, y, w, h] of zones) if (w > 0 && h > 0) ctx.fillRect(x, y, w, h);
  }

  // -- the smear brush -------------------------------------------------------------------------

  function prepareMask(item) {
    const canvas = $("mask");
    const before = $("before-image");
    canvas.width = before.naturalWidth;
    canvas.height = before.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!item.mask) {
      item.mask = document.createElement("canvas");
      item.mask.width = canvas.width;
      item.mask.height = canvas.height;
    }
    ctx.drawImage(item.mask, 0, 0);
  }

  function setupBrush() {
    const canvas = $("mask");
    let last = null;
    const point = (event) => {
      const rect = canvas.getBoundingClientRect();
      const scale = canvas.width / rect.width;
      return [(event.clientX - rect.left) * scale, (event.clientY - rect.top) * scale, scale];
    };
    const stroke = (from, to) => {
      const item = state.current;
      if (!item || !item.mask) return;
      for (const ctx of [canvas.getContext("2d"), item.mask.getContext("2d")]) {
        ctx.globalCompositeOperation = state.erase ? "destination-out" : "source-over";
        ctx.strokeStyle = "#ff1f5a";
        ctx.lineCap = "round";
        ctx.lineJoin = "round";
        ctx.lineWidth = Number($("brush").value) * to[2];
        ctx.beginPath();
        ctx.moveTo(from[0], from[1]);
        ctx.lineTo(to[0] + 0.01, to[1]);
        ctx.stroke();
      }
      if (!state.erase) item.painted = true;
    };
    canvas.addEventListener("pointerdown", (event) => {
      if (state.tool !== "kaze") return;
      canvas.setPointerCapture(event.pointerId);
      last = point(event);
      stroke(last, last);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!last) return;
      const next = point(event);
      stroke(last, next);
      last = next;
    });
    const end = () => {
      last = null;
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  function clearMask() {
    const item = state.current;
    if (!item || !item.mask) return;
    item.mask.getContext("2d").clearRect(0, 0, item.mask.width, item.mask.height);
    item.painted = false;
    prepareMask(item);
  }

  function setBrushMode(erase) {
    state.erase = erase;
    $("paint").classList.toggle("on", !erase);
    $("erase").classList.toggle("on", erase);
  }

  // -- wiring ----------------------------------------------------------------------------------

  function setupDrop() {
    const input = $("file-input");
    input.addEventListener("change", () => {
      addFiles(Array.from(input.files));
      input.value = "";
    });
    let depth = 0;
    window.addEventListener("dragenter", (event) => {
      event.preventDefault();
      depth += 1;
      document.body.classList.add("dragging");
    });
    window.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) document.body.classList.remove("dragging");
    });
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => {
      event.preventDefault();
      depth = 0;
      document.body.classList.remove("dragging");
      addFiles(Array.from(event.dataTransfer.files));
    });
  }

  function setupOptions() {
    for (const id of ["faces", "plates", "brush", "logo-mode"]) {
      $(id).addEventListener("input", updateLabels);
    }
    for (const id of ["et", "eb", "el", "er"]) $(id).addEventListener("input", drawOverlay);
    $("run-blur").addEventListener("click", () => {
      for (const item of state.items) resultOf(item, "blur").status = "queued";
      renderStrip();
      renderCurrent();
      processQueue();
    });
    $("run-kaze").addEventListener("click", () => {
      if (!state.current) return;
      resultOf(state.current, "kaze").status = "queued";
      refresh(state.current);
      processQueue();
    });
    $("paint").addEventListener("click", () => setBrushMode(false));
    $("erase").addEventListener("click", () => setBrushMode(true));
    $("clear-mask").addEventListener("click", clearMask);
    const key = $("api-key");
    key.value = sessionStorage.getItem("blur-sdk-key") || "";
    key.addEventListener("input", () => {
      sessionStorage.setItem("blur-sdk-key", key.value);
      document.body.classList.remove("needs-key");
    });
    if (config.auth) {
      key.placeholder = "required";
      document.body.classList.add("auth");
    }
    $("shape-note").textContent = `Faces are blurred in a${
      /^[aeiou]/.test(config.shape) ? "n" : ""} ${config.shape} (server setting SHAPE).`;
  }

  function start() {
    renderTools();
    setupDrop();
    setupOptions();
    setupBrush();
    updateLabels();
    if (!config.tools.length) {
      $("empty").querySelector("p").textContent =
        "This server mounts neither the Blur API nor the watermark-removal API.";
    }
    setTool(state.tool);
    window.addEventListener("resize", drawOverlay);
  }

  start();
})();
