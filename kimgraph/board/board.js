// KIMgraph notice board: loads the desa's announcements, follows them live over
// graphql-transport-ws (or, where a proxy breaks WebSockets, server-sent events),
// and keeps showing its last content through outages.
'use strict';

(() => {
  const REGION = document.body.dataset.region;
  const STORE_KEY = `kimgraph-board:${REGION}`;
  const OFFLINE_CACHE = 'kimgraph-board'; // the service worker (sw.js) reads it
  const BACKOFF_BASE_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const STABLE_AFTER_MS = 10000; // a connection up this long resets the backoff
  const PING_AFTER_MS = 20000; // the server pings every 15 s; silence this long is odd
  const DEAD_AFTER_MS = 45000; // and this long means the path is gone
  const FETCH_TIMEOUT_MS = 10000;
  // Three WebSocket handshakes in a row that fail while the server answers HTTP:
  // something on the way (a proxy) breaks WebSockets, so follow over SSE
  // (graphql-sse, docs/live-delivery.md) and try a WebSocket again every few
  // minutes. A test may shorten the wait (window.KIMGRAPH_BOARD_WS_RETRY_MS).
  const WS_FAILURES_BEFORE_SSE = 3;
  const WS_RETRY_MS = window.KIMGRAPH_BOARD_WS_RETRY_MS || 180000;
  const FIELDS = 'id title body category priority status publishedBy validFrom validUntil';
  const QUERY = `query Board($region: String!) {
    announcements(region: $region, first: 100) {
      eventCursor edges { node { ${FIELDS} } }
    }
  }`;
  const SUBSCRIPTION = `subscription BoardEvents($region: String!, $after: String) {
    announcementEvents(region: $region, after: $after) {
      cursor kind announcement { ${FIELDS} }
    }
  }`;
  // How fast a body taller than its window is read out (docs/board.md): one
  // line per lineMs, then dwellMs at its end. The page's address may set them
  // (`?line-ms=4000&dwell-ms=8000`): the browser tests run them fast.
  const PACE = pace(new URLSearchParams(location.search));
  // Automatic BMKG warnings end with this credit (docs/board.md).
  const BMKG_CREDIT = /(^|\s)Sumber:\s*BMKG\.?$/;
  const RANK = { EMERGENCY: 2, IMPORTANT: 1, NORMAL: 0 };
  const CATEGORIES = {
    GENERAL: 'Umum',
    GOVERNMENT: 'Pemerintahan',
    HEALTH: 'Kesehatan',
    EDUCATION: 'Pendidikan',
    ECONOMY: 'Ekonomi',
    AGRICULTURE: 'Pertanian',
    INFRASTRUCTURE: 'Infrastruktur',
    SOCIAL: 'Sosial',
    SECURITY: 'Keamanan',
    DISASTER: 'Bencana',
    EVENT: 'Kegiatan',
  };
  const WIB = { timeZone: 'Asia/Pontianak' };
  const timeFormat = new Intl.DateTimeFormat('id-ID', { ...WIB, hour: '2-digit', minute: '2-digit' });
  const dateFormat = new Intl.DateTimeFormat('id-ID', {
    ...WIB, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
  });
  const untilFormat = new Intl.DateTimeFormat('id-ID', {
    ...WIB, day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit',
  });
  const $ = (id) => document.getElementById(id);

  // What the board shows and where in the event stream it stands; saved on change.
  const board = { items: new Map(), cursor: null, syncedAt: null, skewMs: 0 };
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let stableTimer = null;
  let lastHeard = 0;
  let wsFailures = 0; // failed handshakes in a row, the server being up
  let probeTimer = null;
  let showing = null; // what is on screen: { id, key, timers, motion }
  let interacted = false; // for browsers without navigator.userActivation
  const chimed = new Set(); // EMERGENCY ids that had their sound

  // What the browser tests read (docs/board.md): the pace in force, the last
  // announcements shown and how, and how often the attention sound played.
  const observed = { pace: PACE, shown: [], sound: { played: 0, refused: 0, context: null } };
  window.kimgraphBoard = observed;

  function pace(params) {
    const setting = (name, fallback) => {
      const value = Number(params.get(name));
      return Number.isInteger(value) && value >= 10 && value <= 600000 ? value : fallback;
    };
    return { lineMs: setting('line-ms', 4000), dwellMs: setting('dwell-ms', 8000) };
  }

  // The server's clock: a screen in a kantor desa is often minutes off.
  const now = () => Date.now() + board.skewMs;

  function save() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({
        cursor: board.cursor,
        syncedAt: board.syncedAt,
        skewMs: board.skewMs,
        items: [...board.items.values()],
      }));
    } catch (err) {
      // Storage full or disabled: the board still works, it just forgets on reload.
    }
  }

  function restore() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY));
      if (!saved) return;
      board.cursor = saved.cursor;
      board.syncedAt = saved.syncedAt;
      board.skewMs = saved.skewMs || 0;
      board.items = new Map(saved.items.map((item) => [item.id, item]));
    } catch (err) {
      localStorage.removeItem(STORE_KEY);
    }
  }

  function synced() {
    board.syncedAt = now();
    save();
  }

  // Exponential backoff with jitter, so that thousands of boards do not all come
  // back in the same second after a server restart.
  function retry(step) {
    clearTimeout(retryTimer);
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    attempt = Math.min(attempt + 1, 16);
    retryTimer = setTimeout(step, ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  // Automatic persisted queries (docs/http.md): the page's first read sends the
  // document with its SHA-256, which the server stores; later reads send the hash
  // alone, and the document again only on PERSISTED_QUERY_NOT_FOUND (a restarted
  // server). Without crypto.subtle (plain HTTP off localhost) the document goes.
  let queryHash;
  let hashRegistered = false;

  async function boardQueryHash() {
    if (queryHash === undefined) {
      queryHash = null;
      try {
        const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(QUERY));
        queryHash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
      } catch (err) {
        // no Web Crypto here: send the document every time
      }
    }
    return queryHash;
  }

  async function postBoardQuery(hash, withDocument, signal) {
    const request = { variables: { region: REGION } };
    if (withDocument) request.query = QUERY;
    if (hash) request.extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      cache: 'no-store',
      signal,
    });
    return { response, body: await response.json() };
  }

  const notPersisted = (body) =>
    (body.errors || []).some((e) => e.extensions && e.extensions.code === 'PERSISTED_QUERY_NOT_FOUND');

  async function fetchBoard() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
    try {
      const hash = await boardQueryHash();
      let { response, body } = await postBoardQuery(hash, !(hash && hashRegistered), abort.signal);
      if (notPersisted(body)) ({ response, body } = await postBoardQuery(hash, true, abort.signal));
      const skew = Date.parse(response.headers.get('date')) - Date.now();
      if (!Number.isNaN(skew)) board.skewMs = Math.abs(skew) > 2000 ? skew : 0;
      if (!response.ok || body.errors) throw new Error(JSON.stringify(body.errors));
      hashRegistered = true;
      return body.data.announcements;
    } finally {
      clearTimeout(timer);
    }
  }

  async function load() {
    clearTimeout(retryTimer);
    let result;
    try {
      result = await fetchBoard();
    } catch (err) {
      setLink('offline');
      retry(load);
      return;
    }
    board.items = new Map(result.edges.map((edge) => [edge.node.id, edge.node]));
    board.cursor = result.eventCursor;
    synced();
    render();
    connect();
  }

  function connect() {
    if (wsFailures >= WS_FAILURES_BEFORE_SSE) connectSse();
    else connectSocket(false);
  }

  // A probe (on SSE) becomes the board's connection only once acknowledged.
  function connectSocket(probe) {
    if (!probe) clearTimeout(retryTimer);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/graphql`, 'graphql-transport-ws');
    let acknowledged = false;
    if (!probe) {
      socket = ws;
      lastHeard = Date.now();
    }
    // Says which desa this screen shows: boards(region) lists it (docs/presence.md).
    ws.onopen = () => send(ws, { type: 'connection_init', payload: { board: REGION } });
    ws.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === 'connection_ack' && !acknowledged) {
        acknowledged = true;
        wsFailures = 0;
        if (probe) switchTo(ws);
      }
      if (socket !== ws) return;
      lastHeard = Date.now();
      receive(ws, data);
    };
    // Whatever the close code (1012 restart, 1013 slow consumer, a dropped
    // network), resume from the last cursor: the server replays what we missed.
    ws.onclose = () => {
      if (probe && socket !== ws) {
        scheduleProbe();
        return;
      }
      if (!acknowledged) handshakeFailed();
      lost(ws, connect);
    };
  }

  // Counted only while the server answers HTTP: a server that is down is not a
  // proxy that breaks WebSockets.
  function handshakeFailed() {
    fetch('/healthz', { cache: 'no-store' }).then((response) => {
      wsFailures = response.ok ? wsFailures + 1 : 0;
    }, () => {
      wsFailures = 0;
    });
  }

  function switchTo(ws) {
    const old = socket;
    socket = ws;
    clearTimeout(stableTimer);
    clearTimeout(retryTimer);
    if (old) old.close();
  }

  function scheduleProbe() {
    clearTimeout(probeTimer);
    probeTimer = setTimeout(() => {
      if (socket && socket.sse) connectSocket(true);
    }, WS_RETRY_MS);
  }

  // graphql-sse's distinct connections mode: one POST per subscription, its
  // answer a stream of `next` and `complete` events and `:` heartbeats.
  function connectSse() {
    clearTimeout(retryTimer);
    const abort = new AbortController();
    const stream = { sse: true, close: () => abort.abort() };
    socket = stream;
    lastHeard = Date.now();
    scheduleProbe();
    followSse(stream, abort.signal).then(() => lost(stream, connect), () => lost(stream, connect));
  }

  async function followSse(stream, signal) {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: SUBSCRIPTION, variables: { region: REGION, after: board.cursor } }),
      cache: 'no-store',
      signal,
    });
    if (!response.ok || !response.body || socket !== stream) return;
    document.body.dataset.transport = 'sse';
    setLink('live');
    stableTimer = setTimeout(() => { attempt = 0; }, STABLE_AFTER_MS);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done || socket !== stream) return;
      lastHeard = Date.now();
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        if (!sseEvent(stream, block)) return;
      }
    }
  }

  // One event's block; false once the stream is done with (complete, an error).
  function sseEvent(stream, block) {
    let type = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue; // a heartbeat
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'event') type = value;
      else if (name === 'data') data.push(value);
    }
    if (type === 'complete') return false;
    if (type !== 'next') return true;
    const result = JSON.parse(data.join('\n'));
    if (result.errors) {
      failed(stream, result.errors);
      return false;
    }
    apply(result.data.announcementEvents);
    return true;
  }

  function lost(ws, next) {
    if (socket !== ws) return;
    socket = null;
    clearTimeout(stableTimer);
    ws.close();
    setLink('reconnecting');
    retry(next);
  }

  function send(ws, message) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function receive(ws, message) {
    switch (message.type) {
      case 'connection_ack':
        document.body.dataset.transport = 'websocket';
        send(ws, {
          id: 'board',
          type: 'subscribe',
          payload: { query: SUBSCRIPTION, variables: { region: REGION, after: board.cursor } },
        });
        setLink('live');
        stableTimer = setTimeout(() => { attempt = 0; }, STABLE_AFTER_MS);
        break;
      case 'ping':
        send(ws, { type: 'pong' });
        break;
      case 'next':
        if (message.payload.errors) failed(ws, message.payload.errors);
        else apply(message.payload.data.announcementEvents);
        break;
      case 'error':
        failed(ws, message.payload);
        break;
      case 'complete':
        lost(ws, connect);
        break;
      default:
        break;
    }
  }

  function failed(ws, errors) {
    const expired = errors.some((e) => e.extensions && e.extensions.code === 'CURSOR_EXPIRED');
    // An expired cursor cannot be resumed: read the board afresh, follow from there.
    lost(ws, expired ? load : connect);
  }

  function apply(event) {
    const item = event.announcement;
    const fresh = item.status === 'ACTIVE' && !board.items.has(item.id);
    if (item.status === 'ACTIVE') board.items.set(item.id, item);
    else board.items.delete(item.id);
    board.cursor = event.cursor;
    attempt = 0;
    synced();
    render(fresh ? item.id : null);
  }

  // Checked locally too, so that an expired notice goes even while offline.
  function showable(item, at) {
    return item.status === 'ACTIVE' && !(item.validUntil && Date.parse(item.validUntil) <= at);
  }

  function boardOrder(a, b) {
    return RANK[b.priority] - RANK[a.priority]
      || Date.parse(b.validFrom) - Date.parse(a.validFrom)
      || (a.id < b.id ? -1 : 1);
  }

  // EMERGENCY ones take the screen while there are any; otherwise all rotate.
  function playlist() {
    const at = now();
    const active = [...board.items.values()].filter((item) => showable(item, at)).sort(boardOrder);
    const emergencies = active.filter((item) => item.priority === 'EMERGENCY');
    return emergencies.length ? emergencies : active;
  }

  function render(spotlightId) {
    const list = playlist();
    const current = showing && showing.id;
    const item = list.find((a) => a.id === spotlightId)
      || list.find((a) => a.id === current)
      || list[0];
    if (!item) {
      stopShowing();
      drawEmpty();
      return;
    }
    // Redrawn (and read from the top again) only when it is another
    // announcement, it changed, or the screen did: the 30-second refresh and
    // events about other announcements leave a long one where it is.
    const key = JSON.stringify([
      item.title, item.body, item.category, item.priority, item.publishedBy, item.validUntil,
      innerWidth, innerHeight,
    ]);
    if (!showing || showing.id !== item.id || showing.key !== key) show(item, key);
    const index = list.indexOf(item);
    $('position').textContent = list.length > 1 ? `${index + 1} / ${list.length}` : '';
  }

  function advance() {
    const list = playlist();
    const at = showing ? list.findIndex((a) => a.id === showing.id) : -1;
    const next = list[(at + 1) % list.length];
    stopShowing();
    render(next && next.id);
  }

  // How long a body that fits stays before the next one.
  function dwell(item) {
    return Math.min(30000, 8000 + 40 * (item.title.length + item.body.length));
  }

  function show(item, key) {
    stopShowing();
    const { box, text } = draw(item);
    const shown = { id: item.id, key, timers: [], motion: null };
    showing = shown;
    const plan = fit(box, text) ? { mode: 'fits', totalMs: dwell(item) } : read(shown, box, text);
    if (plan.mode === 'fits') shown.timers.push(setTimeout(advance, plan.totalMs));
    observed.shown.push({ id: item.id, title: item.title, at: performance.now(), ...plan });
    if (observed.shown.length > 50) observed.shown.shift();
    if (item.priority === 'EMERGENCY' && !chimed.has(item.id)) {
      chimed.add(item.id);
      chime();
    }
  }

  function stopShowing() {
    if (!showing) return;
    showing.timers.forEach(clearTimeout);
    if (showing.motion) showing.motion.cancel();
    showing = null;
    $('pages').textContent = '';
  }

  // A body taller than its window is read out at PACE: one line per lineMs,
  // then dwellMs, so it stays (lines × lineMs + dwellMs) in all. With reduced
  // motion it pages, each page a line short of the window so that the line at
  // the bottom of one is the top of the next; otherwise it holds at the top
  // for dwellMs, scrolls a line per lineMs, and holds its last window for that
  // window's lines × lineMs. Then the rotation moves on (docs/board.md).
  function read(shown, box, text) {
    const line = parseFloat(getComputedStyle(text).lineHeight);
    const height = text.getBoundingClientRect().height;
    const rows = Math.max(1, Math.floor(box.clientHeight / line + 0.01));
    const lines = Math.round(height / line);
    const totalMs = lines * PACE.lineMs + PACE.dwellMs;
    const later = (ms, step) => shown.timers.push(setTimeout(() => {
      if (showing === shown) step();
    }, ms));
    if (matchMedia('(prefers-reduced-motion: reduce)').matches || !text.animate) {
      // Whole lines only: the window ends at the last row that fits.
      box.style.flex = 'none';
      box.style.height = `${rows * line}px`;
      const step = Math.max(1, rows - 1) * line;
      const pages = [];
      for (let top = 0, seen = 0; seen < height - 1; top += step) {
        const bottom = Math.min(height, top + rows * line);
        pages.push({ top, ms: Math.max(1, Math.round((bottom - seen) / line)) * PACE.lineMs });
        seen = bottom;
      }
      const turn = (index) => {
        text.style.transform = `translateY(${-pages[index].top}px)`;
        $('pages').textContent = `Halaman ${index + 1} / ${pages.length}`;
        const last = index === pages.length - 1;
        later(pages[index].ms + (last ? PACE.dwellMs : 0), last ? advance : () => turn(index + 1));
      };
      turn(0);
      return { mode: 'pages', totalMs, lines, rows, lineHeight: line, pages };
    }
    const distance = height - box.clientHeight;
    const scrollMs = (distance / line) * PACE.lineMs;
    const endMs = rows * PACE.lineMs;
    shown.motion = text.animate(
      [{ transform: 'translateY(0px)' }, { transform: `translateY(${-distance}px)` }],
      { delay: PACE.dwellMs, duration: scrollMs, easing: 'linear', fill: 'forwards' },
    );
    // Cancelled (another announcement came first): nothing left to do.
    shown.motion.finished.then(() => later(endMs, advance), () => {});
    return {
      mode: 'scroll', totalMs, lines, rows, lineHeight: line, holdMs: PACE.dwellMs, scrollMs, endMs,
    };
  }

  function draw(item) {
    const emergency = item.priority === 'EMERGENCY';
    const part = emergency ? 'emergency' : 'notice';
    document.body.classList.toggle('is-emergency', emergency);
    $('empty').hidden = true;
    $('notice').hidden = emergency;
    $('emergency').hidden = !emergency;
    $(`${part}-title`).textContent = item.title;
    const text = $(`${part}-body`);
    text.textContent = item.body;
    const until = item.validUntil
      ? ` · berlaku sampai ${untilFormat.format(new Date(item.validUntil))} WIB`
      : '';
    $(`${part}-source`).textContent = `Dari ${item.publishedBy}${until}`;
    $('notice-category').textContent = CATEGORIES[item.category] || item.category;
    $('notice-important').hidden = item.priority !== 'IMPORTANT';
    const bmkg = BMKG_CREDIT.test(item.body);
    $('notice-badge').hidden = !bmkg;
    $('emergency-badge').hidden = !bmkg;
    const box = text.parentElement;
    box.style.flex = '';
    box.style.height = '';
    text.style.transform = '';
    return { box, text };
  }

  function drawEmpty() {
    document.body.classList.remove('is-emergency');
    $('notice').hidden = true;
    $('emergency').hidden = true;
    $('empty').hidden = false;
    $('empty').textContent = board.syncedAt
      ? 'Belum ada pengumuman saat ini.'
      : 'Menunggu sambungan ke server…';
    $('position').textContent = '';
  }

  // Shrinks a long text to fit its box, but not below what reads from across a
  // room; true if it then fits, false if it has to be read out.
  function fit(box, text) {
    box.style.fontSize = '';
    let size = parseFloat(getComputedStyle(box).fontSize);
    const floor = size * 0.7;
    const overflows = () => text.offsetHeight > box.clientHeight;
    while (overflows() && size > floor) {
      size *= 0.92;
      box.style.fontSize = `${size}px`;
    }
    return !overflows();
  }

  // A short attention sound, made here (nothing to fetch), when an EMERGENCY
  // first takes the screen. Browsers allow sound only once someone interacted
  // with the page (a kiosk's board is opened with a click); before that it is
  // skipped without a word, since even trying makes Chromium log a warning.
  function chime() {
    const sound = observed.sound;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || !soundAllowed()) {
      sound.refused += 1;
      return;
    }
    try {
      sound.context = sound.context || new Context();
    } catch (err) {
      sound.refused += 1;
      return;
    }
    const context = sound.context;
    const started = context.state === 'running' ? Promise.resolve() : context.resume();
    const tooLate = new Promise((resolve) => { setTimeout(resolve, 1000, 'late'); });
    Promise.race([started, tooLate]).then((outcome) => {
      if (outcome === 'late' || context.state !== 'running') {
        sound.refused += 1;
        return;
      }
      sound.endsAt = tones(context);
      sound.played += 1;
      // An idle running context keeps the audio device busy on a small PC.
      const chimeId = sound.played;
      setTimeout(() => {
        if (sound.played === chimeId) context.suspend().catch(() => {});
      }, (sound.endsAt - context.currentTime) * 1000 + 500);
    }, () => {
      sound.refused += 1;
    });
  }

  function soundAllowed() {
    if (navigator.getAutoplayPolicy) {
      try {
        return navigator.getAutoplayPolicy('audiocontext') === 'allowed';
      } catch (err) {
        // an older form of the API: go by user activation
      }
    }
    return navigator.userActivation ? navigator.userActivation.hasBeenActive : interacted;
  }

  // Two falling two-tone pairs, softly enveloped (no clicks); when they end, in
  // the context's time.
  function tones(context) {
    const start = context.currentTime + 0.05;
    const volume = context.createGain();
    volume.gain.value = 0.5;
    volume.connect(context.destination);
    const notes = [[880, 0], [660, 0.45], [880, 0.9], [660, 1.35]];
    for (const [hertz, at] of notes) {
      const tone = context.createOscillator();
      const envelope = context.createGain();
      tone.type = 'sine';
      tone.frequency.value = hertz;
      envelope.gain.setValueAtTime(0.0001, start + at);
      envelope.gain.exponentialRampToValueAtTime(1, start + at + 0.02);
      envelope.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.42);
      tone.connect(envelope).connect(volume);
      tone.start(start + at);
      tone.stop(start + at + 0.45);
    }
    return start + 1.8;
  }

  function setLink(state) {
    const since = board.syncedAt ? ` · data per ${timeFormat.format(new Date(board.syncedAt))} WIB` : '';
    $('link').dataset.state = state;
    $('link-text').textContent = {
      connecting: 'Menghubungkan…',
      live: 'Terhubung',
      reconnecting: `Menyambung ulang…${since}`,
      offline: `Tidak terhubung${since}`,
    }[state];
  }

  function tick() {
    const at = new Date(now());
    $('time').textContent = timeFormat.format(at);
    $('date').textContent = dateFormat.format(at);
  }

  // A silent socket may be dead without the browser noticing (a router reboot, a
  // NAT that forgot us): ping it, then give up on it and reconnect.
  function watch() {
    if (!socket) return;
    const silence = Date.now() - lastHeard;
    if (silence > DEAD_AFTER_MS) lost(socket, connect);
    else if (silence > PING_AFTER_MS && !socket.sse) send(socket, { type: 'ping' });
  }

  // A reload during an outage then gets this page from the service worker's copy.
  async function keepForOffline() {
    if (!('serviceWorker' in navigator) || !('caches' in window)) return;
    await navigator.serviceWorker.register(document.body.dataset.worker, { scope: '/board/' });
    await navigator.serviceWorker.ready;
    const assets = [...document.querySelectorAll('link[rel=stylesheet], script[src]')];
    const urls = [location.href.split('#')[0], ...assets.map((el) => el.href || el.src)];
    const cache = await caches.open(OFFLINE_CACHE);
    await cache.addAll(urls);
    for (const request of await cache.keys()) {
      const stale = new URL(request.url).pathname.startsWith('/board-assets/');
      if (stale && !urls.includes(request.url)) await cache.delete(request);
    }
    document.body.dataset.offlineReady = 'true';
  }

  restore();
  tick();
  render();
  setLink('connecting');
  setInterval(tick, 1000);
  setInterval(() => render(), 30000);
  setInterval(watch, 5000);
  addEventListener('resize', () => render());
  for (const type of ['pointerdown', 'keydown']) {
    addEventListener(type, () => { interacted = true; }, { capture: true, passive: true });
  }
  keepForOffline().catch(() => {
    // No offline copy (an outage right now, or no service workers): live still works.
  });
  load();
})();
