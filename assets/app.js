// Tweet Streamer page script. It keeps one WebSocket to /ws, joins one room
// per open column, and shows what the server sends, following the live
// protocol (docs/PROTOCOL.md). The page works without it: trend links, the
// "trending now" buttons, the follow form and each column's close link
// load the page with that change to its open columns.
//
// Untrusted text never reaches innerHTML here. The only markup parsed is what
// the server rendered with the page's own components, every string in it
// escaped: the html field of tweet, trends, trending and source messages,
// and a column fragment from GET /column.
"use strict";

(() => {
  // MAX_CARDS is how many cards a column keeps in the DOM, the same number
  // the server renders (maxCards in views/column.go).
  const MAX_CARDS = 50;
  // Reconnect delays double from BACKOFF_MIN_MS up to BACKOFF_MAX_MS, with
  // jitter so that clients cut off together do not all return at once.
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  // IDLE_CLOSE is the reason of the server's close of a socket in no room
  // (rooms.DisconnectRoomless).
  const IDLE_CLOSE = "idle: in no room";
  // NOTICE_MS is how long a notice stays up.
  const NOTICE_MS = 6000;
  // CLOCK_MS is how often "2m ago"-style card times are refreshed.
  const CLOCK_MS = 30000;
  // COUNTDOWN_MS is how often the countdown to a source's retry ticks.
  const COUNTDOWN_MS = 1000;
  // SAVE_MS is how long a new position waits before it is written to
  // localStorage, so that a busy column writes about once a second.
  const SAVE_MS = 1000;
  // MAX_POSITIONS bounds the rooms whose position is remembered; the
  // oldest are forgotten first.
  const MAX_POSITIONS = 50;
  const POSITIONS_KEY = "tweetstreamer.positions";
  const BIG_KEY = "tweetstreamer.big";
  // Errors that refuse a join: a column that never showed a tweet is removed.
  const JOIN_REFUSALS = new Set(["bad_room", "too_many_trends", "too_many_rooms"]);
  // REJOIN_MS is the first wait before a join refused as unavailable (the
  // server cannot reach the room's history for now) is sent again; each
  // refusal doubles it, up to REJOIN_MAX_MS.
  const REJOIN_MS = 1000;
  const REJOIN_MAX_MS = 30000;
  const CONN_TEXT = {
    connecting: "connecting…",
    live: "live",
    reconnecting: "reconnecting…",
    offline: "offline",
  };
  // SOURCE_TEXT is what the header says while the socket is live but the
  // source is not: the page is connected, yet no tweet is coming.
  const SOURCE_TEXT = {
    connecting: "live · source connecting…",
    backing_off: "live · source down",
    failed: "live · source stopped",
  };

  const root = document.documentElement;
  root.classList.add("js");

  const byTestID = (node, id) => node.querySelector(`[data-testid="${id}"]`);
  const columnsEl = byTestID(document, "columns");
  if (!columnsEl) return; // not the app page
  const trendsEl = byTestID(document, "trends");
  const followForm = byTestID(document, "follow-form");
  const followError = byTestID(document, "follow-error");
  const connEl = byTestID(document, "conn-state");
  const pageNoticeEl = byTestID(document, "page-notice");
  const bigToggle = byTestID(document, "big-toggle");
  // The banner and the trending list are replaced whole by the server's
  // markup, so they are looked up each time.
  const bannerEl = () => byTestID(document, "source-banner");
  const trendingEl = () => byTestID(document, "trending");
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

  // ---- Remembered state ---------------------------------------------------

  // storage is localStorage, or null where it is unavailable (a private
  // window may refuse it): the page then simply forgets.
  const storage = (() => {
    try {
      const s = window.localStorage;
      const probe = "tweetstreamer.probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch {
      return null;
    }
  })();

  function readJSON(key) {
    if (!storage) return undefined;
    try {
      return JSON.parse(storage.getItem(key) || "null") || undefined;
    } catch {
      return undefined;
    }
  }

  function writeJSON(key, value) {
    if (!storage) return;
    try {
      storage.setItem(key, JSON.stringify(value));
    } catch {
      // Full or refused: the page forgets, as without storage.
    }
  }

  // loadPositions returns the remembered position of each room, {epoch,
  // seq, at}: the epoch and seq of the last tweet the reader was shown, so
  // that a reload says what came since the last visit. What does not have
  // that shape is dropped.
  function loadPositions() {
    const stored = readJSON(POSITIONS_KEY);
    const out = {};
    if (!stored || typeof stored !== "object" || Array.isArray(stored)) return out;
    for (const [room, p] of Object.entries(stored)) {
      if (p && typeof p.epoch === "string" && Number.isSafeInteger(p.seq) && Number.isFinite(p.at)) out[room] = p;
    }
    return out;
  }

  // positions is what this page started from; changed holds what it has
  // changed since it last saved (null: forgotten), which saving merges into
  // what is stored then, so that two tabs keep each other's rooms.
  const positions = loadPositions();
  const changed = new Map();
  let saveTimer = 0;

  function rememberPosition(col) {
    if (!col.epoch || col.shown < 0) return;
    changed.set(col.room, { epoch: col.epoch, seq: col.shown, at: Date.now() });
    if (!saveTimer) saveTimer = setTimeout(savePositions, SAVE_MS);
  }

  function forgetPosition(room) {
    changed.set(room, null);
    savePositions();
  }

  function savePositions() {
    clearTimeout(saveTimer);
    saveTimer = 0;
    if (changed.size === 0) return;
    const merged = loadPositions();
    for (const [room, p] of changed) {
      if (p) merged[room] = p;
      else delete merged[room];
    }
    changed.clear();
    const rooms = Object.keys(merged);
    if (rooms.length > MAX_POSITIONS) {
      rooms.sort((a, b) => merged[b].at - merged[a].at);
      for (const room of rooms.slice(MAX_POSITIONS)) delete merged[room];
    }
    writeJSON(POSITIONS_KEY, merged);
  }

  // ---- Columns ----------------------------------------------------------

  // columns holds every open column by room name: the name the server gave
  // in joined, or the name it was opened with until then. A column is
  //   {room, el, list, notice, held, pauseButton, jumpButton, epoch, seq,
  //    shown, paused, recovering, jumping, fromFollow}
  // where epoch and seq say how far its list is up to date (seq -1: nothing
  // yet), shown is the newest seq it showed, recovering says the last join
  // carried since, jumping that the reader skipped what was held, and
  // fromFollow that the follow box opened it (its refusal goes there).
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

  // columnEls returns the column elements in page order.
  const columnEls = () => Array.from(columnsEl.querySelectorAll(':scope > [data-testid="column"]'));

  // registerColumn starts tracking a server-rendered column element. Its
  // data-epoch and data-seq say where its backlog ends; an empty epoch (the
  // room did not exist yet) means the first join asks for recent history.
  function registerColumn(el) {
    const col = {
      room: el.dataset.room || "",
      el,
      list: byTestID(el, "tweets"),
      notice: byTestID(el, "column-notice"),
      held: byTestID(el, "held"),
      pauseButton: byTestID(el, "pause"),
      jumpButton: byTestID(el, "jump-live"),
      epoch: el.dataset.epoch || "",
      seq: -1,
      shown: -1,
      paused: false,
      recovering: false,
      jumping: false,
      fromFollow: false,
    };
    const seq = Number(el.dataset.seq);
    if (col.epoch && Number.isSafeInteger(seq) && seq >= 0) {
      col.seq = seq;
      col.shown = seq;
    }
    columns.set(col.room, col);
    return col;
  }

  function removeColumn(col) {
    col.el.remove();
    columns.delete(col.room);
    forgetPosition(col.room);
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
  //
  // A paused column joins paused (this server's extension of join): the
  // server holds back what came since, and only counts it, so a reconnect
  // does not pour the held tweets into a column the reader stopped.
  function joinColumn(col) {
    const msg = { type: "join", room: col.room };
    if (col.epoch && col.seq >= 0) {
      msg.epoch = col.epoch;
      msg.since = col.seq;
    }
    if (col.paused) msg.paused = true;
    if (!send(msg)) return;
    col.recovering = "since" in msg;
  }

  // rejoinLater joins col again after a wait that doubles with each
  // refusal, unless it was closed meanwhile; a reconnect joins it anyway.
  function rejoinLater(col) {
    col.rejoinMs = Math.min((col.rejoinMs || REJOIN_MS / 2) * 2, REJOIN_MAX_MS);
    clearTimeout(col.rejoinTimer);
    col.rejoinTimer = setTimeout(() => {
      if (findColumn(col.room) === col) joinColumn(col);
    }, col.rejoinMs);
  }

  // closeColumn leaves the room and removes the column, then puts the focus
  // where a keyboard reader expects it: on the next column's close control
  // (the previous one's for the last), else on the closed trend's link, so
  // that Enter opens it again.
  function closeColumn(col) {
    const els = columnEls();
    const at = els.indexOf(col.el);
    const neighbour = els[at + 1] || els[at - 1];
    send({ type: "leave", room: col.room });
    removeColumn(col);
    const trend = findTrend(col.room);
    const target = (neighbour && byTestID(neighbour, "close")) ||
      (trend && trend.querySelector("a")) ||
      (followForm && followForm.querySelector('input[name="open"]:not([type="hidden"])'));
    if (target) target.focus();
  }

  function setPaused(col, paused) {
    col.paused = paused;
    col.el.classList.toggle("paused", paused);
    if (col.pauseButton) {
      col.pauseButton.textContent = paused ? "resume" : "pause";
      col.pauseButton.setAttribute("aria-pressed", String(paused));
      col.pauseButton.setAttribute("aria-label", `${paused ? "Resume" : "Pause"} ${col.room}`);
    }
    if (col.jumpButton) col.jumpButton.hidden = !paused;
    if (col.held) {
      col.held.hidden = !paused;
      col.held.textContent = paused ? "0 new" : "";
    }
  }

  // togglePause pauses the column, or resumes it with everything that was
  // held back, in order.
  function togglePause(col) {
    const paused = !col.paused;
    send(paused
      ? { type: "pause", room: col.room }
      : { type: "resume", room: col.room, mode: "replay" });
    setPaused(col, paused);
  }

  // jumpToLive resumes the column without what was held back: the server
  // answers with a skipped for it, which leaves a marker where it was.
  function jumpToLive(col) {
    if (!col.paused) return;
    if (send({ type: "resume", room: col.room, mode: "live" })) col.jumping = true;
    setPaused(col, false);
    if (col.pauseButton) col.pauseButton.focus();
  }

  // openColumn shows the column of room: it scrolls to it when it is open
  // already, and otherwise fetches it from the server and joins it. It
  // reports whether the column is open, and otherwise shows why not, beside
  // the follow box when that asked (where), else in the page notice.
  async function openColumn(room, where) {
    const refuse = (text) => {
      if (where === "follow") showFollowError(text);
      else showNotice(pageNoticeEl, text);
      return false;
    };
    const existing = findColumn(room);
    if (existing) {
      reveal(existing.el);
      return true;
    }
    if (columns.size + opening.size >= maxColumns) {
      return refuse(`You can follow at most ${maxColumns} trends at once: close a column first.`);
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
        return refuse(body.trim() || `Could not open ${room} (${res.status}).`);
      }
      // The fragment is the server's own Column markup.
      const el = parseHTML(body).querySelector('[data-testid="column"]');
      if (!el || !el.dataset.room) return refuse(`Could not open ${room}.`);
      const again = findColumn(el.dataset.room);
      if (again) {
        reveal(again.el);
        return true;
      }
      columnsEl.append(el);
      const col = registerColumn(el);
      col.fromFollow = where === "follow";
      refreshTimes(el, Date.now());
      joinColumn(col);
      syncURL();
      reveal(el);
      return true;
    } catch (err) {
      console.error("open column", room, err);
      return refuse(`Could not reach the server to open ${room}.`);
    } finally {
      opening.delete(key);
    }
  }

  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  function reveal(el) {
    el.scrollIntoView({ behavior: reducedMotion.matches ? "auto" : "smooth", block: "nearest", inline: "nearest" });
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  // ---- Links --------------------------------------------------------------

  const openRooms = () => columnEls().map((el) => el.dataset.room);

  // pageURL is the page with these columns, in projector mode when big, as
  // views.Links builds it on the server.
  function pageURL(rooms, big) {
    const q = [];
    if (rooms.length > 0) q.push("open=" + rooms.map(encodeURIComponent).join(","));
    if (big) q.push("big=1");
    return q.length > 0 ? "/?" + q.join("&") : "/";
  }

  // syncURL keeps the address at /?open=a,b,… so a reload, which the server
  // renders with those columns, restores them; and keeps every link of the
  // page pointing at this page with one change, as the server renders them.
  function syncURL() {
    const rooms = openRooms();
    const big = root.classList.contains("big");
    const target = pageURL(rooms, big);
    if (location.pathname + location.search !== target) {
      history.replaceState(history.state, "", target + location.hash);
    }
    syncLinks(rooms, big);
  }

  function syncLinks(rooms = openRooms(), big = root.classList.contains("big")) {
    if (trendsEl) {
      for (const a of trendsEl.querySelectorAll("a.trend[data-room]")) {
        const open = rooms.includes(a.dataset.room) ? rooms : [...rooms, a.dataset.room];
        a.href = pageURL(open, big);
      }
    }
    for (const el of columnEls()) {
      const close = byTestID(el, "close");
      if (close) close.href = pageURL(rooms.filter((r) => r !== el.dataset.room), big);
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

  // showFollowError shows a refusal beside the follow box, until the reader
  // types again.
  function showFollowError(text) {
    if (!followError) {
      showNotice(pageNoticeEl, text);
      return;
    }
    followError.textContent = text;
    followError.hidden = false;
  }

  function clearFollowError() {
    if (followError && !followError.hidden) {
      followError.hidden = true;
      followError.textContent = "";
    }
  }

  // plural says "1 tweet", "12 tweets".
  const tweets = (n) => `${n} ${n === 1 ? "tweet" : "tweets"}`;

  // gapMarker builds the divider that stands in a column where tweets are
  // missing: kind is skipped (the server could not keep up), unrecovered
  // (a reconnect could not fetch everything), jumped (the reader skipped
  // what was held) or last-visit (what came since the reader was last here
  // is above it).
  function gapMarker(kind, count, text) {
    const li = document.createElement("li");
    li.className = `gap gap-${kind}`;
    li.dataset.testid = "gap";
    li.dataset.kind = kind;
    if (Number.isFinite(count)) li.dataset.count = String(count);
    li.setAttribute("role", "separator");
    li.setAttribute("aria-label", text);
    li.textContent = text;
    return li;
  }

  // trimList keeps a column to MAX_CARDS cards, and drops the markers left
  // below the last of them, but the last visit's: where the reader left
  // off is still below, however far.
  function trimList(list) {
    let cards = 0;
    for (const node of Array.from(list.children)) {
      if (node.dataset.testid === "card") {
        cards++;
        if (cards > MAX_CARDS) node.remove();
      } else if (cards >= MAX_CARDS && node.dataset.kind !== "last-visit") {
        node.remove();
      }
    }
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

  function relativeTime(ms, now) {
    const s = Math.floor((now - ms) / 1000);
    if (s < 45) return "now";
    if (s < 3600) return `${Math.max(1, Math.floor(s / 60))}m`;
    if (s < 86400) return `${Math.floor(s / 3600)}h`;
    return dateFormat.format(ms);
  }

  // refreshTimes replaces the server's absolute UTC times with times in the
  // reader's clock and locale: relative on cards, a time of day where the
  // server asked for a clock (data-format="clock"), and local absolute
  // times in the tooltip.
  function refreshTimes(node, now) {
    for (const el of node.querySelectorAll("time[datetime]")) {
      const ms = Date.parse(el.dateTime);
      if (Number.isNaN(ms)) continue;
      el.textContent = el.dataset.format === "clock" ? clockFormat.format(ms) : relativeTime(ms, now);
      el.title = fullFormat.format(ms);
    }
  }

  // replaceKeepingFocus swaps old for fresh, and gives the focus back to the
  // element of fresh that matches the one focused in old (same data-room).
  function replaceKeepingFocus(old, fresh, apply) {
    const active = document.activeElement;
    const focused = old.contains(active) && active.dataset ? active.dataset.room : undefined;
    apply();
    if (focused === undefined) return;
    for (const el of fresh.querySelectorAll("[data-room]")) {
      if (el.dataset.room === focused && (el.matches("a, button"))) {
        el.focus();
        return;
      }
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

  // showTrends puts the server's entries of the trend list in place of the
  // old ones.
  function showTrends(html) {
    const ul = trendsEl && byTestID(trendsEl, "trend-list");
    if (!ul) return;
    const fresh = parseHTML(html);
    replaceKeepingFocus(ul, ul, () => ul.replaceChildren(...fresh.children));
    syncLinks();
  }

  // ---- Trending now -------------------------------------------------------

  // showTrending puts the server's "trending now" list in place of the old.
  function showTrending(html) {
    const old = trendingEl();
    const fresh = parseHTML(html).querySelector('[data-testid="trending"]');
    if (!old || !fresh) return;
    replaceKeepingFocus(old, fresh, () => old.replaceWith(fresh));
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

  // sourceState is where the source stands, as the last source message or
  // the server-rendered page said; "" for a source that reports none.
  let sourceState = connEl ? connEl.dataset.sourceState || "" : "";

  // showSource puts the server's banner for a source message in place of
  // the old one, with its retry time in the reader's clock, and tells the
  // header. The banner's text only changes when the state does, so that
  // screen readers read each change once.
  function showSource(msg) {
    const old = bannerEl();
    const fresh = parseHTML(msg.html).querySelector('[data-testid="source-banner"]');
    if (!old || !fresh) return;
    refreshTimes(fresh, Date.now());
    if (!old.isEqualNode(fresh)) old.replaceWith(fresh);
    sourceState = typeof msg.state === "string" ? msg.state : "";
    if (connEl) connEl.dataset.sourceState = sourceState;
    showConn();
    startCountdown();
  }

  let countdownTimer = 0;

  // startCountdown shows the time left until the banner's retry time beside
  // its text, every second until it is reached. The countdown is
  // aria-hidden: the banner's text already says the time.
  function startCountdown() {
    clearInterval(countdownTimer);
    countdownTimer = 0;
    const banner = bannerEl();
    const el = banner && byTestID(banner, "source-countdown");
    if (!el) return;
    const retryMs = banner.hidden ? NaN : Date.parse(banner.dataset.retryAt || "");
    const tick = () => {
      const s = Math.ceil((retryMs - Date.now()) / 1000);
      if (!(s > 0)) {
        el.textContent = "";
        return false;
      }
      el.textContent = s < 60 ? `(in ${s} s)` : `(in ${Math.floor(s / 60)} min ${s % 60} s)`;
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
      col.rejoinMs = 0;
      if (col.room !== msg.room) renameColumn(col, msg.room);
      const epoch = typeof msg.epoch === "string" ? msg.epoch : "";
      if (col.recovering && msg.recovered === true) {
        // The backlog that follows is everything after our since.
        setPosition(col, epoch, col.seq);
      } else if (col.recovering && msg.recovered === false) {
        // History could not fill the gap: the recent history follows,
        // above a marker that says something is missing here.
        col.list.prepend(gapMarker("unrecovered", NaN, "Some tweets could not be recovered after the connection dropped"));
        setPosition(col, epoch, 0);
      } else {
        // A fresh join: the recent history follows. Seqs start at 1, so
        // from 0 a later join recovers all of it, and keeps the marker.
        col.list.replaceChildren();
        setPosition(col, epoch, 0);
      }
      col.recovering = false;
      setCount(byTestID(col.el, "column-members"), msg.members);
      if (col.paused && col.held && Number.isSafeInteger(msg.held)) col.held.textContent = `${msg.held} new`;
    }],
    ["tweet", (msg) => {
      const col = findColumn(msg.room);
      if (!col || !Number.isSafeInteger(msg.seq) || msg.seq <= col.seq) return;
      setPosition(col, col.epoch, msg.seq);
      col.jumping = false; // a skipped for the jump comes before any tweet
      if (typeof msg.html !== "string") return;
      const card = parseHTML(msg.html).firstElementChild;
      if (!card) return;
      card.dataset.seq = String(msg.seq);
      for (const old of Array.from(col.list.children)) {
        if (old.dataset.id === card.dataset.id && old.dataset.source === card.dataset.source) old.remove();
      }
      col.list.prepend(card);
      refreshTimes(card, Date.now());
      trimList(col.list);
      col.shown = msg.seq;
      rememberPosition(col);
    }],
    ["retract", (msg) => {
      const col = findColumn(msg.room);
      if (!col) return;
      for (const card of Array.from(col.list.children)) {
        if (card.dataset.testid === "card" && card.dataset.id === msg.id) card.remove();
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
        // held is this server's extension: while paused, how many tweets
        // wait for the resume. A paused member's stats always carry it, so
        // stats without it were sent after the resume, and after the
        // skipped a jump to live gets, if anything was held.
        if (col.paused && col.held && Number.isSafeInteger(msg.held)) {
          col.held.textContent = `${msg.held} new`;
        } else if (!("held" in msg)) {
          col.jumping = false;
        }
      }
      const li = findTrend(msg.room);
      if (li) {
        setCount(byTestID(li, "trend-members"), msg.members);
        setCount(byTestID(li, "trend-rate"), msg.per_minute);
      }
    }],
    ["skipped", (msg) => {
      const col = findColumn(msg.room);
      if (!col) return;
      const n = Number.isSafeInteger(msg.count) ? msg.count : msg.to_seq - msg.from_seq + 1;
      if (!(n > 0)) return;
      const kind = col.jumping ? "jumped" : "skipped";
      col.jumping = false;
      const text = kind === "jumped"
        ? `${tweets(n)} skipped: you jumped to live`
        : `${tweets(n)} skipped: you were behind`;
      col.list.prepend(gapMarker(kind, n, text));
      trimList(col.list);
      // The marker stands for them: a reconnect does not ask for them.
      if (Number.isSafeInteger(msg.to_seq) && msg.to_seq > col.seq) setPosition(col, col.epoch, msg.to_seq);
    }],
    ["error", (msg) => {
      const text = typeof msg.message === "string" && msg.message !== ""
        ? msg.message
        : `Error: ${msg.code}`;
      const col = findColumn(msg.room);
      if (!col) {
        showNotice(pageNoticeEl, text);
      } else if (msg.code === "unavailable") {
        showNotice(col.notice, text);
        rejoinLater(col);
      } else if (JOIN_REFUSALS.has(msg.code) && !byTestID(col.list, "card")) {
        removeColumn(col);
        if (col.fromFollow) showFollowError(`${col.room}: ${text}`);
        else showNotice(pageNoticeEl, `${col.room}: ${text}`);
      } else {
        showNotice(col.notice, text);
      }
    }],
    // trends is this server's extension of the protocol: the trend list with
    // its counts, whenever it changes, with its markup.
    ["trends", (msg) => {
      if (typeof msg.html === "string") showTrends(msg.html);
    }],
    // source is this server's extension too: where the source stands with
    // its upstream, on connect and on every change, with its banner.
    ["source", (msg) => {
      if (typeof msg.html === "string") showSource(msg);
    }],
    // trending is another: the "trending now" list, on connect and when it
    // changes, with its markup.
    ["trending", (msg) => {
      if (typeof msg.html === "string") showTrending(msg.html);
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
  let connState = "connecting";
  // attempt counts reconnects since the last successful open.
  let attempt = 0;
  let retryTimer = 0;
  // stopped is set while the page is hidden for good or kept in the
  // back/forward cache, which an open socket would prevent.
  let stopped = false;

  function setConn(state) {
    connState = state;
    showConn();
  }

  // showConn tells the header where the page stands: the socket's state,
  // and while it is live, the source's when no tweet can come from it.
  function showConn() {
    if (!connEl) return;
    connEl.dataset.state = connState;
    connEl.textContent = connState === "live" && SOURCE_TEXT[sourceState]
      ? SOURCE_TEXT[sourceState]
      : CONN_TEXT[connState];
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
      // The page reads a tweet's card and seq alone: the lean variant.
      sock = new WebSocket(`${scheme}//${location.host}/ws?tweet=card`);
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
    sock.addEventListener("close", (ev) => {
      if (ws !== sock) return;
      ws = null;
      if (ev.code === 1000 && ev.reason === IDLE_CLOSE) {
        // The server closes a socket that stays in no room for long (a
        // page with no column); nothing went wrong, so open one at once.
        attempt = 0;
        connect();
        return;
      }
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
    savePositions();
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

  // ---- Projector mode -----------------------------------------------------

  function setBig(big) {
    root.classList.toggle("big", big);
    if (bigToggle) {
      bigToggle.setAttribute("aria-pressed", String(big));
      bigToggle.value = big ? "0" : "1";
    }
    writeJSON(BIG_KEY, big);
    syncURL();
  }

  // ---- User actions -------------------------------------------------------

  // A plain left click (or Enter) is the script's; one with a modifier opens
  // the link's page in another tab as the browser does.
  const plainClick = (ev) => !ev.defaultPrevented && ev.button === 0 &&
    !ev.metaKey && !ev.ctrlKey && !ev.shiftKey && !ev.altKey;

  if (trendsEl) {
    trendsEl.addEventListener("click", (ev) => {
      if (!plainClick(ev)) return;
      const link = ev.target instanceof Element ? ev.target.closest("a[data-room]") : null;
      if (!link || !trendsEl.contains(link)) return;
      ev.preventDefault();
      openColumn(link.dataset.room);
    });
  }

  // The trending list is replaced whole from time to time, so its clicks
  // are heard on the document.
  document.addEventListener("click", (ev) => {
    const list = trendingEl();
    if (!list || ev.defaultPrevented) return;
    const button = ev.target instanceof Element ? ev.target.closest("button[data-room]") : null;
    if (!button || !list.contains(button)) return;
    ev.preventDefault();
    openTag(button.dataset.room);
  });

  if (followForm) {
    const input = followForm.querySelector('input[name="open"]:not([type="hidden"])');
    followForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const room = input.value.trim();
      if (room === "") {
        input.value = "";
        input.focus();
        return;
      }
      clearFollowError();
      if (await openColumn(room, "follow")) input.value = "";
    });
    if (input) input.addEventListener("input", clearFollowError);
  }

  if (bigToggle) {
    bigToggle.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      setBig(!root.classList.contains("big"));
    });
  }

  columnsEl.addEventListener("click", (ev) => {
    const control = ev.target instanceof Element ? ev.target.closest("[data-action]") : null;
    if (!control) return;
    const col = columnOf(control);
    if (!col) return;
    switch (control.dataset.action) {
      case "close":
        if (!plainClick(ev)) return;
        ev.preventDefault();
        closeColumn(col);
        break;
      case "pause":
        togglePause(col);
        break;
      case "jump":
        jumpToLive(col);
        break;
    }
  });

  columnsEl.addEventListener("animationend", (ev) => {
    if (ev.target instanceof Element) ev.target.classList.remove("flash");
  });

  // ---- Start --------------------------------------------------------------

  // markLastVisit puts a marker in a server-rendered column where the reader
  // left it last time (same epoch): the cards above it are new since then.
  // The count is the room's: how many were published since, some of them
  // perhaps no longer shown.
  function markLastVisit(col) {
    const last = positions[col.room];
    if (!last || last.epoch !== col.epoch || last.seq >= col.seq) return;
    const cards = Array.from(col.list.querySelectorAll(':scope > [data-testid="card"]'));
    const older = cards.find((c) => Number(c.dataset.seq) <= last.seq);
    const shown = cards.filter((c) => Number(c.dataset.seq) > last.seq).length;
    // A full column may have let older new ones go; in one with room left,
    // the seqs missing are tweets their authors withdrew.
    const since = cards.length >= MAX_CARDS ? col.seq - last.seq : shown;
    const marker = gapMarker("last-visit", since, shown >= since
      ? `${tweets(since)} new since your last visit`
      : `${tweets(since)} new since your last visit, the older ${since - shown} no longer shown`);
    if (older) older.before(marker);
    else col.list.append(marker);
  }

  for (const el of columnEls()) {
    if (!el.dataset.room || findColumn(el.dataset.room)) {
      el.remove();
    } else {
      const col = registerColumn(el);
      markLastVisit(col);
      rememberPosition(col);
    }
  }
  const bigParam = new URLSearchParams(location.search).get("big");
  if (bigParam === "1" || bigParam === "0") {
    writeJSON(BIG_KEY, bigParam === "1");
  } else if (readJSON(BIG_KEY) === true) {
    root.classList.add("big");
  }
  if (bigToggle) {
    const big = root.classList.contains("big");
    bigToggle.setAttribute("aria-pressed", String(big));
    bigToggle.value = big ? "0" : "1";
  }
  syncURL();
  refreshTimes(document.body, Date.now());
  startCountdown();
  showConn();
  setInterval(() => refreshTimes(columnsEl, Date.now()), CLOCK_MS);
  connect();
})();
