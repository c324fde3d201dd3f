// The live page of a run (art.app.preview): reads the run's event stream and draws it.
'use strict';
const token = document.querySelector('meta[name="art-token"]').content;
const $ = (id) => document.getElementById(id);
const withToken = (path) => path + (path.includes('?') ? '&' : '?') + 'token=' + token;
let rows = [];
let columns = ['iteration', 'evaluations', 'seconds', 'content', 'style', 'total'];
let shownImage = 0;
let loadingImage = false;
let finished = false;
const thumbnails = {};

function text(id, value) { $(id).textContent = value; }

function duration(seconds) {
  if (!isFinite(seconds) || seconds < 0) return '-';
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60;
  const s = Math.round(seconds % 60);
  return (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + s + ' s';
}

// Seconds per evaluation and per iteration over the last ten rows.
function rates() {
  const recent = rows.slice(-11);
  if (recent.length < 2) return [NaN, NaN];
  const [a, b] = [recent[0], recent[recent.length - 1]];
  return [(b[2] - a[2]) / Math.max(1, b[1] - a[1]), (b[2] - a[2]) / Math.max(1, b[0] - a[0])];
}

function showImage(version) {
  if (version === shownImage || loadingImage || !version) return;
  loadingImage = true;
  const img = new Image();
  img.onload = () => {
    $('painting').src = img.src; $('painting').dataset.version = version;
    shownImage = version; loadingImage = false;
  };
  img.onerror = () => { loadingImage = false; };
  img.src = withToken('image?v=' + version);
}

// The loss curve: the total and each group's loss (the row's columns after seconds)
// against evaluations, on a log scale.
const COLOURS = {total: '#222', style: '#1f6feb', content: '#d4622a'};
const OTHER_COLOURS = ['#2da44e', '#8250df', '#bf8700', '#cf222e'];
function drawCurve() {
  const canvas = $('curve'), g = canvas.getContext('2d');
  const [w, h, left, bottom] = [canvas.width, canvas.height, 60, 24];
  g.clearRect(0, 0, w, h);
  canvas.dataset.points = rows.length;
  canvas.dataset.lines = columns.slice(3).join(' ');
  const lines = columns.slice(3).map((name, k) => [k + 3, name,
    COLOURS[name] || OTHER_COLOURS[k % OTHER_COLOURS.length]]);
  const values = rows.flatMap((r) => lines.map(([i]) => r[i])).filter((v) => v > 0);
  if (!values.length) return;
  let [lo, hi] = [Math.log10(Math.min(...values)), Math.log10(Math.max(...values))];
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const maxX = Math.max(1, rows[rows.length - 1][1]);
  const x = (e) => left + (w - left - 10) * e / maxX;
  const y = (v) => 8 + (h - bottom - 8) * (hi - Math.log10(v)) / (hi - lo);
  g.strokeStyle = '#ddd'; g.fillStyle = '#666'; g.font = '11px sans-serif';
  for (let p = Math.ceil(lo); p <= Math.floor(hi); p++) {
    g.beginPath(); g.moveTo(left, y(10 ** p)); g.lineTo(w - 10, y(10 ** p)); g.stroke();
    g.fillText('1e' + p, 4, y(10 ** p) + 4);
  }
  g.fillText('evaluations: ' + maxX, w - 120, h - 6);
  lines.forEach(([i, name, colour], k) => {
    g.strokeStyle = colour; g.lineWidth = 1.5; g.beginPath();
    rows.filter((r) => r[i] > 0).forEach((r, n) => (n ? g.lineTo : g.moveTo).call(g, x(r[1]), y(r[i])));
    g.stroke();
    g.fillStyle = colour; g.fillText(name, left + 10 + 70 * k, h - 6);
  });
}

function showJobs(jobs) {
  const box = $('jobs');
  box.hidden = !jobs.length;
  jobs.forEach((job) => {
    let card = document.querySelector('.job[data-name="' + CSS.escape(job.name) + '"]');
    if (!card) {
      card = document.createElement('div'); card.className = 'job'; card.dataset.name = job.name;
      card.append(document.createElement('img'), document.createElement('div'));
      box.append(card);
    }
    card.dataset.status = job.status;
    card.lastChild.textContent = job.name + ': ' + job.status + (job.reason ? ', ' + job.reason : '');
    if (job.thumbnail && thumbnails[job.name] !== job.thumbnail) {
      thumbnails[job.name] = job.thumbnail;
      card.firstChild.src = withToken('thumbnail?job=' + encodeURIComponent(job.name) + '&v=' + job.thumbnail);
    }
  });
}

function showPainting(p, run) {
  if (p.title) { text('title', p.title); document.title = 'art: ' + p.title; }
  text('iteration', p.total ? p.iteration + ' of ' + p.total : '-');
  text('evaluations', p.evaluations || 0);
  const [perEvaluation, perIteration] = rates();
  text('per-evaluation', isFinite(perEvaluation) ? perEvaluation.toFixed(3) + ' s' : '-');
  let left = perIteration * (p.total - p.iteration);
  if (run.frames && run.frames.done) {
    left += run.frames.seconds / run.frames.done * (run.frames.total - run.frames.done - 1);
  }
  text('eta', run.status === 'running' ? duration(left) : '-');
  const scales = p.scales || [];
  text('scale', scales.length > 1 ? p.scale + ' (' + (scales.indexOf(p.scale) + 1) + ' of ' +
       scales.length + ': ' + scales.join(', ') + ')' : (p.size || '-'));
  text('precision', p.precision || '-');
  text('tiles', p.tiles && p.tiles.length ? p.tiles.join('; ') : 'untiled');
  $('synthetic').hidden = !p.weights_note;
  text('synthetic', p.weights_note || '');
}

function offerDownloads(names) {
  const box = $('downloads');
  // Taken now, as blobs: the run's server stops soon after the run ends.
  return Promise.all(names.map((name) => fetch(withToken('download/' + name))
    .then((answer) => (answer.ok ? answer.blob() : null))
    .then((blob) => {
      if (!blob) return;
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob); link.download = name; link.textContent = 'download ' + name;
      box.append(link);
    }))).then(() => { box.hidden = !box.children.length; });
}

function show(message) {
  const run = message.run, p = message.painting;
  if (message.reset) rows = [];
  rows.push(...message.rows);
  if (p && p.columns) columns = p.columns;
  const status = run.status + (run.reason ? ': ' + run.reason : '');
  text('status', status); $('status').dataset.status = run.status;
  $('network').hidden = !run.network;
  text('network', run.network ? 'This page is reachable from the network at ' + run.network +
       ', by anyone who has its token.' : '');
  $('frames-row').hidden = !run.frames;
  if (run.frames) text('frames', run.frames.done + ' of ' + run.frames.total + ' done');
  showPainting(p, run);
  showImage(message.image);
  drawCurve();
  showJobs(run.jobs);
  const ended = ['done', 'interrupted', 'failed'].includes(run.status);
  $('stop').disabled = ended; $('save').disabled = ended || !run.can_save;
  if (ended && !finished) {
    finished = true;
    offerDownloads(run.downloads).then(() => events.close());
  }
}

function press(path, said) {
  fetch(path, {method: 'POST', headers: {'X-Art-Token': token}})
    .then((answer) => text('said', answer.ok ? said : 'refused: ' + answer.status));
}

$('stop').onclick = () => press('stop', 'stopping: the run saves what it painted');
$('save').onclick = () => press('save', 'a checkpoint is written at the next iteration');
const events = new EventSource(withToken('events'));
events.onmessage = (event) => show(JSON.parse(event.data));
events.onerror = () => { if (!finished) text('said', 'the run is not answering (it may have ended)'); };
