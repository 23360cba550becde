// Package rooms routes tweets to the WebSocket connections that follow their
// trends: one room per trend, socket.io style, speaking the live protocol of
// docs/PROTOCOL.md. A Hub owns the rooms and the connections; the ingester
// publishes to it, and it serves /ws.
package rooms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
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

// The defaults of Config, which a zero field takes. They are the one
// definition: the command's flags default to them too.
const (
	// DefaultHistory is how many tweets a room keeps: a column's backlog,
	// and a reconnect of some seconds at a lively rate.
	DefaultHistory = 100
	// DefaultMaxRoomsPerConn is how many rooms one connection may be in:
	// more columns than a 1920 px screen shows.
	DefaultMaxRoomsPerConn = 20
	// DefaultStatsInterval paces `stats` and `trends`: often enough for
	// the counts to look live, rarely enough to cost nothing.
	DefaultStatsInterval = 2 * time.Second
	// DefaultFlushInterval is how long a connection gathers messages
	// before it writes them: below what a reader notices, long enough to
	// save most system calls at a busy rate.
	DefaultFlushInterval = 20 * time.Millisecond
	// DefaultIdleTrendTTL is how long a custom trend stays without a
	// member: long enough to survive a reload or a short absence.
	DefaultIdleTrendTTL = 10 * time.Minute
	// DefaultMessageRate is how many messages a second a client may send.
	DefaultMessageRate = 20
	// DefaultPongWait is how long a connection may send nothing, not even
	// a pong, before it is given up.
	DefaultPongWait = 60 * time.Second
	// DefaultWriteWait bounds a write to a connection.
	DefaultWriteWait = 10 * time.Second
)

// FlushAtOnce, as Config.FlushInterval, makes connections write each
// message as it comes, without batching. It is negative because zero, as
// for every field of Config, means the default; a command whose flag says
// "0 writes at once" maps its 0 to FlushAtOnce.
const FlushAtOnce time.Duration = -1

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
	// zero means DefaultHistory.
	History int
	// MaxRoomsPerConn caps the rooms one connection is in; zero means
	// DefaultMaxRoomsPerConn.
	MaxRoomsPerConn int
	// QueueBytes bounds each connection's outbound queue; past it, the
	// oldest tweets are dropped and reported as skipped. Zero means 256 KiB,
	// or room for a whole backlog of History tweets of 2 KiB if that is more
	// (on a following node, of the history the sequencing node keeps: see
	// FitHistory).
	QueueBytes int
	// StatsInterval is how often rooms send `stats` and the hub sends
	// `trends`, when they changed; zero means DefaultStatsInterval.
	StatsInterval time.Duration
	// FlushInterval is how often connections write what they have queued:
	// batching writes saves system calls, at the cost of up to this much
	// latency. Zero means DefaultFlushInterval; negative (FlushAtOnce)
	// means write at once.
	FlushInterval time.Duration
	// IdleTrendTTL is how long a custom trend stays once its room has no
	// member; zero means DefaultIdleTrendTTL.
	IdleTrendTTL time.Duration
	// MessageRate is how many messages per second a client may send, with
	// bursts of twice that; zero means DefaultMessageRate.
	MessageRate float64
	// Broker carries the rooms' tweets and keeps their history; nil means
	// a MemoryBroker keeping History tweets per room, this process alone.
	Broker Broker
	// Following makes the hub a node that follows a sequencing node (see
	// Follow): its trend set is the other node's, reached over the network,
	// and the trends come and go as that node lists them. False means the
	// hub owns its trends.
	Following bool
	// MaxConns bounds the connections the hub holds at once; past it an
	// upgrade is refused with 503 and Retry-After. Zero means
	// DefaultMaxConns.
	MaxConns int
	// MaxConnsPerIP bounds the connections from one client address (see
	// ClientIP); past it an upgrade is refused with 429 and Retry-After.
	// Loopback addresses are not bounded. Zero means DefaultMaxConnsPerIP.
	MaxConnsPerIP int
	// ClientIP returns the address a request counts against MaxConnsPerIP,
	// such as one a trusted proxy forwarded; nil, or an empty answer,
	// means the peer's address.
	ClientIP func(r *http.Request) string
	// MaxCustomTrendsPerIP bounds the custom trends that the clients at one
	// address (see ClientIP; loopback is not counted) have added and that
	// still stand, by a join or a page (Open); past it a new trend is
	// refused with too_many_trends. Zero means
	// DefaultMaxCustomTrendsPerIP; negative means no client adds any.
	MaxCustomTrendsPerIP int
	// RoomlessTimeout closes a connection that has been in no room for
	// this long. Zero means DefaultRoomlessTimeout.
	RoomlessTimeout time.Duration
	// AllowedOrigins lists the browser origins, besides the server's own,
	// that may open a WebSocket ("https://example.com"); "*" allows any.
	AllowedOrigins []string
	// PongWait is how long a connection may send neither a message nor a
	// pong before it is given up; every connection is pinged every nine
	// tenths of it. Zero means 60 s.
	PongWait time.Duration
	// WriteWait bounds every write: a client that cannot take a frame in
	// this time is gone, and its connection is closed. Zero means 10 s.
	WriteWait time.Duration
	// NoCompression answers no client's offer of permessage-deflate, so
	// every connection reads plain frames. False compresses for every
	// client that offers it, each message once for all of them.
	NoCompression bool
}

// Hub owns the rooms and the connections. Create it with NewHub, run its
// Run loop, serve it at /ws, and Close it on shutdown.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	broker Broker
	render RenderFunc

	// rooms maps each room's name to it. It is replaced, never changed, so
	// that deliveries look rooms up without a lock; h.mu serialises the
	// replacements.
	rooms atomic.Pointer[map[string]*room]

	mu      sync.RWMutex
	order   []*room // configured rooms first, then custom ones as created
	clients map[*client]struct{}
	// announced holds the latest announcement of each kind, in the order
	// the kinds first came, for new connections.
	announced []announcement
	closing   bool
	limits    limits
	// customBy counts, by client address, the custom rooms its clients
	// added that still stand.
	customBy map[string]int
	conns    sync.WaitGroup // connection goroutines
	// following is set once the hub follows a sequencing node (Follow).
	following atomic.Bool
	// queueBytes is each connection's queue limit: Config.QueueBytes,
	// raised by FitHistory when that was the default. h.mu guards it.
	queueBytes int
	queueFits  bool
	// ctx bounds every wait on the broker; Close cancels it, so that no
	// connection waits for a broker that is gone.
	ctx    context.Context
	cancel context.CancelFunc

	// handedOver counts connections whose reads were left to the websocket
	// library after an unusual frame (see frameConn).
	handedOver atomic.Int64
	// writersStarted counts the writer goroutines started.
	writersStarted atomic.Int64
	// counters are what Metrics reports.
	counters hubCounters

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

var (
	_ stream.Publisher = (*Hub)(nil)
	_ BrokerHandler    = (*Hub)(nil)
)

// NewHub returns a hub with one room for each trend in cfg.Trends.
func NewHub(cfg Config) (*Hub, error) {
	if cfg.Trends == nil {
		return nil, errors.New("rooms: Config.Trends is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	setDefault(&cfg.History, DefaultHistory)
	setDefault(&cfg.MaxRoomsPerConn, DefaultMaxRoomsPerConn)
	queueFits := cfg.QueueBytes == 0
	setDefault(&cfg.QueueBytes, queueBytesFor(cfg.History))
	setDefault(&cfg.StatsInterval, DefaultStatsInterval)
	setDefault(&cfg.IdleTrendTTL, DefaultIdleTrendTTL)
	setDefault(&cfg.FlushInterval, DefaultFlushInterval)
	setDefault(&cfg.MessageRate, DefaultMessageRate)
	setDefault(&cfg.MaxConns, DefaultMaxConns)
	setDefault(&cfg.MaxConnsPerIP, DefaultMaxConnsPerIP)
	setDefault(&cfg.MaxCustomTrendsPerIP, DefaultMaxCustomTrendsPerIP)
	setDefault(&cfg.RoomlessTimeout, DefaultRoomlessTimeout)
	setDefault(&cfg.PongWait, DefaultPongWait)
	setDefault(&cfg.WriteWait, DefaultWriteWait)
	if cfg.PongWait < 0 || cfg.WriteWait < 0 {
		return nil, errors.New("rooms: PongWait and WriteWait must not be negative")
	}
	if cfg.History < 0 || cfg.MaxRoomsPerConn < 0 || cfg.QueueBytes < 0 || cfg.MaxConns < 0 || cfg.MaxConnsPerIP < 0 {
		return nil, errors.New("rooms: History, MaxRoomsPerConn, QueueBytes and the connection limits must not be negative")
	}
	if cfg.Broker == nil {
		cfg.Broker = NewMemoryBroker(cfg.History)
	}
	h := &Hub{
		cfg:      cfg,
		log:      cfg.Logger,
		broker:   cfg.Broker,
		render:   cfg.Render,
		clients:  make(map[*client]struct{}),
		limits:   limits{perIP: make(map[string]int)},
		customBy: make(map[string]int),
		batching: cfg.FlushInterval > 0,
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.queueBytes = cfg.QueueBytes
	h.queueFits = queueFits
	h.rooms.Store(&map[string]*room{})
	h.following.Store(cfg.Following)
	now := time.Now()
	for _, t := range cfg.Trends.List() {
		h.addRoomLocked(t, false, now)
	}
	h.broker.Register(h)
	return h, nil
}

// queueBytesFor is the default queue limit: 256 KiB, or room for a whole
// backlog of history tweets of 2 KiB if that is more.
func queueBytesFor(history int) int { return max(256<<10, history*2<<10) }

// FitHistory makes every connection's queue, when its size is the
// default, room for a backlog of history tweets: a following node learns
// the history size from the sequencing node.
//
// It grows the queues once, here, rather than on every message.
func (h *Hub) FitHistory(history int) {
	if !h.queueFits {
		return
	}
	limit := queueBytesFor(history)
	h.mu.Lock()
	defer h.mu.Unlock()
	if limit <= h.queueBytes {
		return
	}
	h.queueBytes = limit
	for c := range h.clients {
		c.growQueue(limit)
	}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// room returns the room called name, or nil.
func (h *Hub) room(name string) *room { return (*h.rooms.Load())[name] }

// addRoomLocked creates the room for name, with h.mu held.
func (h *Hub) addRoomLocked(name string, custom bool, now time.Time) *room {
	r := newRoom(name, custom, now, &h.counters)
	rooms := maps.Clone(*h.rooms.Load())
	rooms[name] = r
	h.rooms.Store(&rooms)
	h.order = append(h.order, r)
	return r
}

// removeRoomsLocked forgets the rooms called names, with h.mu held.
func (h *Hub) removeRoomsLocked(names []string) {
	rooms := maps.Clone(*h.rooms.Load())
	for _, name := range names {
		if r := rooms[name]; r != nil && r.addedBy != "" {
			if h.customBy[r.addedBy]--; h.customBy[r.addedBy] <= 0 {
				delete(h.customBy, r.addedBy)
			}
		}
		delete(rooms, name)
	}
	h.rooms.Store(&rooms)
}

// join puts c in the room for name (normalised), creating the room and
// adding name as a custom trend when needed.
func (h *Hub) join(c *client, name, epoch string, since *uint64, paused bool) (*room, error) {
	for {
		r, err := h.roomFor(name, c.ip)
		if err != nil {
			return nil, err
		}
		if ok, err := h.joinRoom(r, c, epoch, since, paused); ok {
			return r, err
		}
		// The idle sweep dropped the room between the lookup and the join.
	}
}

// roomFor returns the room for name, creating it, and adding name as a
// custom trend, for a client at addr (see mayAddLocked) when there is none.
func (h *Hub) roomFor(name, addr string) (*room, error) {
	if r := h.room(name); r != nil {
		return r, nil
	}
	if h.following.Load() {
		h.mu.RLock()
		err := h.mayAddLocked(addr)
		h.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		// The trend set is another node's: not asked with h.mu held.
		if _, err := h.cfg.Trends.Add(name); err != nil {
			return nil, err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if r := h.room(name); r != nil {
			return r, nil
		}
		return h.addCustomRoomLocked(name, addr), nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.room(name); r != nil {
		return r, nil
	}
	if err := h.mayAddLocked(addr); err != nil {
		return nil, err
	}
	if _, err := h.cfg.Trends.Add(name); err != nil {
		return nil, err
	}
	h.log.Info("custom trend added", "trend", name)
	return h.addCustomRoomLocked(name, addr), nil
}

// addCustomRoomLocked adds the room of a custom trend that a client at
// addr asked for, and counts it against addr.
func (h *Hub) addCustomRoomLocked(name, addr string) *room {
	r := h.addRoomLocked(name, true, time.Now())
	if counted(addr) {
		r.addedBy = addr
		h.customBy[addr]++
	}
	return r
}

// Publish routes t to the rooms of the trends it matched, through the
// broker. The card is rendered and the tweet encoded at most once, when a
// member first needs them, whatever the rooms and members; each room's
// message adds only its name and seq.
func (h *Hub) Publish(t stream.Tweet, matched []string) {
	tweet := &t
	parts := newTweetParts(tweet, matched, h.render, h.log)
	// h.mu keeps the idle sweep from dropping a room, and its history,
	// between the lookup and the publish, which would leave the broker a
	// stream for a room that is gone.
	h.mu.RLock()
	defer h.mu.RUnlock()
	rooms := *h.rooms.Load()
	routed := uint64(0)
	for _, name := range matched {
		r := rooms[name]
		if r == nil {
			continue
		}
		err := h.broker.Publish(name, func(seq uint64) Pub {
			msg := newTweetMessage(parts, r.nameJSON, seq, &h.counters)
			return Pub{Seq: seq, ID: t.ID, Tweet: tweet, Matched: matched, msg: msg}
		})
		if err != nil {
			h.log.Error("publishing a tweet", "room", name, "id", t.ID, "err", err)
			continue
		}
		routed++
	}
	h.counters.routed.Add(routed)
}

// Retract withdraws a tweet from every room's history and tells the members
// that may have it.
func (h *Hub) Retract(source, id string) {
	h.mu.RLock()
	rs := slices.Clone(h.order)
	h.mu.RUnlock()
	for _, r := range rs {
		if err := h.broker.Retract(r.name, source, id); err != nil {
			h.log.Error("retracting a tweet", "room", r.name, "id", id, "err", err)
		}
	}
}

// HandlePub implements BrokerHandler: a tweet for the room's members.
func (h *Hub) HandlePub(room, epoch string, p Pub) {
	if r := h.room(room); r != nil {
		r.deliver(epoch, p)
	}
}

// HandleRetract implements BrokerHandler.
func (h *Hub) HandleRetract(room string, seq uint64, id string) {
	if r := h.room(room); r != nil {
		r.retract(seq, id)
	}
}

// HandleReset implements BrokerHandler.
func (h *Hub) HandleReset(room string, hist History) {
	if r := h.room(room); r != nil {
		r.reset(&hist)
	}
}

// HandleSkipped implements BrokerHandler.
func (h *Hub) HandleSkipped(room string, from, to uint64) {
	if r := h.room(room); r != nil {
		r.skip(from, to)
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
	r := h.room(name)
	if r == nil {
		return Snapshot{}, false
	}
	s, err := h.snapshot(r)
	if err != nil {
		h.log.Warn("no history for a room", "room", name, "err", err)
		return Snapshot{}, false
	}
	return s, true
}

// snapshot asks the broker for r's history and returns what a page needs
// to render it.
func (h *Hub) snapshot(r *room) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(h.ctx, historyTimeout)
	defer cancel()
	hist, err := h.broker.History(ctx, r.name, 0)
	if err != nil {
		return Snapshot{}, fmt.Errorf("rooms: the history of %q: %w", r.name, err)
	}
	sum := r.summary()
	s := Snapshot{Room: r.name, Epoch: hist.Epoch, Seq: hist.Seq, Members: sum.Members, PerMinute: sum.PerMinute}
	for _, p := range hist.Pubs {
		if p.Retracted {
			continue
		}
		item := Item{Seq: p.Seq, Matched: p.Matched}
		if p.Tweet != nil {
			item.Tweet = *p.Tweet
		} else if err := decodeTweet(p.Frame, &item); err != nil {
			h.log.Warn("a tweet in history that does not decode", "room", r.name, "seq", p.Seq, "err", err)
			continue
		}
		s.Tweets = append(s.Tweets, item)
	}
	return s, nil
}

// decodeTweet fills item's tweet and matched trends from a tweet frame.
func decodeTweet(frame []byte, item *Item) error {
	var m struct {
		Matched []string     `json:"matched"`
		Tweet   stream.Tweet `json:"tweet"`
	}
	if err := json.Unmarshal(frame, &m); err != nil {
		return err
	}
	item.Tweet, item.Matched = m.Tweet, m.Matched
	return nil
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
func (h *Hub) Open(name, addr string) (Snapshot, error) {
	if err := h.Want(name, addr); err != nil {
		return Snapshot{}, err
	}
	r := h.room(name)
	if r == nil {
		return Snapshot{}, fmt.Errorf("rooms: the room %q was dropped meanwhile", name)
	}
	return h.snapshot(r)
}

// Has reports whether there is a room for name (normalised).
func (h *Hub) Has(name string) bool { return h.room(name) != nil }

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
		out[i] = r.summary()
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
	ping := time.NewTicker(pingPeriod(h.cfg.PongWait))
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
// batching, FlushInterval < 0, each writer starts at once.)
const maxWriterStarts = 1024

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
	following := h.following.Load()
	if !following {
		h.sweepIdle(now)
	}
	h.closeRoomless(now)
	h.mu.RLock()
	rs := slices.Clone(h.order)
	h.mu.RUnlock()
	summaries := make([]Summary, len(rs))
	for i, r := range rs {
		summaries[i] = r.tick(now, following)
		h.unsubscribeIdle(r, now)
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
		c.send(f.frame.entryFor(c, nil))
	}
}

// trendsFrame is a `trends` frame, and the trends it lists without their
// counts (see withoutCounts).
type trendsFrame struct {
	frame *sharedFrame
	names []byte
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
	return &trendsFrame{frame: newSharedFrame(encode(msg)), names: encode(withoutCounts(summaries))}
}

// trendsOnConnect returns the `trends` frame for a new connection, with
// h.mu held: the last one rendered while it lists the same trends, else a
// fresh one, kept for the connections after it. Its counts may be a stats
// interval old, as the next tick sends everyone the new ones; rendering
// afresh for a change of counts alone would render once per connection in
// a storm of reconnects, each time with h.mu held.
func (h *Hub) trendsOnConnect() *sharedFrame {
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
	var dropped []string
	h.order = slices.DeleteFunc(h.order, func(r *room) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.custom || r.membersLocked() > 0 || !r.emptyAt.Before(cutoff) {
			return false
		}
		r.deleted = true
		dropped = append(dropped, r.name)
		return true
	})
	if len(dropped) == 0 {
		return
	}
	h.removeRoomsLocked(dropped)
	for _, name := range dropped {
		h.cfg.Trends.Remove(name)
		// With h.mu held, no publish is under way and no join creates
		// the room again: the broker forgets it first.
		if err := h.broker.RemoveHistory(name); err != nil {
			h.log.Warn("forgetting an idle room", "room", name, "err", err)
		}
		h.log.Info("idle custom trend dropped", "trend", name)
	}
}

// subscribe makes sure this node receives r's tweets.
func (h *Hub) subscribe(ctx context.Context, r *room) error {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	if r.subscribed {
		return nil
	}
	if err := h.broker.Subscribe(ctx, r.name); err != nil {
		return fmt.Errorf("rooms: subscribing to %q: %w", r.name, err)
	}
	r.subscribed = true
	return nil
}

// unsubscribeIdle stops receiving r's tweets once it has had no member on
// this node for a stats interval: a reload, which leaves and joins again,
// keeps the subscription.
//
// It runs on the hub's loop, which paces every writer: a room busy
// subscribing, over the network, is left for the next tick.
func (h *Hub) unsubscribeIdle(r *room, now time.Time) {
	if !r.subMu.TryLock() {
		return
	}
	defer r.subMu.Unlock()
	if !r.subscribed {
		return
	}
	r.mu.Lock()
	idle := len(r.members) == 0 && now.Sub(r.leftAt) >= h.cfg.StatsInterval
	r.mu.Unlock()
	if !idle {
		return
	}
	// The broker is called without the room's lock: it delivers to the
	// room with its own lock held.
	if err := h.broker.Unsubscribe(r.name); err != nil {
		// The broker has let the room go all the same: the next join
		// subscribes afresh.
		h.log.Warn("unsubscribing from an idle room", "room", r.name, "err", err)
	}
	r.subscribed = false
}

// Close closes every connection with 1001 (going away), refuses new ones,
// and waits for the connections' goroutines to end. When ctx is done first,
// it closes the sockets still open without a close frame, waits for their
// goroutines, which then end at once, and returns ctx's error.
func (h *Hub) Close(ctx context.Context) error {
	h.cancel()
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
	// until WriteWait: closing its socket fails the write, and the read.
	h.mu.RLock()
	for c := range h.clients {
		_ = c.conn.Close()
	}
	h.mu.RUnlock()
	<-done
	return fmt.Errorf("rooms: waiting for connections to close: %w", ctx.Err())
}
