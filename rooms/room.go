package rooms

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
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
}

// room is one trend's channel: its members, its sequence and its history.
// Every change to a room and every message it queues happen under its
// mutex, so each member sees joined, backlog, live tweets and left in order.
type room struct {
	name     string
	nameJSON []byte
	epoch    string
	// custom rooms were added by a join and are dropped when idle.
	custom bool

	mu        sync.Mutex
	deleted   bool // set when the hub dropped the room; a join then retries
	seq       uint64
	history   history
	members   []*member
	byClient  map[*client]*member
	published uint64    // tweets ever published, for the per-minute rate
	emptyAt   time.Time // when the last member left (custom rooms)
	rate      rateWindow
	lastStats [2]int // members and per-minute last sent
}

func newRoom(name, epoch string, historySize int, custom bool, now time.Time) *room {
	nameJSON, _ := json.Marshal(name)
	r := &room{
		name: name, nameJSON: nameJSON, epoch: epoch, custom: custom,
		history:   newHistory(historySize),
		byClient:  make(map[*client]*member),
		emptyAt:   now,
		lastStats: [2]int{-1, -1},
	}
	r.rate.observe(now, 0)
	return r
}

// join adds c to the room and queues `joined` and the backlog: the recent
// history, or everything after since when the client recovers the same
// epoch. A repeated join answers `joined` again without a backlog, unless it
// asks to recover with since. A paused join holds the backlog back, as a
// pause would have: from since when it recovers, else from the oldest tweet
// history has, and says in `joined` how many are held. It reports false
// when the room was dropped meanwhile.
func (r *room) join(c *client, epoch string, since *uint64, paused bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deleted {
		return false
	}
	m, already := r.byClient[c]
	if !already {
		m = &member{c: c, idx: len(r.members)}
		r.members = append(r.members, m)
		r.byClient[c] = m
	}
	msg := joinedMessage{Type: "joined", Room: r.name, Epoch: r.epoch, Seq: r.seq, Members: len(r.members)}
	from, backlog := uint64(0), !already // a fresh join gets all the history there is
	if since != nil {
		recovered := epoch == r.epoch && *since <= r.seq &&
			(r.history.n == 0 && *since == r.seq || r.history.n > 0 && *since+1 >= r.history.oldestSeq())
		msg.Recovered = &recovered
		backlog = true
		if recovered {
			from = *since
		}
	}
	if paused {
		if !m.paused {
			if backlog && from == 0 && r.history.n > 0 {
				from = r.history.oldestSeq() - 1
			} else if !backlog {
				from = r.seq
			}
			m.paused, m.pausedAt = true, from
		}
		held := r.heldLocked(m)
		m.lastHeld, msg.Held = held, &held
		c.send(entry{frame: encode(msg), room: r})
		return true
	}
	c.send(entry{frame: encode(msg), room: r})
	if backlog {
		r.history.after(from, func(rec *record) {
			if !rec.retracted {
				c.send(entry{frame: rec.frame, room: r, seq: rec.seq})
			}
		})
	}
	return true
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
	if len(r.members) == 0 {
		r.emptyAt = now
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
		m.paused, m.pausedAt, m.lastHeld = true, r.seq, 0
	}
	return true
}

// resume ends a pause. In replay mode it queues what was held back, as far
// as history still has it, after a `skipped` for what it no longer has; live
// mode skips all of it. It reports false when c is not a member.
func (r *room) resume(c *client, live bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.byClient[c]
	if !ok {
		return false
	}
	if !m.paused {
		return true
	}
	m.paused = false
	from := m.pausedAt + 1
	if from > r.seq {
		return true
	}
	if !live && r.history.n > 0 {
		if oldest := r.history.oldestSeq(); oldest > from {
			c.send(entry{frame: encode(skippedMessage{Type: "skipped", Room: r.name, FromSeq: from, ToSeq: oldest - 1, Count: oldest - from}), room: r})
		}
		r.history.after(m.pausedAt, func(rec *record) {
			if !rec.retracted {
				c.send(entry{frame: rec.frame, room: r, seq: rec.seq})
			}
		})
		return true
	}
	c.send(entry{frame: encode(skippedMessage{Type: "skipped", Room: r.name, FromSeq: from, ToSeq: r.seq, Count: r.seq - from + 1}), room: r})
	return true
}

// publish gives t the room's next seq, keeps it in history and queues it
// for every member that is not paused. The frame is built once and shared.
func (r *room) publish(t *stream.Tweet, matched []string, f *tweetFrame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.published++
	frame := f.appendTo(make([]byte, 0, f.size(r.nameJSON)), r.nameJSON, r.seq)
	r.history.push(record{seq: r.seq, tweet: *t, matched: matched, frame: frame})
	e := entry{frame: frame, room: r, seq: r.seq}
	for _, m := range r.members {
		if !m.paused {
			m.c.send(e)
		}
	}
}

// retract withdraws a tweet from history and tells every member. It reports
// whether the room had it.
func (r *room) retract(source, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.history.find(source, id)
	if rec == nil {
		return false
	}
	rec.retracted, rec.frame, rec.tweet, rec.matched = true, nil, stream.Tweet{}, nil
	frame := encode(retractMessage{Type: "retract", Room: r.name, Seq: rec.seq, ID: id})
	for _, m := range r.members {
		m.c.send(entry{frame: frame, room: r})
	}
	return true
}

// openSnapshot is snapshot for a page that shows the room: it counts as
// watching it at now. It reports false when the room was dropped.
func (r *room) openSnapshot(now time.Time) (Snapshot, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deleted {
		return Snapshot{}, false
	}
	if len(r.members) == 0 {
		r.emptyAt = now
	}
	return r.snapshotLocked(), true
}

// snapshot returns what a page needs to render the room's column.
func (r *room) snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snapshotLocked()
}

func (r *room) snapshotLocked() Snapshot {
	s := Snapshot{Room: r.name, Epoch: r.epoch, Seq: r.seq, Members: len(r.members), PerMinute: r.lastStats[1]}
	if s.PerMinute < 0 {
		s.PerMinute = 0
	}
	r.history.after(0, func(rec *record) {
		if !rec.retracted {
			s.Tweets = append(s.Tweets, Item{Seq: rec.seq, Tweet: rec.tweet, Matched: rec.matched})
		}
	})
	return s
}

// tick samples the publish rate and, when members or the rate changed since
// the last tick, queues `stats` for every member. A paused member also gets
// it when the count of tweets held back for it grew, with that count: its
// own message, where the others share one. It returns the room's summary.
func (r *room) tick(now time.Time) Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	perMinute := r.rate.observe(now, r.published)
	stats := [2]int{len(r.members), perMinute}
	changed := stats != r.lastStats
	r.lastStats = stats
	var shared []byte
	for _, m := range r.members {
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
			shared = encode(msg)
		}
		m.c.send(entry{frame: shared, room: r})
	}
	return Summary{Room: r.name, Members: stats[0], PerMinute: perMinute, Custom: r.custom}
}

// heldLocked counts the tweets held back for the paused member m: those
// published since its pause, less those their authors withdrew, which a
// resume will not send.
func (r *room) heldLocked(m *member) uint64 {
	return r.seq - m.pausedAt - r.history.retractedAfter(m.pausedAt)
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
