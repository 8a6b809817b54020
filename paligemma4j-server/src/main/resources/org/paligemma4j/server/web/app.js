// The page talks to the same API as every other client: the typed task endpoints with "stream": true for
// caption, question, OCR, detect and segment (text streams in, then the typed result), and the OpenAI chat
// completions stream for a raw prompt. Everything is drawn here; nothing is loaded from the internet.
'use strict';

/** Box colours, one per object in turn (the first is pure magenta: the browser test looks for it). */
const PALETTE = [[255, 0, 255], [0, 200, 255], [255, 160, 0], [0, 220, 90], [255, 60, 60], [140, 90, 255]];

const $ = (id) => document.getElementById(id);
let image = null;       // the decoded picture, drawn under the boxes
let imageDataUri = null;

function headers() {
  const h = {'Content-Type': 'application/json'};
  const key = $('key').value.trim();
  if (key) h['Authorization'] = 'Bearer ' + key;
  return h;
}

async function checkHealth() {
  try {
    const r = await fetch('/health');
    const body = await r.json();
    $('health').textContent = body.status;
    $('health').className = 'badge ' + (r.ok ? 'ready' : 'down');
    if (body.model) $('model').textContent = body.model;
  } catch (e) {
    $('health').textContent = 'unreachable';
    $('health').className = 'badge down';
  }
}

function updateInputs() {
  const task = $('task').value;
  const names = {answer: 'Question', detect: 'Labels', segment: 'Labels', raw: 'Prompt'};
  $('input-label').style.display = names[task] ? '' : 'none';
  $('input-name').textContent = names[task] || '';
  $('input').placeholder = {answer: 'what is in the image?', detect: 'cat ; dog', segment: 'cat', raw: 'caption en'}[task] || '';
  $('lang-label').style.display = task === 'caption' || task === 'answer' ? '' : 'none';
}

function loadFile(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    imageDataUri = reader.result;
    const img = new Image();
    img.onload = () => {
      image = img;
      drawImage();
      $('drop-hint').style.display = 'none';
      $('run').disabled = false;
    };
    img.onerror = () => showError('the browser cannot show this image (the server may still read it)');
    img.src = imageDataUri;
  };
  reader.readAsDataURL(file);
}

function drawImage() {
  const c = $('canvas');
  c.width = image.naturalWidth;
  c.height = image.naturalHeight;
  c.getContext('2d').drawImage(image, 0, 0);
}

function showError(message) {
  $('error').textContent = message;
}

/** Reads a server-sent event stream, calling onEvent with each parsed data object, until [DONE]. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return;
        onEvent(JSON.parse(data));
      }
    }
  }
}

async function run() {
  if (!imageDataUri) return;
  const task = $('task').value;
  const input = $('input').value.trim();
  const max = parseInt($('max').value, 10) || 64;
  showError('');
  $('output').textContent = '';
  $('output').dataset.state = 'running';
  $('objects').innerHTML = '';
  $('timings').textContent = '';
  drawImage();
  $('run').disabled = true;
  const started = performance.now();
  let firstToken = null;
  const append = (text) => {
    if (firstToken === null) firstToken = performance.now();
    $('output').textContent += text;
  };
  try {
    let response;
    if (task === 'raw') {
      response = await fetch('/v1/chat/completions', {method: 'POST', headers: headers(), body: JSON.stringify({
        model: $('model').textContent, stream: true, max_tokens: max,
        messages: [{role: 'user', content: [{type: 'text', text: input},
                                            {type: 'image_url', image_url: {url: imageDataUri}}]}]})});
    } else {
      const body = {image: imageDataUri, stream: true, max_new_tokens: max};
      if (task === 'caption' || task === 'answer') body.language = $('lang').value.trim() || 'en';
      if (task === 'answer') body.question = input;
      if (task === 'detect' || task === 'segment') body.labels = input;
      response = await fetch('/v1/' + task, {method: 'POST', headers: headers(), body: JSON.stringify(body)});
    }
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new Error((error.error && error.error.message) || ('HTTP ' + response.status));
    }
    let result = null, timings = null;
    await readEvents(response, (event) => {
      if (event.error) throw new Error(event.error.message);
      if (typeof event.text === 'string') append(event.text);
      if (event.choices) for (const c of event.choices) if (c.delta && c.delta.content) append(c.delta.content);
      if (event.result) { result = event.result; timings = event.timings; }
    });
    window.lastResult = result;
    if (result && result.objects) drawObjects(result.objects);
    showTimings(started, firstToken, timings);
  } catch (e) {
    showError(e.message);
  } finally {
    $('output').dataset.state = 'done';
    $('run').disabled = false;
  }
}

function drawObjects(objects) {
  const ctx = $('canvas').getContext('2d');
  const list = $('objects');
  let shown = 0;
  objects.forEach((o) => {
    const item = document.createElement('li');
    const b = o.box;
    item.textContent = (o.label || '(no label)') + '  x ' + b.x_min + '..' + b.x_max + '  y ' + b.y_min + '..' + b.y_max
        + (o.valid ? '' : '  (invalid)') + (o.mask ? '  mask ' + o.mask.pixels + ' px' : '');
    if (o.valid) {
      const [r, g, bl] = PALETTE[shown % PALETTE.length];
      shown++;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = `rgb(${r},${g},${bl})`;
      item.prepend(swatch);
      if (o.mask) drawMask(ctx, o.mask, r, g, bl);
      drawBox(ctx, b, o.label, r, g, bl);
    }
    list.appendChild(item);
  });
}

/** Box edges as filled rectangles on whole pixels (no anti-aliasing), the label above the top edge. */
function drawBox(ctx, b, label, r, g, bl) {
  const w = Math.max(1, b.x_max - b.x_min), h = Math.max(1, b.y_max - b.y_min), t = 2;
  ctx.fillStyle = `rgb(${r},${g},${bl})`;
  ctx.fillRect(b.x_min, b.y_min, w, t);
  ctx.fillRect(b.x_min, b.y_max - t, w, t);
  ctx.fillRect(b.x_min, b.y_min, t, h);
  ctx.fillRect(b.x_max - t, b.y_min, t, h);
  if (label) {
    ctx.font = '12px sans-serif';
    const y = Math.max(12, b.y_min - 3);
    ctx.fillText(label, b.x_min + 3, y);
  }
}

/** COCO's uncompressed run-length: column-major runs, starting with background. */
function drawMask(ctx, mask, r, g, bl) {
  const [height, width] = mask.rle.size;
  const overlay = ctx.getImageData(0, 0, width, height);
  let index = 0, on = false;
  for (const run of mask.rle.counts) {
    if (on) {
      for (let i = index; i < index + run; i++) {
        const x = Math.floor(i / height), y = i % height, p = (y * width + x) * 4;
        overlay.data[p] = (overlay.data[p] + r) >> 1;
        overlay.data[p + 1] = (overlay.data[p + 1] + g) >> 1;
        overlay.data[p + 2] = (overlay.data[p + 2] + bl) >> 1;
      }
    }
    index += run;
    on = !on;
  }
  ctx.putImageData(overlay, 0, 0);
}

function showTimings(started, firstToken, timings) {
  const total = (performance.now() - started) / 1000;
  let text = 'total ' + total.toFixed(2) + ' s';
  if (firstToken !== null) text += ' | first token after ' + ((firstToken - started) / 1000).toFixed(2) + ' s';
  if (timings) {
    text += ' | image ' + timings.image_s.toFixed(3) + ' s' + (timings.image_cached ? ' (cached)' : '')
        + ' | prefill ' + timings.prefill_s.toFixed(3) + ' s for ' + timings.prompt_tokens + ' tokens';
    if (timings.decoded_tokens > 0) {
      text += ' | ' + timings.decoded_tokens + ' tokens at ' + (timings.decoded_tokens / timings.decode_s).toFixed(1) + ' tok/s';
    }
  }
  $('timings').textContent = text;
}

$('file').addEventListener('change', (e) => loadFile(e.target.files[0]));
$('drop').addEventListener('dragover', (e) => { e.preventDefault(); $('drop').classList.add('over'); });
$('drop').addEventListener('dragleave', () => $('drop').classList.remove('over'));
$('drop').addEventListener('drop', (e) => {
  e.preventDefault();
  $('drop').classList.remove('over');
  loadFile(e.dataTransfer.files[0]);
});
$('task').addEventListener('change', updateInputs);
$('run').addEventListener('click', run);
$('key').value = localStorage.getItem('paligemma.key') || '';
$('key').addEventListener('change', () => localStorage.setItem('paligemma.key', $('key').value));
updateInputs();
checkHealth();
setInterval(checkHealth, 10000);
