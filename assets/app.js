// Tweet Streamer page script. It keeps one WebSocket to /ws, joins one room
// per open column, and shows what the server sends, following the live
// protocol (docs/PROTOCOL.md). The page works without it: trend links, the
// "trending now" buttons and the follow form reload the page with that
// column open.
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
  // COUNTDOWN_MS is how often the countdown to a source's retry ticks.
  const COUNTDOWN_MS = 1000;
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
  const bannerEl = byTestID(document, "source-banner");
  const trendingEl = byTestID(document, "trending");
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

  // element creates an element with a class, a data-testid and text, each
  // when given, so that no name from the server is ever parsed as HTML.
  function element(tag, className, testid, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (testid) node.dataset.testid = testid;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // trendItem builds the same markup as the trend component in
  // views/trends.templ, with DOM calls so that no name is parsed as HTML.
  function trendItem(room, custom) {
    const li = element("li", "trend-item", "trend");
    li.dataset.room = room;
    li.dataset.custom = String(custom);
    const a = element("a", "trend");
    a.href = "/?open=" + encodeURIComponent(room);
    a.dataset.room = room;
    const rate = element("span", "rate");
    rate.append(element("span", "", "trend-rate", "0"), "/min");
    const members = element("span", "badge", "trend-members", "0");
    members.title = "watching";
    a.append(element("span", "trend-name", "trend-name", room), " ", members, " ", rate);
    li.append(a);
    return li;
  }

  function setTrendCounts(li, members, perMinute) {
    setCount(byTestID(li, "trend-members"), members);
    setCount(byTestID(li, "trend-rate"), perMinute);
  }

  // ---- Trending now -------------------------------------------------------

  // trendingLabel shows a tag as a hashtag, unless it holds a space (a
  // trends API may list a phrase), as trendingLabel in views/trending.go.
  const trendingLabel = (tag) => (/\s/.test(tag) ? tag : "#" + tag);

  // windowText says how far back the list counts, as windowText in
  // views/trending.go: "last 10 min".
  function windowText(seconds) {
    const s = Math.floor(seconds);
    if (!(s > 0)) return "";
    if (s % 3600 === 0) return `last ${s / 3600} h`;
    if (s % 60 === 0) return `last ${s / 60} min`;
    return `last ${s} s`;
  }

  // trendingItem builds the same markup as the trendingTag component in
  // views/trending.templ.
  function trendingItem(tag, count) {
    const li = element("li", "trending-item");
    const button = element("button", "trending-tag", "trending-tag");
    button.type = "submit";
    button.name = "open";
    button.value = tag;
    button.dataset.room = tag;
    button.append(
      element("span", "trending-name", "trending-name", trendingLabel(tag)),
      " ",
      element("span", "trending-count", "trending-count", String(count)),
    );
    li.append(button);
    return li;
  }

  // showTrending replaces the list with tags, keeping the focus on the tag
  // that had it, and hides the list while it is empty.
  function showTrending(tags, windowSeconds) {
    const ul = byTestID(trendingEl, "trending-list");
    if (!ul) return;
    const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.room : undefined;
    const items = [];
    for (const t of tags) {
      if (!t || typeof t.tag !== "string" || t.tag.trim() === "") continue;
      items.push(trendingItem(t.tag, Number.isFinite(t.count) ? t.count : 0));
    }
    ul.replaceChildren(...items);
    if (focused !== undefined) {
      for (const button of ul.querySelectorAll("button[data-room]")) {
        if (button.dataset.room === focused) button.focus();
      }
    }
    const win = byTestID(trendingEl, "trending-window");
    if (win && Number.isFinite(windowSeconds)) {
      win.textContent = windowText(windowSeconds);
      win.hidden = win.textContent === "";
    }
    trendingEl.hidden = items.length === 0;
  }

  // openTag opens the column that follows a trending tag. A room for it
  // with or without its "#" follows the same tweets, so an open column or
  // a listed trend of either name is used before a new room is asked for.
  function openTag(tag) {
    const hashed = "#" + tag;
    const col = findColumn(tag) || findColumn(hashed);
    if (col) return openColumn(col.room);
    const li = findTrend(tag) || findTrend(hashed);
    return openColumn(li ? li.dataset.room : tag);
  }

  // ---- Source banner ------------------------------------------------------

  const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

  // sourceLabel names a source with a capital, as sourceLabel in
  // views/banner.go: "twitter" as "Twitter".
  function sourceLabel(name) {
    const trimmed = typeof name === "string" ? name.trim() : "";
    if (trimmed === "") return "The source";
    const [first, ...rest] = Array.from(trimmed);
    return first.toUpperCase() + rest.join("");
  }

  // bannerText says where the source stands, as newBannerView in
  // views/banner.go, but with the retry time in the reader's clock.
  function bannerText(source, state, retryMs, reason) {
    let what;
    switch (state) {
      case "connecting":
        what = "connecting…";
        break;
      case "backing_off":
        what = Number.isNaN(retryMs) ? "reconnecting…" : `reconnecting at ${clockFormat.format(retryMs)}`;
        break;
      case "failed":
        what = "stopped";
        break;
      default:
        what = state;
    }
    const why = typeof reason === "string" ? reason.trim() : "";
    return `${sourceLabel(source)}: ${what}${why === "" ? "" : ` — ${why}`}`;
  }

  // showSource updates the banner from a source message. It is hidden
  // while the source is connected. Its text only changes when the state
  // does, so that screen readers read each change once.
  function showSource(msg) {
    const state = msg.state;
    const retryMs = state === "backing_off" && typeof msg.retry_at === "string" ? Date.parse(msg.retry_at) : NaN;
    const hidden = state === "" || state === "connected";
    bannerEl.dataset.state = state;
    bannerEl.dataset.retryAt = Number.isNaN(retryMs) ? "" : msg.retry_at;
    const textEl = byTestID(bannerEl, "source-banner-text");
    const text = hidden ? "" : bannerText(msg.source, state, retryMs, msg.reason);
    if (textEl && textEl.textContent !== text) textEl.textContent = text;
    bannerEl.hidden = hidden;
    startCountdown(hidden ? NaN : retryMs);
  }

  let countdownTimer = 0;

  // startCountdown shows the time left until retryMs beside the banner's
  // text, every second until it is reached; NaN shows none. The countdown
  // is aria-hidden: the banner's text already says the time.
  function startCountdown(retryMs) {
    clearInterval(countdownTimer);
    countdownTimer = 0;
    const el = byTestID(bannerEl, "source-countdown");
    if (!el) return;
    const tick = () => {
      const s = Math.ceil((retryMs - Date.now()) / 1000);
      if (!(s > 0)) {
        el.textContent = "";
        return false;
      }
      el.textContent = s < 60 ? `in ${s} s` : `in ${Math.floor(s / 60)} min ${s % 60} s`;
      return true;
    };
    if (!tick()) return;
    countdownTimer = setInterval(() => {
      if (!tick()) {
        clearInterval(countdownTimer);
        countdownTimer = 0;
      }
    }, COUNTDOWN_MS);
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
    // source is this server's extension too: where the source stands with
    // its upstream, on connect and on every change.
    ["source", (msg) => {
      if (bannerEl && typeof msg.state === "string") showSource(msg);
    }],
    // trending is another: the "trending now" list, on connect and when it
    // changes.
    ["trending", (msg) => {
      if (trendingEl && Array.isArray(msg.tags)) showTrending(msg.tags, msg.window_s);
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

  if (trendingEl) {
    trendingEl.addEventListener("click", (ev) => {
      if (ev.defaultPrevented) return;
      const button = ev.target instanceof Element ? ev.target.closest("button[data-room]") : null;
      if (!button || !trendingEl.contains(button)) return;
      ev.preventDefault();
      openTag(button.dataset.room);
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
  if (bannerEl && !bannerEl.hidden && bannerEl.dataset.retryAt) {
    startCountdown(Date.parse(bannerEl.dataset.retryAt));
  }
  refreshTimes(columnsEl, Date.now());
  setInterval(() => refreshTimes(columnsEl, Date.now()), CLOCK_MS);
  connect();
})();
