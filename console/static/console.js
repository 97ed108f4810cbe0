// The audiosearch console: every call goes to the console's HTTP/JSON mapping of the gateway's public API
// (docs/console.md). JSON uses proto field names; int64 values arrive as strings; default values are left out.

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// The bearer token lives in this tab only (sessionStorage); the console server never stores it.
const tokenInput = $("#token");
tokenInput.value = sessionStorage.getItem("audiosearch-token") || "";
tokenInput.addEventListener("change", () => {
  if (tokenInput.value.trim() === (sessionStorage.getItem("audiosearch-token") || "")) return;
  sessionStorage.setItem("audiosearch-token", tokenInput.value.trim());
  startConsole(); // what a missing token refused, again
});
const authHeaders = () => (tokenInput.value.trim() ? { Authorization: `Bearer ${tokenInput.value.trim()}` } : {});

class ApiError extends Error {
  constructor(body, httpStatus) {
    const error = body.error || {};
    const info = (error.details || [])[0] || {};
    super(`${error.status || httpStatus}${info.reason ? ` (${info.reason})` : ""}: ${error.message || "request failed"}`);
    this.status = error.status;
    this.reason = info.reason;
  }
}

async function answer(response) {
  const body = await response.json().catch(() => ({ error: { message: response.statusText } }));
  if (!response.ok) throw new ApiError(body, response.status);
  return body;
}

// A unary RPC with a JSON request.
async function rpc(service, method, request = {}) {
  const response = await fetch(`/v1/${service}/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify(request),
  });
  return answer(response);
}

// An RPC with audio: part `request` (JSON: the request, or a client stream's options), then part `audio`.
async function rpcWithAudio(service, method, request, blob, filename) {
  const form = new FormData();
  form.append("request", JSON.stringify(request));
  form.append("audio", blob, filename || "audio");
  return answer(await fetch(`/v1/${service}/${method}`, { method: "POST", headers: authHeaders(), body: form }));
}

// A server stream: NDJSON, one message per line; onMessage gets each; a last {"error"} line throws.
async function rpcStream(service, method, request, onMessage, signal) {
  const response = await fetch(`/v1/${service}/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify(request),
    signal,
  });
  if (!response.ok) await answer(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      const message = JSON.parse(line);
      if (message.error) throw new ApiError(message, 500);
      onMessage(message);
    }
  }
}

function show(text, ok = false) {
  const box = $("#message");
  box.textContent = text;
  box.className = ok ? "ok" : "";
  box.hidden = !text;
}

// Runs an action, showing its error (with the gateway's reason) instead of failing silently.
function guarded(action) {
  return async (event) => {
    event?.preventDefault?.();
    try {
      show("");
      await action(event);
    } catch (error) {
      show(error.message);
    }
  };
}

const el = (tag, { dataset = {}, ...props } = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  Object.assign(node.dataset, dataset);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
};
const enumName = (value, prefix) => (value || "").replace(prefix, "").toLowerCase().replaceAll("_", " ");
const seconds = (value) => `${Number(value || 0).toFixed(2)} s`;
const labelsOf = (labels = {}) =>
  [labels.sound_class, labels.speaker, ...(labels.tags || [])].filter(Boolean).map((text) => el("span", { className: "label" }, text));

// ---- audio players: a clip's kept audio from GetClipAudio, or a time range of it (a WAV of that range)
function audioUrl(collection, clipId, range) {
  const query = range ? `?start_seconds=${range[0]}&end_seconds=${range[1]}` : "";
  return `/v1/collections/${encodeURIComponent(collection)}/clips/${clipId}/audio${query}`;
}

// With a token, an <audio> element cannot send the header: the bytes are fetched and played from a blob.
async function loadPlayer(player, url) {
  if (!tokenInput.value.trim()) {
    player.src = url;
    return;
  }
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) await answer(response);
  player.src = URL.createObjectURL(await response.blob());
}

function clipPlayer(collection, clip, range) {
  const player = el("audio", { controls: true, preload: "metadata", className: "hit-player" });
  if (!clip.audio_kept) return el("span", { className: "muted" }, "audio not kept");
  loadPlayer(player, audioUrl(collection, clip.id, range)).catch((error) => show(error.message));
  return player;
}

// ---- collections
let collections = [];

async function refreshCollections() {
  collections = [];
  let page_token = "";
  do {
    const page = await rpc("GatewayService", "ListCollections", { page_size: 100, page_token });
    collections.push(...(page.collections || []));
    page_token = page.next_page_token || "";
  } while (page_token);
  const stats = Object.fromEntries(((await rpc("GatewayService", "GetStats")).collections || []).map((s) => [s.name, s]));
  const body = $("#collections tbody");
  body.replaceChildren(
    ...collections.map((collection) => {
      const s = stats[collection.name] || {};
      const drop = el("button", { className: "danger", textContent: "Drop" });
      drop.addEventListener(
        "click",
        guarded(async () => {
          if (!confirm(`Drop ${collection.name} and all its clips?`)) return;
          const result = await rpc("GatewayService", "DropCollection", { name: collection.name });
          show(`dropped ${collection.name} (${result.deleted_clips || 0} clips)`, true);
          await refreshCollections();
        }),
      );
      return el(
        "tr",
        { dataset: { name: collection.name } },
        el("td", {}, collection.name),
        el("td", {}, collection.model),
        el("td", {}, enumName(collection.purpose, "PURPOSE_")),
        el("td", {}, String(collection.dimension || "")),
        el("td", {}, s.ready_clips || "0"),
        el("td", {}, s.pending_clips || "0"),
        el("td", {}, s.failed_clips || "0"),
        el("td", {}, s.vectors || "0"),
        el("td", {}, collection.keep_audio ? "kept" : "not kept"),
        el("td", { className: "muted" }, s.problem || ""),
        el("td", {}, drop),
      );
    }),
  );
  for (const select of $$(".collection-choice")) {
    const chosen = select.value;
    const choices = collections.filter((c) => !select.classList.contains("speakers-only") || c.purpose === "PURPOSE_SPEAKERS");
    select.replaceChildren(...choices.map((c) => el("option", { value: c.name, textContent: `${c.name} (${c.model})` })));
    if (choices.some((c) => c.name === chosen)) select.value = chosen;
  }
}

async function loadModels() {
  const models = (await rpc("GatewayService", "ListModels")).models || [];
  for (const choice of $$(".model-choice")) {
    const chosen = choice.value;
    choice.replaceChildren(choice.options[0]);
    choice.append(
      ...models.map((m) => el("option", { value: m.name, disabled: !m.available, textContent: `${m.name} (${m.dimension || "?"}-d)${m.available ? "" : ": unavailable"}` })),
    );
    choice.value = chosen;
  }
}

$("#create-collection").addEventListener(
  "submit",
  guarded(async (event) => {
    const form = new FormData(event.target);
    const request = { name: form.get("name"), model: form.get("model"), purpose: form.get("purpose") };
    const window_seconds = Number(form.get("window_seconds") || 0);
    if (window_seconds) request.segments = { window_seconds, hop_seconds: Number(form.get("hop_seconds") || 0) };
    if (form.get("keep_audio")) request.keep_audio = form.get("keep_audio") === "true";
    const created = await rpc("GatewayService", "CreateCollection", request);
    show(`created ${created.name} (${created.model})`, true);
    event.target.reset();
    await refreshCollections();
  }),
);

// A rebuild is a job: started here, followed on the import jobs page.
$("#rebuild-form").addEventListener(
  "submit",
  guarded(async (event) => {
    const form = new FormData(event.target);
    const request = { collection: form.get("collection"), model: form.get("model"), request_id: crypto.randomUUID() };
    const job = await rpc("ImportJobService", "RebuildCollection", request);
    location.hash = "#jobs";
    await watchJob(job.id);
  }),
);

// ---- search: a chosen, dropped or recorded file
let queryAudio = null; // {blob, name}

function setQuery(blob, name) {
  queryAudio = { blob, name };
  $("#query").hidden = false;
  $("#query-name").textContent = name;
  $("#query-player").src = URL.createObjectURL(blob);
}

$("#search-form [name=file]").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) setQuery(file, file.name);
});
const drop = $("#drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) setQuery(file, file.name);
});

// The microphone: MediaRecorder's webm/ogg is decoded by the browser and sent as a 16-bit WAV, which every
// gateway decoder reads.
let recorder = null;
$("#record").addEventListener(
  "click",
  guarded(async () => {
    const button = $("#record");
    if (recorder) {
      recorder.stop();
      return;
    }
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const parts = [];
    recorder = new MediaRecorder(stream);
    recorder.addEventListener("dataavailable", (event) => parts.push(event.data));
    recorder.addEventListener("stop", async () => {
      stream.getTracks().forEach((track) => track.stop());
      recorder = null;
      button.textContent = "Record";
      button.classList.remove("recording");
      try {
        setQuery(await toWav(new Blob(parts)), "recording.wav");
      } catch (error) {
        show(`could not decode the recording: ${error.message}`);
      }
    });
    recorder.start();
    button.textContent = "Stop";
    button.classList.add("recording");
  }),
);

async function toWav(blob) {
  const context = new AudioContext();
  const decoded = await context.decodeAudioData(await blob.arrayBuffer());
  await context.close();
  const samples = new Float32Array(decoded.length);
  for (let channel = 0; channel < decoded.numberOfChannels; channel++) {
    const data = decoded.getChannelData(channel);
    for (let i = 0; i < data.length; i++) samples[i] += data[i] / decoded.numberOfChannels;
  }
  const buffer = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (offset, value) => [...value].forEach((c, i) => buffer.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  buffer.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVEfmt ");
  buffer.setUint32(16, 16, true);
  buffer.setUint16(20, 1, true); // PCM
  buffer.setUint16(22, 1, true); // mono
  buffer.setUint32(24, decoded.sampleRate, true);
  buffer.setUint32(28, decoded.sampleRate * 2, true);
  buffer.setUint16(32, 2, true);
  buffer.setUint16(34, 16, true);
  text(36, "data");
  buffer.setUint32(40, samples.length * 2, true);
  samples.forEach((sample, i) => buffer.setInt16(44 + i * 2, Math.max(-1, Math.min(1, sample)) * 0x7fff, true));
  return new Blob([buffer], { type: "audio/wav" });
}

$("#search-form").addEventListener(
  "submit",
  guarded(async (event) => {
    if (!queryAudio) throw new Error("choose, drop or record a query first");
    const form = new FormData(event.target);
    const collection = form.get("collection");
    const request = { collection, top_k: Number(form.get("top_k") || 10) };
    const started = performance.now();
    const result = await rpcWithAudio("GatewayService", "SearchAudio", request, queryAudio.blob, queryAudio.name);
    const hits = result.hits || [];
    $("#search-summary").textContent =
      `${hits.length} hits in ${collection} (${result.model}), ${Math.round(performance.now() - started)} ms` +
      (result.threshold ? `; MATCH at score ≥ ${result.threshold.score.toFixed(3)} (${enumName(result.threshold.source, "SOURCE_")})` : "");
    $("#hits").replaceChildren(...hits.map((hit) => hitItem(collection, hit)));
  }),
);

function hitItem(collection, hit) {
  const clip = hit.clip;
  const score = Number(hit.score || 0);
  const bar = el("span");
  bar.style.width = `${Math.max(0, Math.min(1, score)) * 100}%`;
  const start = Number(hit.start_seconds || 0);
  const end = Number(hit.end_seconds || clip.audio?.duration_seconds || 0);
  const whole = start === 0 && Math.abs(end - Number(clip.audio?.duration_seconds || 0)) < 1e-6;
  // The matched range: the clip's own bytes when the hit is the whole clip, else a WAV of the range.
  const player = clipPlayer(collection, clip, whole ? null : [start, end]);
  return el(
    "li",
    { className: "hit", dataset: { clipId: clip.id } },
    el(
      "div",
      { className: "hit-head" },
      el("span", { className: "score", title: `score ${score.toFixed(4)}` }, bar),
      el("strong", {}, score.toFixed(3)),
      el("span", {}, clip.source || `clip ${clip.id}`),
      ...labelsOf(clip.labels),
      hit.decision ? el("span", { className: hit.decision === "DECISION_MATCH" ? "match" : "muted" }, enumName(hit.decision, "DECISION_")) : null,
    ),
    el(
      "div",
      { className: "hit-head" },
      el("span", { className: "muted" }, `clip ${clip.id} · matched ${seconds(start)}–${seconds(end)} of ${seconds(clip.audio?.duration_seconds)}`),
      player,
    ),
  );
}

// ---- clips: list with filters (pages), upload, delete, play
let clipsQuery = null;

async function listClips(more = false) {
  const { collection, filter } = clipsQuery;
  const page = await rpc("GatewayService", "ListClips", { collection, filter, page_size: 50, page_token: more ? clipsQuery.next : "" });
  clipsQuery.next = page.next_page_token || "";
  const rows = (page.clips || []).map((clip) => {
    const remove = el("button", { className: "danger", textContent: "Delete" });
    remove.addEventListener(
      "click",
      guarded(async () => {
        await rpc("GatewayService", "DeleteClip", { id: clip.id });
        row.remove();
        show(`deleted clip ${clip.id}`, true);
      }),
    );
    const row = el(
      "tr",
      { dataset: { clipId: clip.id } },
      el("td", {}, clip.id),
      el("td", {}, clip.source || ""),
      el("td", {}, ...labelsOf(clip.labels)),
      el("td", {}, seconds(clip.audio?.duration_seconds)),
      el("td", {}, enumName(clip.state, "CLIP_STATE_")),
      el("td", {}, clipPlayer(collection, clip, null)),
      el("td", {}, remove),
    );
    return row;
  });
  if (more) $("#clips tbody").append(...rows);
  else $("#clips tbody").replaceChildren(...rows);
  $("#clips-more").hidden = !clipsQuery.next;
}

$("#clips-form").addEventListener(
  "submit",
  guarded(async (event) => {
    const form = new FormData(event.target);
    const filter = {};
    for (const name of ["speakers", "sound_classes", "tags_any"]) if (form.get(name)) filter[name] = [form.get(name)];
    for (const name of ["min_duration_seconds", "max_duration_seconds"]) if (form.get(name)) filter[name] = Number(form.get(name));
    clipsQuery = { collection: form.get("collection"), filter };
    await listClips();
  }),
);
$("#clips-more").addEventListener("click", guarded(() => listClips(true)));

$("#upload-form").addEventListener(
  "submit",
  guarded(async (event) => {
    const form = new FormData(event.target);
    const collection = $("#clips-form [name=collection]").value;
    const labels = { sound_class: form.get("sound_class"), speaker: form.get("speaker") };
    let added = 0;
    for (const file of form.getAll("file")) {
      const request = { collection, source: file.name, labels, request_id: crypto.randomUUID() };
      const result = await rpcWithAudio("GatewayService", "IngestAudio", request, file, file.name);
      added += result.duplicate ? 0 : 1;
    }
    show(`uploaded ${form.getAll("file").length} file(s) to ${collection}, ${added} new`, true);
    clipsQuery = { collection, filter: {} };
    await listClips();
  }),
);

// ---- import jobs: start, list, live progress (WatchImportJob), failures, cancel
let watching = null; // AbortController of the job being watched

async function refreshJobs() {
  const jobs = (await rpc("ImportJobService", "ListImportJobs", { page_size: 50 })).import_jobs || [];
  $("#jobs tbody").replaceChildren(
    ...jobs.map((job) => {
      const open = el("button", { className: "quiet", textContent: "Watch" });
      open.addEventListener("click", guarded(() => watchJob(job.id)));
      const running = ["IMPORT_JOB_STATE_QUEUED", "IMPORT_JOB_STATE_RUNNING"].includes(job.state);
      const cancel = running ? el("button", { className: "danger", textContent: "Cancel" }) : null;
      cancel?.addEventListener(
        "click",
        guarded(async () => {
          await rpc("ImportJobService", "CancelImportJob", { id: job.id });
          await refreshJobs();
        }),
      );
      const progress = el("progress", { max: Number(job.files_found || 0) || 1, value: Number(job.files_done || 0) });
      return el(
        "tr",
        { dataset: { jobId: job.id } },
        el("td", {}, job.id),
        el("td", {}, job.collection),
        el("td", {}, job.path || (job.rebuild ? `rebuild with ${job.rebuild.model}` : "")),
        el("td", { className: "state" }, enumName(job.state, "IMPORT_JOB_STATE_")),
        el("td", {}, progress, ` ${job.files_done || 0}/${job.files_found || 0}${job.listing_done ? "" : "+"}`),
        el("td", {}, job.files_added || "0"),
        el("td", {}, job.files_duplicate || "0"),
        el("td", {}, job.files_failed || "0"),
        el("td", {}, open, cancel),
      );
    }),
  );
}

function showJob(job) {
  $("#job-detail").hidden = false;
  $("#job-id").textContent = job.id;
  $("#job-state").textContent = enumName(job.state, "IMPORT_JOB_STATE_");
  const progress = $("#job-progress");
  progress.max = Number(job.files_found || 0) || 1;
  progress.value = Number(job.files_done || 0);
  const rate = job.files_per_second ? `, ${Number(job.files_per_second).toFixed(1)} files/s` : "";
  const eta = job.eta_seconds ? `, ${Math.round(job.eta_seconds)} s left` : "";
  $("#job-counts").textContent =
    `${job.files_done || 0} of ${job.files_found || 0}${job.listing_done ? "" : "+"} files: ${job.files_added || 0} added, ` +
    `${job.files_duplicate || 0} duplicates, ${job.files_failed || 0} failed${rate}${eta}`;
  $("#job-error").textContent = job.error || "";
}

async function showFailures(id) {
  const failures = (await rpc("ImportJobService", "ListImportJobFailures", { id, page_size: 100 })).failures || [];
  const rows = failures.map((f) => el("tr", {}, el("td", {}, f.ordinal || "0"), el("td", {}, f.path), el("td", {}, f.error || "")));
  $("#job-failures tbody").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 3, className: "muted" }, "none"))]));
}

// Live progress: the job's stream until it ends (or another job is watched).
async function watchJob(id) {
  watching?.abort();
  const controller = (watching = new AbortController());
  try {
    await rpcStream("ImportJobService", "WatchImportJob", { id }, showJob, controller.signal);
  } catch (error) {
    if (error.name !== "AbortError") throw error;
  }
  if (watching === controller) {
    await showFailures(id);
    await refreshJobs();
  }
}

$("#job-form").addEventListener(
  "submit",
  guarded(async (event) => {
    const form = new FormData(event.target);
    const job = await rpc("ImportJobService", "CreateImportJob", {
      collection: form.get("collection"),
      path: form.get("path"),
      recursive: form.get("recursive") === "on",
      label_from_parent: form.get("label_from_parent") === "on",
      request_id: crypto.randomUUID(),
    });
    await refreshJobs();
    await watchJob(job.id);
  }),
);

// ---- speakers: list, enroll, identify, verify, delete
const speakerCollection = () => $("#speakers-form [name=collection]").value;

async function listSpeakers() {
  const collection = speakerCollection();
  const speakers = (await rpc("SpeakerService", "ListSpeakers", { collection, page_size: 100 })).speakers || [];
  $("#speakers tbody").replaceChildren(
    ...speakers.map((speaker) => {
      const remove = el("button", { className: "danger", textContent: "Delete" });
      remove.addEventListener(
        "click",
        guarded(async () => {
          await rpc("SpeakerService", "DeleteSpeaker", { collection, speaker_id: speaker.speaker_id });
          await listSpeakers();
        }),
      );
      return el(
        "tr",
        {},
        el("td", {}, speaker.speaker_id),
        el("td", {}, String((speaker.utterances || []).length)),
        el("td", {}, seconds(speaker.speech_seconds)),
        el("td", {}, remove),
      );
    }),
  );
}

function describeDecision(result) {
  const threshold = result.threshold
    ? `threshold ${Number(result.threshold.value || 0).toFixed(3)} (${enumName(result.threshold.source, "SOURCE_")})`
    : "";
  const lines = [`decision: ${enumName(result.decision, "DECISION_")}${result.speaker_id ? ` ${result.speaker_id}` : ""}`];
  if (result.unknown_reason) lines.push(`why: ${enumName(result.unknown_reason, "UNKNOWN_REASON_")}`);
  if (result.score !== undefined) lines.push(`score: ${Number(result.score).toFixed(3)}`);
  if (threshold) lines.push(threshold);
  if (result.low_confidence) lines.push(`low confidence: ${seconds(result.speech_seconds)} of speech`);
  for (const candidate of result.candidates || []) lines.push(`  ${candidate.speaker_id}  ${Number(candidate.score || 0).toFixed(3)}`);
  $("#speaker-decision").textContent = lines.join("\n");
}

$("#speakers-form").addEventListener("submit", guarded(listSpeakers));
$("#enroll-form").addEventListener(
  "submit",
  guarded(async (event) => {
    const form = new FormData(event.target);
    const file = form.get("file");
    const options = { collection: speakerCollection(), speaker_id: form.get("speaker_id"), source: file.name, request_id: crypto.randomUUID() };
    const result = await rpcWithAudio("SpeakerService", "EnrollSpeaker", options, file, file.name);
    show(`enrolled ${result.speaker.speaker_id}: ${(result.speaker.utterances || []).length} utterance(s)`, true);
    await listSpeakers();
  }),
);
$("#identify-form").addEventListener(
  "submit",
  guarded(async (event) => {
    const file = new FormData(event.target).get("file");
    describeDecision(await rpcWithAudio("SpeakerService", "IdentifySpeaker", { collection: speakerCollection(), top_k: 5 }, file, file.name));
  }),
);
$("#verify-form").addEventListener(
  "submit",
  guarded(async (event) => {
    const form = new FormData(event.target);
    const request = { collection: speakerCollection(), speaker_id: form.get("speaker_id") };
    describeDecision(await rpcWithAudio("SpeakerService", "VerifySpeaker", request, form.get("file"), form.get("file").name));
  }),
);

// ---- pages (the URL's hash), each refreshed when shown
async function route() {
  const name = (location.hash || "#collections").slice(1);
  for (const page of $$(".page")) page.classList.toggle("active", page.id === `page-${name}`);
  for (const link of $$("header nav a")) link.classList.toggle("active", link.hash === `#${name}`);
  await refreshCollections(); // the table, and every page's collection choice
  if (name === "jobs") await refreshJobs();
}

const startConsole = guarded(async () => {
  await loadModels();
  await route();
  document.body.dataset.ready = "true"; // the browser tests wait for this
});
window.addEventListener("hashchange", guarded(route));
startConsole();
