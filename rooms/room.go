package rooms

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// member is a connection's place in a room.
type member struct {
	c   *client
	idx int // position in room.members
	// While paused, the room holds back tweets after pausedAt and only
	// counts them; lastHeld is the count the member was last told.
	paused   bool
	pausedAt uint64
	lastHeld uint64
	// sent is the last seq the member was given, or had in a backlog: a
	// tweet at or below it is not sent again.
	sent uint64
	// While the member waits for its backlog from the broker (a join, a
	// resume), syncing holds the token of that wait, and what the room
	// delivers meanwhile waits in pending, in order, to follow the backlog.
	// Only the connection's own reader starts a wait, one at a time.
	syncing uint64
	pending []entry
	// lost is the range of tweets pending had to let go, past maxPending.
	lost [2]uint64
}

// maxPending bounds what a member keeps while it waits for its backlog;
// past it, the oldest tweets become a `skipped`.
const maxPending = 4096

// maxRetracted bounds the retracted seqs a room remembers for counting what
// a paused member holds: far more than any history holds.
const maxRetracted = 1024

// historyTimeout bounds a wait for a room's history from the broker.
const historyTimeout = 5 * time.Second

// room is one trend's channel on this node: its members and where its
// stream stands here. The broker owns the room's sequence and history.
// Every change to a room and every message it queues happen under its
// mutex, so each member sees joined, backlog, live tweets and left in order.
type room struct {
	name     string
	nameJSON []byte

	mu sync.Mutex
	// custom rooms were added by a join and are dropped when idle.
	custom  bool
	addedBy string // the client address a custom room counts against; h.mu guards it
	deleted bool   // set when the hub dropped the room; a join then retries
	// epoch and seq are the latest position this node knows of, from what
	// was delivered and from the histories read; last is the last seq the
	// broker delivered. On a web node a history can be ahead of the
	// deliveries still on their way.
	epoch    string
	seq      uint64
	last     uint64
	members  []*member
	byClient map[*client]*member
	// remote counts the room's members on the cluster's other nodes.
	remote int
	// retracted lists the seqs of this epoch withdrawn, ascending.
	retracted []uint64
	syncs     uint64 // the last sync token given out
	published uint64 // tweets ever delivered, for the per-minute rate
	// emptyAt is when the room was last watched anywhere in the cluster
	// (a member left, a page showed it, another node reported members),
	// for dropping idle custom trends; leftAt is when its last member on
	// this node left, for unsubscribing.
	emptyAt   time.Time
	leftAt    time.Time
	rate      rateWindow
	lastStats [2]int // members and per-minute last sent
	// followedRate is the per-minute rate the sequencing node reports,
	// used instead of the room's own on a node that follows one.
	followedRate int
	// readdedAt is when this node last asked the sequencing node to follow
	// the room's trend again.
	readdedAt time.Time

	// subMu serialises subscribing and unsubscribing the room.
	subMu      sync.Mutex
	subscribed bool

	// counters are the hub's, which the room adds its deliveries and
	// memberships to.
	counters *hubCounters
}

func newRoom(name string, custom bool, now time.Time, counters *hubCounters) *room {
	nameJSON, _ := json.Marshal(name)
	r := &room{
		name: name, nameJSON: nameJSON, custom: custom, counters: counters,
		byClient:  make(map[*client]*member),
		emptyAt:   now,
		leftAt:    now,
		lastStats: [2]int{-1, -1},
	}
	r.rate.observe(now, 0)
	return r
}

// membersLocked counts the room's members across the cluster.
func (r *room) membersLocked() int { return len(r.members) + r.remote }

// join adds c to the room and queues `joined` and the backlog: the recent
// history, or everything after since when the client recovers the same
// epoch. A repeated join answers `joined` again without a backlog, unless it
// asks to recover with since. A paused join holds the backlog back, as a
// pause would have: from since when it recovers, else from the oldest tweet
// history has, and says in `joined` how many are held. It reports false
// when the room was dropped meanwhile, and fails when the broker cannot say
// where the room stands; a fresh member is then not added.
//
// The backlog comes from the broker, asked with the room's lock released:
// the member is in the room first (subscribe first), and what arrives
// while it waits follows its backlog, without what the backlog had.
func (h *Hub) joinRoom(r *room, c *client, epoch string, since *uint64, paused bool) (bool, error) {
	r.mu.Lock()
	if r.deleted {
		r.mu.Unlock()
		return false, nil
	}
	m, already := r.byClient[c]
	if already && since == nil {
		defer r.mu.Unlock()
		msg := joinedMessage{Type: "joined", Room: r.name, Epoch: r.epoch, Seq: r.seq, Members: r.membersLocked()}
		if paused {
			if !m.paused {
				m.paused, m.pausedAt, m.lastHeld = true, max(r.last, m.sent), 0
			}
			held := r.heldLocked(m)
			m.lastHeld, msg.Held = held, &held
		}
		c.send(entry{frame: encode(msg), room: r})
		return true, nil
	}
	if !already {
		m = r.addLocked(c)
	}
	token := r.startSyncLocked(m)
	r.mu.Unlock()

	hist, err := h.historyFor(r, since, epoch)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byClient[c] != m || m.syncing != token {
		return true, nil // a new epoch restarted the member meanwhile
	}
	if err != nil {
		if already {
			// Still a member: what came meanwhile is its own.
			r.finishSyncLocked(m, 0)
		} else {
			m.syncing, m.pending = 0, nil
			r.removeLocked(c, time.Now())
		}
		return true, err
	}
	r.learnLocked(&hist)
	msg := joinedMessage{Type: "joined", Room: r.name, Epoch: hist.Epoch, Seq: hist.Seq, Members: r.membersLocked()}
	from := uint64(0)
	if since != nil {
		recovered := hist.covers(epoch, *since)
		msg.Recovered = &recovered
		r.counters.countRecovery(recovered)
		if recovered {
			from = *since
		}
	}
	if paused && !m.paused {
		if from == 0 && hist.Oldest > 0 {
			from = hist.Oldest - 1
		}
		m.paused, m.pausedAt = true, from
		m.sent = max(m.sent, from)
	}
	if paused {
		r.finishSyncLocked(m, hist.Seq)
		held := r.heldLocked(m)
		m.lastHeld, msg.Held = held, &held
		c.send(entry{frame: encode(msg), room: r})
		return true, nil
	}
	c.send(entry{frame: encode(msg), room: r})
	r.sendBacklogLocked(c, hist.Pubs, from, since != nil && *msg.Recovered)
	r.finishSyncLocked(m, hist.Seq)
	return true, nil
}

// sendBacklogLocked queues the tweets of pubs after seq from for c, as
// many as its queue has room for: a backlog larger than that would push
// itself out of the queue, and the same part of it again at every retry.
// A recovery keeps the oldest that fit, so that each join with since
// moves on from where the last one stopped; a fresh join keeps the
// newest, which the page shows first. What does not fit is skipped, in
// its place. At least one tweet always goes.
func (r *room) sendBacklogLocked(c *client, pubs []Pub, from uint64, recovering bool) {
	first := 0
	for first < len(pubs) && (pubs[first].Seq <= from || pubs[first].Retracted) {
		first++
	}
	pubs = pubs[first:]
	if len(pubs) == 0 {
		return
	}
	room := c.queueRoom() - entryOverhead // and room for a skip
	// Each tweet's entry is made once, to weigh it and to send it.
	entries := make([]entry, len(pubs))
	fits := func(i int) bool {
		if pubs[i].Retracted {
			return true
		}
		entries[i] = r.tweetEntry(&pubs[i], c)
		room -= len(entries[i].frame) + entryOverhead
		return room >= 0
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if !pubs[i].Retracted {
				c.send(entries[i])
			}
		}
	}
	if recovering {
		fits(0) // the oldest goes whatever its size
		n := 1
		for n < len(pubs) && fits(n) {
			n++
		}
		send(0, n)
		if n < len(pubs) {
			c.send(r.skipEntry(pubs[n].Seq, pubs[len(pubs)-1].Seq))
		}
		return
	}
	n := len(pubs) - 1
	fits(n) // the newest goes whatever its size
	for n > 0 && fits(n-1) {
		n--
	}
	if n > 0 {
		c.send(r.skipEntry(pubs[0].Seq, pubs[n-1].Seq))
	}
	send(n, len(pubs))
}

// sendPubs queues pubs for c, but for those retracted.
func (r *room) sendPubs(c *client, pubs []Pub) {
	for i := range pubs {
		if !pubs[i].Retracted {
			c.send(r.tweetEntry(&pubs[i], c))
		}
	}
}

// tweetEntry is p's message as c reads it, outside a live delivery.
func (r *room) tweetEntry(p *Pub, c *client) entry {
	frame := p.message(r.nameJSON, r.counters).form(c.variant, c.packed)
	return entry{frame: frame, room: r, seq: p.Seq, packed: c.packed}
}

// historyFor asks the broker for the room's history after since, or all
// of it when since is nil or cannot be recovered from.
func (h *Hub) historyFor(r *room, since *uint64, epoch string) (History, error) {
	ctx, cancel := context.WithTimeout(h.ctx, historyTimeout)
	defer cancel()
	if err := h.subscribe(ctx, r); err != nil {
		return History{}, err
	}
	if since == nil || *since == 0 {
		return h.broker.History(ctx, r.name, 0)
	}
	hist, err := h.broker.History(ctx, r.name, *since)
	if err != nil || hist.covers(epoch, *since) {
		return hist, err
	}
	return h.broker.History(ctx, r.name, 0)
}

// addLocked makes c a member.
func (r *room) addLocked(c *client) *member {
	m := &member{c: c, idx: len(r.members)}
	r.members = append(r.members, m)
	r.byClient[c] = m
	r.counters.memberships.Add(1)
	return m
}

// startSyncLocked makes m wait for a backlog, and returns the wait's token.
func (r *room) startSyncLocked(m *member) uint64 {
	r.syncs++
	m.syncing, m.pending, m.lost = r.syncs, nil, [2]uint64{}
	return r.syncs
}

// finishSyncLocked ends m's wait for a backlog that went up to upTo: what
// arrived meanwhile and the backlog did not have goes out after it (for a
// paused member, only what is not a tweet).
func (r *room) finishSyncLocked(m *member, upTo uint64) {
	pending, lost := m.pending, m.lost
	m.syncing, m.pending, m.lost = 0, nil, [2]uint64{}
	if m.paused {
		for _, e := range pending {
			if !e.isTweet() && !e.skip {
				m.c.send(e)
			}
		}
		return
	}
	m.sent = max(m.sent, upTo)
	if lost[1] > m.sent {
		// The tweets dropped were the oldest; every skip still pending
		// before them is older still, and is folded into the range.
		lo := lost[0]
		for _, e := range pending {
			if e.skip && e.from < lo {
				lo = e.from
			}
		}
		m.c.send(r.skippedEntry(max(lo, m.sent+1), lost[1]))
		m.sent = lost[1]
	}
	for _, e := range pending {
		switch {
		case e.isTweet():
			if e.seq > m.sent {
				m.c.send(e)
				m.sent = e.seq
			}
		case e.skip:
			if e.to > m.sent {
				m.c.send(r.skipEntry(max(e.from, m.sent+1), e.to))
				m.sent = e.to
			}
		default:
			m.c.send(e)
		}
	}
}

// deliverLocked queues e for m, or keeps it for after m's backlog.
func (r *room) deliverLocked(m *member, e entry) {
	if m.syncing == 0 {
		m.c.send(e)
		return
	}
	if len(m.pending) == maxPending {
		i := slices.IndexFunc(m.pending, func(e entry) bool { return e.isTweet() })
		if i >= 0 {
			if m.lost[1] == 0 {
				m.lost[0] = m.pending[i].seq
			}
			m.lost[1] = m.pending[i].seq
			m.pending = slices.Delete(m.pending, i, i+1)
		}
	}
	m.pending = append(m.pending, e)
}

// learnLocked takes from a history what the room did not know: the
// tweets retracted, and its position. A history of another epoch is the
// room's position when no member relies on the old one (all of them wait
// for a backlog): the room was not followed while its stream started
// over. Otherwise the broker's reset is on its way, and will start every
// member over.
func (r *room) learnLocked(h *History) {
	if h.Epoch != r.epoch && !r.hasLiveMemberLocked() {
		r.startEpochLocked(h.Epoch, h.Seq, 0)
	}
	if h.Epoch != r.epoch {
		return
	}
	r.seq = max(r.seq, h.Seq)
	for _, p := range h.Pubs {
		if p.Retracted {
			r.noteRetractedLocked(p.Seq)
		}
	}
}

// startEpochLocked makes epoch the room's stream, standing at seq, of
// which the broker has delivered up to last: what the room knew of the
// epoch before is forgotten.
func (r *room) startEpochLocked(epoch string, seq, last uint64) {
	r.epoch, r.seq, r.last, r.retracted = epoch, seq, last, nil
}

// hasLiveMemberLocked reports whether a member has its backlog and
// follows the room's stream live.
func (r *room) hasLiveMemberLocked() bool {
	return slices.ContainsFunc(r.members, func(m *member) bool { return m.syncing == 0 })
}

// leave removes c and queues `left`. It reports false when c was not in the
// room.
func (r *room) leave(c *client, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.removeLocked(c, now) {
		return false
	}
	c.send(entry{frame: encode(leftMessage{Type: "left", Room: r.name}), room: r})
	return true
}

// drop removes c without a word: its connection is gone.
func (r *room) drop(c *client, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(c, now)
}

func (r *room) removeLocked(c *client, now time.Time) bool {
	m, ok := r.byClient[c]
	if !ok {
		return false
	}
	last := r.members[len(r.members)-1]
	r.members[m.idx], last.idx = last, m.idx
	r.members[len(r.members)-1] = nil
	r.members = r.members[:len(r.members)-1]
	delete(r.byClient, c)
	r.counters.memberships.Add(-1)
	if len(r.members) == 0 {
		r.emptyAt, r.leftAt = now, now
	}
	return true
}

// pause holds back c's tweets; it reports false when c is not a member.
func (r *room) pause(c *client) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.byClient[c]
	if !ok {
		return false
	}
	if !m.paused {
		m.paused, m.pausedAt, m.lastHeld = true, max(r.last, m.sent), 0
	}
	return true
}

// resume ends a pause. In replay mode it queues what was held back, as far
// as history still has it, after a `skipped` for what it no longer has; live
// mode skips all of it. It reports false when c is not a member.
func (h *Hub) resumeRoom(r *room, c *client, live bool) bool {
	r.mu.Lock()
	m, ok := r.byClient[c]
	if !ok || !m.paused {
		r.mu.Unlock()
		return ok
	}
	m.paused = false
	// Up to what the broker delivered: a history read ahead of that may
	// not hold what is still on its way, which then follows as any tweet.
	from, upTo := m.pausedAt+1, r.last
	if from > upTo {
		r.mu.Unlock()
		return true
	}
	if live {
		defer r.mu.Unlock()
		c.send(r.skippedEntry(from, upTo))
		m.sent = max(m.sent, upTo)
		return true
	}
	token, epoch := r.startSyncLocked(m), r.epoch
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(h.ctx, historyTimeout)
	hist, err := h.broker.History(ctx, r.name, from-1)
	cancel()

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byClient[c] != m || m.syncing != token {
		return true
	}
	if err != nil || hist.Epoch != epoch {
		// Never a silent gap: what the broker could not give is skipped.
		c.send(r.skippedEntry(from, upTo))
		r.finishSyncLocked(m, upTo)
		return true
	}
	if hist.Oldest == 0 || hist.Oldest > from {
		to := hist.Seq
		if hist.Oldest > 0 {
			to = hist.Oldest - 1
		}
		if to >= from {
			c.send(r.skippedEntry(from, to))
		}
	}
	for i, p := range hist.Pubs {
		if p.Seq >= from && !p.Retracted {
			c.send(r.tweetEntry(&hist.Pubs[i], c))
		}
	}
	if hist.Seq < upTo {
		// Delivered while paused, yet not in the history read: skipped.
		c.send(r.skippedEntry(max(from, hist.Seq+1), upTo))
	}
	r.finishSyncLocked(m, max(hist.Seq, upTo))
	return true
}

// skippedEntry is a `skipped` message for from..to, as it is written.
func (r *room) skippedEntry(from, to uint64) entry {
	return entry{frame: encode(skippedMessage{Type: "skipped", Room: r.name, FromSeq: from, ToSeq: to, Count: to - from + 1}), room: r, from: from, to: to}
}

// skipEntry is a skip of from..to, which the writer turns into `skipped`,
// or a later drop of the queue widens.
func (r *room) skipEntry(from, to uint64) entry {
	return entry{skip: true, room: r, from: from, to: to}
}

// deliver queues a tweet of the room's stream for every member that is not
// paused. A seq the room has delivered already is dropped.
func (r *room) deliver(epoch string, p Pub) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if epoch != r.epoch {
		if r.epoch != "" && r.hasLiveMemberLocked() {
			return // the broker's reset is on its way; this is a late one
		}
		// No member relies on the old epoch: the room was not followed
		// while its stream started over.
		r.startEpochLocked(epoch, 0, 0)
	}
	if p.Seq <= r.last {
		return
	}
	r.last, r.seq = p.Seq, max(r.seq, p.Seq)
	r.published++
	ingestedAt := p.ingestedAt()
	msg := p.message(r.nameJSON, r.counters)
	// Each form is asked for once per delivery, not once per member.
	var forms [numVariants][2][]byte
	form := func(c *client) entry {
		packed := 0
		if c.packed {
			packed = 1
		}
		f := &forms[c.variant][packed]
		if *f == nil {
			*f = msg.form(c.variant, c.packed)
		}
		return entry{frame: *f, room: r, seq: p.Seq, ingestedAt: ingestedAt, packed: c.packed}
	}
	delivered := uint64(0)
	for _, m := range r.members {
		switch {
		case m.paused:
		case m.syncing != 0:
			r.deliverLocked(m, form(m.c))
			delivered++
		case p.Seq > m.sent:
			m.c.send(form(m.c))
			m.sent = p.Seq
			delivered++
		}
	}
	r.counters.deliveries.Add(delivered)
}

// retract tells every member that the tweet at seq was withdrawn.
func (r *room) retract(seq uint64, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.noteRetractedLocked(seq)
	shared := newSharedFrame(encode(retractMessage{Type: "retract", Room: r.name, Seq: seq, ID: id}))
	for _, m := range r.members {
		r.deliverLocked(m, shared.entryFor(m.c, r))
	}
}

// skip tells every member that is not paused that the tweets from..to were
// lost on the way to this node.
func (r *room) skip(from, to uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if to <= r.last {
		return
	}
	from = max(from, r.last+1)
	r.last, r.seq = to, max(r.seq, to)
	for _, m := range r.members {
		switch {
		case m.paused:
		case m.syncing != 0:
			r.deliverLocked(m, r.skipEntry(from, to))
		case to > m.sent:
			m.c.send(r.skipEntry(max(from, m.sent+1), to))
			m.sent = to
		}
	}
}

// reset starts the room over from a new epoch: every member gets a fresh
// `joined` with recovered false, then the new epoch's history (a paused
// member holds it, and is told how much).
func (r *room) reset(h *History) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startEpochLocked(h.Epoch, h.Seq, h.Seq)
	r.learnLocked(h)
	recovered := false
	for _, m := range r.members {
		m.syncing, m.pending, m.lost, m.sent = 0, nil, [2]uint64{}, h.Seq
		msg := joinedMessage{Type: "joined", Room: r.name, Epoch: h.Epoch, Seq: h.Seq, Members: r.membersLocked(), Recovered: &recovered}
		if m.paused {
			m.pausedAt, m.sent = 0, 0
			if h.Oldest > 0 {
				m.pausedAt, m.sent = h.Oldest-1, h.Oldest-1
			}
			held := r.heldLocked(m)
			m.lastHeld, msg.Held = held, &held
			m.c.send(entry{frame: encode(msg), room: r})
			continue
		}
		m.c.send(entry{frame: encode(msg), room: r})
		r.sendPubs(m.c, h.Pubs)
	}
}

// noteRetractedLocked remembers that the tweet at seq was withdrawn.
func (r *room) noteRetractedLocked(seq uint64) {
	i, found := slices.BinarySearch(r.retracted, seq)
	if found {
		return
	}
	r.retracted = slices.Insert(r.retracted, i, seq)
	if len(r.retracted) > maxRetracted {
		r.retracted = slices.Delete(r.retracted, 0, len(r.retracted)-maxRetracted)
	}
}

// heldLocked counts the tweets held back for the paused member m: those
// published since its pause, less those their authors withdrew, which a
// resume will not send.
func (r *room) heldLocked(m *member) uint64 {
	if r.seq <= m.pausedAt {
		return 0
	}
	i, _ := slices.BinarySearch(r.retracted, m.pausedAt+1)
	return r.seq - m.pausedAt - uint64(len(r.retracted)-i)
}

// unsubscribed reports whether the room is not subscribed, and not being
// subscribed either; it never waits.
func (r *room) unsubscribed() bool {
	if !r.subMu.TryLock() {
		return false
	}
	defer r.subMu.Unlock()
	return !r.subscribed
}

// watch counts a page that shows the room as someone watching it at now.
// It reports false when the room was dropped.
func (r *room) watch(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deleted {
		return false
	}
	if len(r.members) == 0 {
		r.emptyAt = now
	}
	return true
}

// summary returns the room's line of the trend list, as of the last tick.
func (r *room) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Summary{Room: r.name, Members: r.membersLocked(), PerMinute: max(r.lastStats[1], 0), Custom: r.custom}
}

// tick samples the publish rate and, when members or the rate changed since
// the last tick, queues `stats` for every member. A paused member also gets
// it when the count of tweets held back for it grew, with that count: its
// own message, where the others share one. A member still waiting for its
// backlog is left out. It returns the room's summary.
func (r *room) tick(now time.Time, following bool) Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	perMinute := r.rate.observe(now, r.published)
	if following {
		perMinute = r.followedRate
	}
	if r.remote > 0 {
		r.emptyAt = now
	}
	stats := [2]int{r.membersLocked(), perMinute}
	changed := stats != r.lastStats
	r.lastStats = stats
	var shared *sharedFrame
	for _, m := range r.members {
		if m.syncing != 0 {
			continue
		}
		msg := statsMessage{Type: "stats", Room: r.name, Members: stats[0], PerMinute: stats[1]}
		if m.paused {
			held := r.heldLocked(m)
			if !changed && held == m.lastHeld {
				continue
			}
			m.lastHeld = held
			msg.Held = &held
			m.c.send(entry{frame: encode(msg), room: r})
			continue
		}
		if !changed {
			continue
		}
		if shared == nil {
			shared = newSharedFrame(encode(msg))
		}
		m.c.send(shared.entryFor(m.c, r))
	}
	return Summary{Room: r.name, Members: stats[0], PerMinute: perMinute, Custom: r.custom}
}

// rateWindow turns a growing counter into a count over the last minute,
// from samples taken at each stats tick.
type rateWindow struct {
	samples [64]rateSample
	n, next int
}

type rateSample struct {
	at    time.Time
	total uint64
}

// observe records total at now and returns how much it grew in the last
// minute (or since the first sample, while there is less than a minute).
func (w *rateWindow) observe(now time.Time, total uint64) int {
	w.samples[w.next] = rateSample{at: now, total: total}
	w.next = (w.next + 1) % len(w.samples)
	if w.n < len(w.samples) {
		w.n++
	}
	base := total
	cutoff := now.Add(-time.Minute)
	for i := 1; i <= w.n; i++ {
		s := w.samples[(w.next-i+len(w.samples))%len(w.samples)]
		if s.at.Before(cutoff) {
			break
		}
		base = s.total
	}
	return int(total - base)
}
