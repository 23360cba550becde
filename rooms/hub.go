// Package rooms routes tweets to the WebSocket connections that follow their
// trends: one room per trend, socket.io style, speaking the live protocol of
// docs/PROTOCOL.md. A Hub owns the rooms and the connections; the ingester
// publishes to it, and it serves /ws.
package rooms

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// TrendSet is the live set of trends that the ingester matches; a join for
// a trend it lacks adds it. *stream.Trends implements it.
type TrendSet interface {
	// List returns the trends, configured ones first.
	List() []string
	// Add adds a custom trend, failing with an error that wraps
	// stream.ErrTooManyTrends when the set is full.
	Add(trend string) (added bool, err error)
	// Remove drops a custom trend.
	Remove(trend string) bool
}

var _ TrendSet = (*stream.Trends)(nil)

// RenderFunc renders a tweet's card as HTML, with everything from the source
// escaped and the words of the matched trends marked. It is called once per
// published tweet.
type RenderFunc func(t stream.Tweet, matched []string) (string, error)

// RenderTrendsFunc renders the entries of the trend list as HTML, for the
// html field of `trends` messages. It is called once per change of the list.
type RenderTrendsFunc func([]Summary) (string, error)

// Config configures a Hub. Each zero value means the default it names.
type Config struct {
	// Trends is the live trend set; required. Its trends at NewHub become
	// the configured rooms.
	Trends TrendSet
	// Render renders the `html` field of tweet messages; nil sends "".
	Render RenderFunc
	// RenderTrends renders the `html` field of trends messages; nil sends
	// none.
	RenderTrends RenderTrendsFunc
	// Logger receives the hub's logs; nil means slog.Default().
	Logger *slog.Logger
	// History is how many tweets each room keeps for backlog and recovery;
	// zero means 100.
	History int
	// MaxRoomsPerConn caps the rooms one connection is in; zero means 20.
	MaxRoomsPerConn int
	// QueueBytes bounds each connection's outbound queue; past it, the
	// oldest tweets are dropped and reported as skipped. Zero means 256 KiB,
	// or room for a whole backlog of History tweets of 2 KiB if that is more.
	QueueBytes int
	// StatsInterval is how often rooms send `stats` and the hub sends
	// `trends`, when they changed; zero means 2 s.
	StatsInterval time.Duration
	// FlushInterval is how often connections write what they have queued:
	// batching writes saves system calls, at the cost of up to this much
	// latency. Zero means 20 ms; negative means write at once.
	FlushInterval time.Duration
	// IdleTrendTTL is how long a custom trend stays once its room has no
	// member; zero means 10 minutes.
	IdleTrendTTL time.Duration
	// MessageRate is how many messages per second a client may send, with
	// bursts of twice that; zero means 20.
	MessageRate float64
	// AllowedOrigins lists the browser origins, besides the server's own,
	// that may open a WebSocket ("https://example.com"); "*" allows any.
	AllowedOrigins []string
}

// Hub owns the rooms and the connections. Create it with NewHub, run its
// Run loop, serve it at /ws, and Close it on shutdown.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	epoch  string        // this process's epoch; rooms add a generation
	gen    atomic.Uint64 // room generations, so a re-created room gets a new epoch
	render RenderFunc

	mu      sync.RWMutex
	rooms   map[string]*room
	order   []*room // configured rooms first, then custom ones as created
	clients map[*client]struct{}
	// announced holds the latest announcement of each kind, in the order
	// the kinds first came, for new connections.
	announced []announcement
	closing   bool
	conns     sync.WaitGroup // connection goroutines

	// handedOver counts connections whose reads were left to the websocket
	// library after an unusual frame (see frameConn).
	handedOver atomic.Int64
	// writersStarted counts the writer goroutines started.
	writersStarted atomic.Int64

	// lastTrends is the last `trends` frame rendered, which a new
	// connection gets while the list is still the same (see trendsOnConnect).
	lastTrends atomic.Pointer[trendsFrame]
	// trends is the last `trends` message sent, the same without rates, and
	// when it was sent; owned by Run.
	trends struct {
		last, key []byte
		at        time.Time
	}

	// The connections with messages for the next flush.
	dirtyMu  sync.Mutex
	dirty    []*client
	batching bool // false: writers write at once
}

var _ stream.Publisher = (*Hub)(nil)

// NewHub returns a hub with one room for each trend in cfg.Trends.
func NewHub(cfg Config) (*Hub, error) {
	if cfg.Trends == nil {
		return nil, errors.New("rooms: Config.Trends is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	setDefault(&cfg.History, 100)
	setDefault(&cfg.MaxRoomsPerConn, 20)
	setDefault(&cfg.QueueBytes, max(256<<10, cfg.History*2<<10))
	setDefault(&cfg.StatsInterval, 2*time.Second)
	setDefault(&cfg.IdleTrendTTL, 10*time.Minute)
	setDefault(&cfg.FlushInterval, 20*time.Millisecond)
	setDefault(&cfg.MessageRate, 20)
	if cfg.History < 0 || cfg.MaxRoomsPerConn < 0 || cfg.QueueBytes < 0 {
		return nil, errors.New("rooms: History, MaxRoomsPerConn and QueueBytes must not be negative")
	}
	h := &Hub{
		cfg:      cfg,
		log:      cfg.Logger,
		epoch:    newEpoch(),
		render:   cfg.Render,
		rooms:    make(map[string]*room),
		clients:  make(map[*client]struct{}),
		batching: cfg.FlushInterval > 0,
	}
	now := time.Now()
	for _, t := range cfg.Trends.List() {
		h.addRoomLocked(t, false, now)
	}
	return h, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (h *Hub) addRoomLocked(name string, custom bool, now time.Time) *room {
	epoch := h.epoch + strconv.FormatUint(h.gen.Add(1), 36)
	r := newRoom(name, epoch, h.cfg.History, custom, now)
	h.rooms[name] = r
	h.order = append(h.order, r)
	return r
}

// join puts c in the room for name (normalised), creating the room and
// adding name as a custom trend when needed.
func (h *Hub) join(c *client, name, epoch string, since *uint64, paused bool) (*room, error) {
	for {
		r, err := h.roomFor(name)
		if err != nil {
			return nil, err
		}
		if r.join(c, epoch, since, paused) {
			return r, nil
		}
		// The idle sweep dropped the room between the lookup and the join.
	}
}

func (h *Hub) roomFor(name string) (*room, error) {
	h.mu.RLock()
	r := h.rooms[name]
	h.mu.RUnlock()
	if r != nil {
		return r, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[name]; r != nil {
		return r, nil
	}
	if _, err := h.cfg.Trends.Add(name); err != nil {
		return nil, err
	}
	h.log.Info("custom trend added", "trend", name)
	return h.addRoomLocked(name, true, time.Now()), nil
}

// Publish routes t to the rooms of the trends it matched. The card is
// rendered and the tweet encoded once; each room adds only its name and seq.
func (h *Hub) Publish(t stream.Tweet, matched []string) {
	html := ""
	if h.render != nil {
		var err error
		if html, err = h.render(t, matched); err != nil {
			h.log.Error("rendering a tweet card", "id", t.ID, "err", err)
			html = ""
		}
	}
	scratch := framePool.Get().(*[]byte)
	defer framePool.Put(scratch)
	f := newTweetFrame((*scratch)[:0], &t, matched, html)
	*scratch = f.buf

	var buf [8]*room
	rs := buf[:0]
	h.mu.RLock()
	for _, name := range matched {
		if r := h.rooms[name]; r != nil {
			rs = append(rs, r)
		}
	}
	h.mu.RUnlock()
	for _, r := range rs {
		r.publish(&t, matched, &f)
	}
}

// Retract withdraws a tweet from every room's history and tells the members
// that may have it.
func (h *Hub) Retract(source, id string) {
	h.mu.RLock()
	rs := slices.Clone(h.order)
	h.mu.RUnlock()
	for _, r := range rs {
		r.retract(source, id)
	}
}

// Summary is one room's line in the trend list.
type Summary struct {
	Room      string `json:"room"`
	Members   int    `json:"members"`
	PerMinute int    `json:"per_minute"`
	Custom    bool   `json:"custom"`
}

// Snapshot is what a page needs to render a room's column.
type Snapshot struct {
	Room      string
	Epoch     string
	Seq       uint64
	Members   int
	PerMinute int
	// Tweets is the room's history, oldest first.
	Tweets []Item
}

// Item is one tweet of a room's history.
type Item struct {
	// Seq is the tweet's seq in the room.
	Seq   uint64
	Tweet stream.Tweet
	// Matched lists every trend the tweet matched, this room's among them.
	Matched []string
}

// Snapshot returns the state of the room for name (normalised), and false
// when there is no such room yet.
func (h *Hub) Snapshot(name string) (Snapshot, bool) {
	h.mu.RLock()
	r := h.rooms[name]
	h.mu.RUnlock()
	if r == nil {
		return Snapshot{}, false
	}
	return r.snapshot(), true
}

// Open returns the state of the room for name (normalised) as Snapshot
// does, first creating the room, and adding name as a custom trend, when
// there is none: a page that shows a trend's column follows it as a join
// would, so that its tweets gather for a reader without a WebSocket too.
// It fails as a join does when the trend set is full (the error wraps
// stream.ErrTooManyTrends).
//
// A render counts as someone watching: a custom room with no member stays
// for IdleTrendTTL after the last page that showed it.
func (h *Hub) Open(name string) (Snapshot, error) {
	for {
		r, err := h.roomFor(name)
		if err != nil {
			return Snapshot{}, err
		}
		if s, ok := r.openSnapshot(time.Now()); ok {
			return s, nil
		}
		// The idle sweep dropped the room between the lookup and now.
	}
}

// Has reports whether there is a room for name (normalised).
func (h *Hub) Has(name string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.rooms[name] != nil
}

// Summaries returns every room's line of the trend list, configured trends
// first.
func (h *Hub) Summaries() []Summary {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.summariesLocked()
}

// summariesLocked is Summaries with h.mu held.
func (h *Hub) summariesLocked() []Summary {
	out := make([]Summary, len(h.order))
	for i, r := range h.order {
		r.mu.Lock()
		out[i] = Summary{Room: r.name, Members: len(r.members), PerMinute: max(r.lastStats[1], 0), Custom: r.custom}
		r.mu.Unlock()
	}
	return out
}

// Run sends `stats` to the members of each room that changed, `trends` to
// every connection when the list changed, and drops custom trends idle for
// longer than IdleTrendTTL, every StatsInterval until ctx is done.
//
// It also paces the connections' writers. A connection that has messages
// is marked dirty, and every FlushInterval the hub wakes the writers of
// the dirty ones, so that each writes all it gathered meanwhile at once.
// Every writerIdle it tells writers that had nothing to write since the
// last sweep to end, and every pingPeriod it pings every connection. Writers
// write at once when the interval is negative, or once Run has returned.
func (h *Hub) Run(ctx context.Context) error {
	stats := time.NewTicker(h.cfg.StatsInterval)
	defer stats.Stop()
	sweep := time.NewTicker(writerIdle)
	defer sweep.Stop()
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	var flushC <-chan time.Time
	if h.cfg.FlushInterval > 0 {
		flush := time.NewTicker(h.cfg.FlushInterval)
		defer flush.Stop()
		flushC = flush.C
	}
	defer h.stopBatching()
	var dirty []*client
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-flushC:
			dirty = h.flush(dirty, false)
		case <-sweep.C:
			h.sweepWriters()
		case <-ping.C:
			h.pingAll()
		case now := <-stats.C:
			h.tick(now)
		}
	}
}

// markDirty records that c has messages for the next flush. It is called
// with c.mu held; it reports false when writes are not batched, and the
// caller must wake the writer itself.
func (h *Hub) markDirty(c *client) bool {
	h.dirtyMu.Lock()
	defer h.dirtyMu.Unlock()
	if !h.batching {
		return false
	}
	h.dirty = append(h.dirty, c)
	return true
}

// maxWriterStarts bounds the writers one flush starts. A message to every
// member of a large quiet room would otherwise start a goroutine for each at
// once; past the bound, connections wait for the next flush. (Without
// batching, FlushInterval < 0, each writer starts at once.) A variable for
// the tests only.
var maxWriterStarts = 1024

// flush wakes the writer of every dirty connection, starting at most
// maxWriterStarts writers unless unbounded. It takes the list in exchange
// for spare, the previous one, and returns the list to reuse.
func (h *Hub) flush(spare []*client, unbounded bool) []*client {
	h.dirtyMu.Lock()
	dirty := h.dirty
	h.dirty = spare[:0]
	h.dirtyMu.Unlock()
	starts, kept := maxWriterStarts, 0
	for _, c := range dirty {
		started, keep := c.flushNow(unbounded || starts > 0)
		if started {
			starts--
		}
		if keep {
			dirty[kept] = c
			kept++
		}
	}
	if kept > 0 {
		// The kept ones go first next time, before any marked since, so
		// that a steady stream of new ones cannot hold them back for good.
		h.dirtyMu.Lock()
		h.dirty = append(slices.Clone(dirty[:kept]), h.dirty...)
		h.dirtyMu.Unlock()
	}
	clear(dirty)
	return dirty
}

// stopBatching makes every later message go out at once, and flushes what
// is waiting: without Run, nothing would.
func (h *Hub) stopBatching() {
	h.dirtyMu.Lock()
	h.batching = false
	h.dirtyMu.Unlock()
	h.flush(nil, true)
}

// writerIdle is how often writers that wrote nothing since the last sweep
// are ended. A busy connection, written to every flush, keeps its writer
// instead of starting one each time.
const writerIdle = time.Second

func (h *Hub) sweepWriters() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		c.sweep()
	}
}

func (h *Hub) pingAll() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		c.ping()
	}
}

func (h *Hub) tick(now time.Time) {
	h.sweepIdle(now)
	h.mu.RLock()
	rs := slices.Clone(h.order)
	h.mu.RUnlock()
	summaries := make([]Summary, len(rs))
	for i, r := range rs {
		summaries[i] = r.tick(now)
	}
	// Every connection gets the list, so it goes out at once only when a
	// trend or a member count changed; a change of rates alone waits for
	// trendsRateInterval.
	msg := encode(trendsMessage{Type: "trends", Trends: summaries})
	if bytes.Equal(msg, h.trends.last) {
		return
	}
	key := encode(withoutRates(summaries))
	if bytes.Equal(key, h.trends.key) && now.Sub(h.trends.at) < trendsRateInterval {
		return
	}
	h.trends.last, h.trends.key, h.trends.at = msg, key, now
	f := h.renderTrends(summaries)
	h.lastTrends.Store(f)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		c.send(entry{frame: f.frame})
	}
}

// trendsFrame is a `trends` frame, and the trends it lists without their
// counts (see withoutCounts).
type trendsFrame struct {
	frame, names []byte
}

// renderTrends encodes the `trends` message for summaries, with the list's
// markup when the hub has a renderer: once per change, for every
// connection.
func (h *Hub) renderTrends(summaries []Summary) *trendsFrame {
	msg := trendsMessage{Type: "trends", Trends: summaries}
	if h.cfg.RenderTrends != nil {
		html, err := h.cfg.RenderTrends(summaries)
		if err != nil {
			h.log.Error("rendering the trend list", "err", err)
		}
		msg.HTML = html
	}
	return &trendsFrame{frame: encode(msg), names: encode(withoutCounts(summaries))}
}

// trendsOnConnect returns the `trends` frame for a new connection, with
// h.mu held: the last one rendered while it lists the same trends, else a
// fresh one, kept for the connections after it. Its counts may be a stats
// interval old, as the next tick sends everyone the new ones; rendering
// afresh for a change of counts alone would render once per connection in
// a storm of reconnects, each time with h.mu held.
func (h *Hub) trendsOnConnect() []byte {
	summaries := h.summariesLocked()
	names := encode(withoutCounts(summaries))
	if f := h.lastTrends.Load(); f != nil && bytes.Equal(f.names, names) {
		return f.frame
	}
	f := h.renderTrends(summaries)
	h.lastTrends.Store(f)
	return f.frame
}

// withoutCounts returns a copy of summaries with every member count and
// rate zero: the trends alone.
func withoutCounts(summaries []Summary) []Summary {
	out := withoutRates(summaries)
	for i := range out {
		out[i].Members = 0
	}
	return out
}

// withoutRates returns a copy of summaries with every rate zero.
func withoutRates(summaries []Summary) []Summary {
	out := slices.Clone(summaries)
	for i := range out {
		out[i].PerMinute = 0
	}
	return out
}

// trendsRateInterval is how often, at most, every connection is sent the
// trend list when only the per-minute rates changed: often enough for the
// page, rarely enough that idle connections stay idle.
const trendsRateInterval = 10 * time.Second

// sweepIdle drops the custom rooms that have had no member for IdleTrendTTL.
func (h *Hub) sweepIdle(now time.Time) {
	cutoff := now.Add(-h.cfg.IdleTrendTTL)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.order = slices.DeleteFunc(h.order, func(r *room) bool {
		if !r.custom {
			return false
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.members) > 0 || !r.emptyAt.Before(cutoff) {
			return false
		}
		r.deleted = true
		delete(h.rooms, r.name)
		h.cfg.Trends.Remove(r.name)
		h.log.Info("idle custom trend dropped", "trend", r.name)
		return true
	})
}

// Close closes every connection with 1001 (going away), refuses new ones,
// and waits for the connections' goroutines to end. When ctx is done first,
// it closes the sockets still open without a close frame, waits for their
// goroutines, which then end at once, and returns ctx's error.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	for c := range h.clients {
		c.stop(DisconnectShutdown)
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	// A writer blocked on a client that reads nothing would otherwise run
	// until writeWait: closing its socket fails the write, and the read.
	h.mu.RLock()
	for c := range h.clients {
		_ = c.conn.Close()
	}
	h.mu.RUnlock()
	<-done
	return fmt.Errorf("rooms: waiting for connections to close: %w", ctx.Err())
}
