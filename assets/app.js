// Tweet Streamer page script. It keeps one WebSocket to /ws, joins one room
// per open column, and shows what the server sends, following the live
// protocol (docs/PROTOCOL.md). The page works without it: trend links and the
// follow form reload the page with that column open.
//
// Untrusted text never reaches innerHTML here. The only markup parsed is what
// the server rendered: the html field of a tweet (a card, every string in it
// escaped) and a column fragment from GET /column.
"use strict";

(() => {
  // MAX_CARDS is how many cards a column keeps in the DOM, the same number
  // the server renders (maxCards in views/column.go).
  const MAX_CARDS = 50;
  // Reconnect delays double from BACKOFF_MIN_MS up to BACKOFF_MAX_MS, with
  // jitter so that clients cut off together do not all return at once.
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  // NOTICE_MS is how long a notice stays up.
  const NOTICE_MS = 6000;
  // CLOCK_MS is how often "2m ago"-style card times are refreshed.
  const CLOCK_MS = 30000;
  // Errors that refuse a join: a column that never showed a tweet is removed.
  const JOIN_REFUSALS = new Set(["bad_room", "too_many_trends", "too_many_rooms"]);
  const CONN_TEXT = {
    connecting: "connecting…",
    live: "live",
    reconnecting: "reconnecting…",
    offline: "offline",
  };

  const byTestID = (root, id) => root.querySelector(`[data-testid="${id}"]`);
  const columnsEl = byTestID(document, "columns");
  if (!columnsEl) return; // not the app page
  const trendsEl = byTestID(document, "trends");
  const followForm = byTestID(document, "follow-form");
  const connEl = byTestID(document, "conn-state");
  const pageNoticeEl = byTestID(document, "page-notice");
  // The server's per-connection room limit; none when missing or not positive.
  const columnLimit = Number.parseInt(document.body.dataset.maxColumns, 10);
  const maxColumns = columnLimit > 0 ? columnLimit : Infinity;

  // roomKey compares room names as the server normalises them (trimmed,
  // inner space collapsed, case-folded: stream.NormalizeTrend), so a column
  // opened as " GoLang" is the room "golang". JavaScript's lower-casing
  // differs from Go's folding for a few letters (such as "ς"), which only
  // costs a name typed with one of them a fetch before its open column is
  // found under the server's name.
  const roomKey = (name) => String(name).trim().replace(/\s+/g, " ").toLowerCase();

  // ---- Columns ----------------------------------------------------------

  // columns holds every open column by room name: the name the server gave
  // in joined, or the name it was opened with until then. A column is
  //   {room, el, list, notice, epoch, seq, paused, recovering}
  // where epoch and seq say how far its list is up to date (seq -1: nothing
  // yet), and recovering says the last join carried since.
  const columns = new Map();
  // opening holds the room keys of columns being fetched.
  const opening = new Set();

  function findColumn(room) {
    if (typeof room !== "string") return undefined;
    const exact = columns.get(room);
    if (exact) return exact;
    const key = roomKey(room);
    for (const col of columns.values()) {
      if (roomKey(col.room) === key) return col;
    }
    return undefined;
  }

  function columnOf(node) {
    const el = node.closest('[data-testid="column"]');
    for (const col of columns.values()) {
      if (col.el === el) return col;
    }
    return undefined;
  }

  // registerColumn starts tracking a server-rendered column element. Its
  // data-epoch and data-seq say where its backlog ends; an empty epoch (the
  // room did not exist yet) means the first join asks for recent history.
  function registerColumn(el) {
    const col = {
      room: el.dataset.room || "",
      el,
      list: byTestID(el, "tweets"),
      notice: byTestID(el, "column-notice"),
      epoch: el.dataset.epoch || "",
      seq: -1,
      paused: false,
      recovering: false,
    };
    const seq = Number(el.dataset.seq);
    if (col.epoch && Number.isSafeInteger(seq) && seq >= 0) col.seq = seq;
    columns.set(col.room, col);
    return col;
  }

  function removeColumn(col) {
    col.el.remove();
    columns.delete(col.room);
    syncURL();
  }

  // renameColumn adopts the server's name for a column opened under another
  // spelling of it.
  function renameColumn(col, room) {
    columns.delete(col.room);
    col.room = room;
    columns.set(room, col);
    col.el.dataset.room = room;
    col.el.setAttribute("aria-label", room);
    const title = byTestID(col.el, "column-title");
    if (title) title.textContent = room;
    syncURL();
  }

  // setPosition records how far the column's list is up to date, mirrored in
  // its data-epoch and data-seq as the server rendered them.
  function setPosition(col, epoch, seq) {
    col.epoch = epoch;
    col.seq = seq;
    col.el.dataset.epoch = epoch;
    col.el.dataset.seq = seq < 0 ? "0" : String(seq);
  }

  // joinColumn asks for the column's room, from where its list ends when it
  // knows that. It sends nothing while the socket is not open: every open
  // joins each column again from its state at that moment, so a request made
  // while offline is neither lost nor sent twice.
  function joinColumn(col) {
    const msg = { type: "join", room: col.room };
    if (col.epoch && col.seq >= 0) {
      msg.epoch = col.epoch;
      msg.since = col.seq;
    }
    if (!send(msg)) return;
    col.recovering = "since" in msg;
    if (col.paused) send({ type: "pause", room: col.room });
  }

  function closeColumn(col) {
    send({ type: "leave", room: col.room });
    removeColumn(col);
  }

  function togglePause(col, button) {
    col.paused = !col.paused;
    send(col.paused
      ? { type: "pause", room: col.room }
      : { type: "resume", room: col.room, mode: "replay" });
    button.textContent = col.paused ? "resume" : "pause";
    button.setAttribute("aria-pressed", String(col.paused));
    col.el.classList.toggle("paused", col.paused);
  }

  // openColumn shows the column of room: it scrolls to it when it is open
  // already, and otherwise fetches it from the server and joins it.
  async function openColumn(room) {
    const existing = findColumn(room);
    if (existing) {
      reveal(existing.el);
      return true;
    }
    if (columns.size + opening.size >= maxColumns) {
      showNotice(pageNoticeEl, `You can follow at most ${maxColumns} trends at once: close a column first.`);
      return false;
    }
    const key = roomKey(room);
    if (opening.has(key)) return false;
    opening.add(key);
    try {
      const res = await fetch("/column?room=" + encodeURIComponent(room), {
        headers: { Accept: "text/html" },
      });
      const body = await res.text();
      if (res.status !== 200) {
        showNotice(pageNoticeEl, body.trim() || `Could not open ${room} (${res.status}).`);
        return false;
      }
      // The fragment is the server's own Column markup.
      const el = parseHTML(body).querySelector('[data-testid="column"]');
      if (!el || !el.dataset.room) {
        showNotice(pageNoticeEl, `Could not open ${room}.`);
        return false;
      }
      const again = findColumn(el.dataset.room);
      if (again) {
        reveal(again.el);
        return true;
      }
      columnsEl.append(el);
      const col = registerColumn(el);
      refreshTimes(el, Date.now());
      joinColumn(col);
      syncURL();
      reveal(el);
      return true;
    } catch (err) {
      console.error("open column", room, err);
      showNotice(pageNoticeEl, `Could not reach the server to open ${room}.`);
      return false;
    } finally {
      opening.delete(key);
    }
  }

  function reveal(el) {
    el.scrollIntoView({ behavior: "smooth", block: "nearest", inline: "nearest" });
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  // syncURL keeps the address at /?open=a,b,… so a reload, which the server
  // renders with those columns, restores them.
  function syncURL() {
    const rooms = Array.from(
      columnsEl.querySelectorAll(':scope > [data-testid="column"]'),
      (el) => encodeURIComponent(el.dataset.room),
    );
    const target = rooms.length > 0 ? "/?open=" + rooms.join(",") : "/";
    if (location.pathname + location.search !== target) {
      history.replaceState(history.state, "", target + location.hash);
    }
  }

  // ---- Rendering helpers --------------------------------------------------

  function parseHTML(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function setCount(el, n) {
    if (el && Number.isFinite(n)) el.textContent = String(n);
  }

  const noticeTimers = new WeakMap();

  function showNotice(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(noticeTimers.get(el));
    noticeTimers.set(el, setTimeout(() => {
      el.hidden = true;
      el.textContent = "";
    }, NOTICE_MS));
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

  function relativeTime(ms, now) {
    const s = Math.floor((now - ms) / 1000);
    if (s < 45) return "now";
    if (s < 3600) return `${Math.max(1, Math.floor(s / 60))}m`;
    if (s < 86400) return `${Math.floor(s / 3600)}h`;
    return dateFormat.format(ms);
  }

  // refreshTimes replaces the server's absolute UTC times with times relative
  // to now, and local absolute times in the tooltip.
  function refreshTimes(root, now) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      const ms = Date.parse(el.dateTime);
      if (Number.isNaN(ms)) continue;
      el.textContent = relativeTime(ms, now);
      el.title = fullFormat.format(ms);
    }
  }

  // ---- Trend list ---------------------------------------------------------

  function findTrend(room) {
    if (!trendsEl) return undefined;
    const key = roomKey(room);
    for (const li of trendsEl.querySelectorAll('[data-testid="trend"]')) {
      if (roomKey(li.dataset.room) === key) return li;
    }
    return undefined;
  }

  // trendItem builds the same markup as the trend component in
  // views/trends.templ, with DOM calls so that no name is parsed as HTML.
  function trendItem(room, custom) {
    const el = (tag, className, testid, text) => {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (testid) node.dataset.testid = testid;
      if (text !== undefined) node.textContent = text;
      return node;
    };
    const li = el("li", "trend-item", "trend");
    li.dataset.room = room;
    li.dataset.custom = String(custom);
    const a = el("a", "trend");
    a.href = "/?open=" + encodeURIComponent(room);
    a.dataset.room = room;
    const rate = el("span", "rate");
    rate.append(el("span", "", "trend-rate", "0"), "/min");
    const members = el("span", "badge", "trend-members", "0");
    members.title = "watching";
    a.append(el("span", "trend-name", "trend-name", room), " ", members, " ", rate);
    li.append(a);
    return li;
  }

  function setTrendCounts(li, members, perMinute) {
    setCount(byTestID(li, "trend-members"), members);
    setCount(byTestID(li, "trend-rate"), perMinute);
  }

  // ---- Server messages ----------------------------------------------------

  const handlers = new Map([
    ["joined", (msg) => {
      const col = findColumn(msg.room);
      if (!col) return; // closed before the server answered
      if (col.room !== msg.room) renameColumn(col, msg.room);
      const epoch = typeof msg.epoch === "string" ? msg.epoch : "";
      if (col.recovering && msg.recovered === true) {
        // The backlog that follows is everything after our since.
        setPosition(col, epoch, col.seq);
      } else {
        // A fresh join, or history could not fill the gap: start over with
        // the recent history that follows.
        col.list.replaceChildren();
        setPosition(col, epoch, -1);
      }
      setCount(byTestID(col.el, "column-members"), msg.members);
    }],
    ["tweet", (msg) => {
      const col = findColumn(msg.room);
      if (!col || !Number.isSafeInteger(msg.seq) || msg.seq <= col.seq) return;
      setPosition(col, col.epoch, msg.seq);
      if (typeof msg.html !== "string") return;
      const card = parseHTML(msg.html).firstElementChild;
      if (!card) return;
      for (const old of Array.from(col.list.children)) {
        if (old.dataset.id === card.dataset.id && old.dataset.source === card.dataset.source) old.remove();
      }
      col.list.prepend(card);
      refreshTimes(card, Date.now());
      while (col.list.childElementCount > MAX_CARDS) col.list.lastElementChild.remove();
    }],
    ["retract", (msg) => {
      const col = findColumn(msg.room);
      if (!col) return;
      for (const card of Array.from(col.list.children)) {
        if (card.dataset.id === msg.id) card.remove();
      }
    }],
    ["left", () => {
      // Nothing more comes for that room; its column went when it was closed.
    }],
    ["stats", (msg) => {
      const col = findColumn(msg.room);
      if (col) {
        setCount(byTestID(col.el, "column-members"), msg.members);
        setCount(byTestID(col.el, "column-rate"), msg.per_minute);
      }
      const li = findTrend(msg.room);
      if (li) setTrendCounts(li, msg.members, msg.per_minute);
    }],
    ["skipped", (msg) => {
      const col = findColumn(msg.room);
      if (!col) return;
      const n = Number.isFinite(msg.count) ? msg.count : msg.to_seq - msg.from_seq + 1;
      if (!(n > 0)) return;
      showNotice(col.notice, `${n} ${n === 1 ? "tweet" : "tweets"} skipped (you were behind)`);
    }],
    ["error", (msg) => {
      const text = typeof msg.message === "string" && msg.message !== ""
        ? msg.message
        : `Error: ${msg.code}`;
      const col = findColumn(msg.room);
      if (!col) {
        showNotice(pageNoticeEl, text);
      } else if (JOIN_REFUSALS.has(msg.code) && col.list.childElementCount === 0) {
        removeColumn(col);
        showNotice(pageNoticeEl, `${col.room}: ${text}`);
      } else {
        showNotice(col.notice, text);
      }
    }],
    // trends is this server's extension of the protocol: the trend list with
    // its counts, whenever it changes.
    ["trends", (msg) => {
      const ul = trendsEl && trendsEl.querySelector("ul");
      if (!ul || !Array.isArray(msg.trends)) return;
      const listed = new Set();
      for (const t of msg.trends) {
        if (!t || typeof t.room !== "string" || t.room === "") continue;
        listed.add(roomKey(t.room));
        let li = findTrend(t.room);
        if (!li) {
          li = trendItem(t.room, t.custom === true);
          ul.append(li);
        }
        li.dataset.custom = String(t.custom === true);
        setTrendCounts(li, t.members, t.per_minute);
      }
      for (const li of Array.from(ul.querySelectorAll('[data-testid="trend"]'))) {
        if (li.dataset.custom === "true" && !listed.has(roomKey(li.dataset.room))) li.remove();
      }
    }],
  ]);

  // onFrame handles one server frame: one or more JSON messages separated by
  // "\n". A message that does not parse or fails is skipped, not the rest.
  function onFrame(data) {
    if (typeof data !== "string") return;
    for (const line of data.split("\n")) {
      if (line.trim() === "") continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch (err) {
        console.warn("unparsable message", line, err);
        continue;
      }
      if (!msg || typeof msg.type !== "string") continue;
      const handle = handlers.get(msg.type);
      if (!handle) continue; // a type this page does not know
      try {
        handle(msg);
      } catch (err) {
        console.error("handling", msg.type, err);
      }
    }
  }

  // ---- Connection ---------------------------------------------------------

  let ws = null;
  // attempt counts reconnects since the last successful open.
  let attempt = 0;
  let retryTimer = 0;
  // stopped is set while the page is hidden for good or kept in the
  // back/forward cache, which an open socket would prevent.
  let stopped = false;

  function setConn(state) {
    if (!connEl) return;
    connEl.dataset.state = state;
    connEl.textContent = CONN_TEXT[state];
  }

  // send writes msg if the socket is open, and reports whether it did.
  function send(msg) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (stopped) return;
    setConn(attempt === 0 ? "connecting" : "reconnecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let sock;
    try {
      sock = new WebSocket(`${scheme}//${location.host}/ws`);
    } catch (err) {
      console.error("websocket", err);
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.addEventListener("open", () => {
      if (ws !== sock) return;
      attempt = 0;
      setConn("live");
      for (const col of columns.values()) joinColumn(col);
    });
    sock.addEventListener("message", (ev) => {
      if (ws === sock) onFrame(ev.data);
    });
    sock.addEventListener("close", () => {
      if (ws !== sock) return;
      ws = null;
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (stopped || retryTimer) return;
    setConn(navigator.onLine === false ? "offline" : "reconnecting");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    attempt = Math.min(attempt + 1, 16);
    // Equal jitter: wait between half and all of the ceiling.
    retryTimer = setTimeout(connect, ceiling / 2 + Math.random() * (ceiling / 2));
  }

  window.addEventListener("offline", () => setConn("offline"));
  window.addEventListener("online", () => {
    if (ws && ws.readyState === WebSocket.OPEN) {
      setConn("live");
    } else if (retryTimer) {
      attempt = 0;
      connect();
    }
  });
  window.addEventListener("pagehide", () => {
    stopped = true;
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (ws) {
      const sock = ws;
      ws = null;
      sock.close(1000, "page hidden");
    }
  });
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    stopped = false;
    attempt = 0;
    connect();
  });

  // ---- User actions -------------------------------------------------------

  if (trendsEl) {
    trendsEl.addEventListener("click", (ev) => {
      if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      const link = ev.target instanceof Element ? ev.target.closest("a[data-room]") : null;
      if (!link || !trendsEl.contains(link)) return;
      ev.preventDefault();
      openColumn(link.dataset.room);
    });
  }

  if (followForm) {
    followForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const input = followForm.elements.namedItem("open");
      const room = input.value.trim();
      if (room === "") {
        input.value = "";
        input.focus();
        return;
      }
      if (await openColumn(room)) input.value = "";
    });
  }

  columnsEl.addEventListener("click", (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest("button[data-action]") : null;
    if (!button) return;
    const col = columnOf(button);
    if (!col) return;
    if (button.dataset.action === "close") {
      closeColumn(col);
    } else if (button.dataset.action === "pause") {
      togglePause(col, button);
    }
  });

  columnsEl.addEventListener("animationend", (ev) => {
    if (ev.target instanceof Element) ev.target.classList.remove("flash");
  });

  // ---- Start --------------------------------------------------------------

  for (const el of columnsEl.querySelectorAll(':scope > [data-testid="column"]')) {
    if (!el.dataset.room || findColumn(el.dataset.room)) {
      el.remove();
    } else {
      registerColumn(el);
    }
  }
  syncURL();
  refreshTimes(columnsEl, Date.now());
  setInterval(() => refreshTimes(columnsEl, Date.now()), CLOCK_MS);
  connect();
})();
