package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tweetstreamer/tweetstreamer/rooms"
)

// How often nodes tell each other what they know.
const (
	// heartbeatEvery paces the ingest node's heartbeat: the trend list and
	// the announcements reach web nodes within it.
	heartbeatEvery = time.Second
	// countsEvery paces each web node's member counts: with the hub's
	// stats interval (2 s) after it, a count reaches every node's members
	// within 3 s, inside the 5 s the cluster promises. A node silent for
	// countsTTL drops out of the totals.
	countsEvery = 500 * time.Millisecond
	countsTTL   = 3 * time.Second
	// ingestSilence is how long a web node goes without a heartbeat
	// before it says it cannot serve correctly.
	ingestSilence = 5 * time.Second
)

// ingestHub is what the ingest node's loop needs of its hub. *rooms.Hub
// implements it.
type ingestHub interface {
	trendWanter
	Summaries() []rooms.Summary
	Announcements() []rooms.Announcement
	SetRemoteMembers(map[string]int)
}

// Ingest is an ingest node's part of the cluster: it answers the web
// nodes' requests (history, custom trends), sends them its heartbeat, and
// totals their member counts for its hub.
type Ingest struct {
	conn   *Conn
	seq    *Sequencer
	hub    ingestHub
	node   string
	source string
	log    *slog.Logger
	tally  tally

	// rival is another ingest node heard from, and when, in Unix
	// nanoseconds: two would number the same rooms each its own way.
	mu         sync.Mutex
	rival      string
	rivalHeard time.Time
}

// NewIngest returns the loop of the ingest node called node, whose source
// is called source; Run runs it.
func NewIngest(conn *Conn, seq *Sequencer, hub ingestHub, node, source string, logger *slog.Logger) *Ingest {
	if logger == nil {
		logger = slog.Default()
	}
	return &Ingest{conn: conn, seq: seq, hub: hub, node: node, source: source, log: logger}
}

// Ready reports nil while the node can serve, else why not: it needs NATS,
// and to be the only ingest node.
func (in *Ingest) Ready() error {
	if err := in.conn.Ready(); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.rival != "" && time.Since(in.rivalHeard) < ingestSilence {
		return fmt.Errorf("another ingest node, %s, is running: a cluster has one", in.rival)
	}
	return nil
}

// watchRivals notes the heartbeats of any other ingest node.
func (in *Ingest) watchRivals() (*nats.Subscription, error) {
	return in.conn.nc.Subscribe(ingestSubject, func(m *nats.Msg) {
		var hb heartbeat
		if decode(m.Data, &hb) != nil || hb.Node == in.node {
			return
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		if in.rival != hb.Node {
			in.log.Error("another ingest node is running: a cluster has one, and web nodes cannot follow two", "other", hb.Node)
		}
		in.rival, in.rivalHeard = hb.Node, time.Now()
	})
}

// Run serves the web nodes until ctx is done.
func (in *Ingest) Run(ctx context.Context) error {
	var subs []*nats.Subscription
	defer func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}()
	for _, serve := range []func() (*nats.Subscription, error){
		in.seq.serveHistory,
		func() (*nats.Subscription, error) { return serveTrends(in.conn, in.hub, in.log) },
		func() (*nats.Subscription, error) { return in.tally.subscribe(in.conn, "") },
		in.watchRivals,
	} {
		s, err := serve()
		if err != nil {
			return fmt.Errorf("natsbroker: serving the web nodes: %w", err)
		}
		subs = append(subs, s)
	}
	// Heard of by the server before the first heartbeat says this node
	// is there: a web node's first request finds it.
	if err := in.conn.nc.Flush(); err != nil {
		in.log.Warn("flushing the subscriptions to NATS", "err", err)
	}
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		in.hub.SetRemoteMembers(in.tally.totals(time.Now()))
		in.beat()
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (in *Ingest) beat() {
	hb := heartbeat{Node: in.node, Source: in.source, History: in.seq.mem.HistorySize(), Trends: in.hub.Summaries()}
	for _, a := range in.hub.Announcements() {
		hb.Announcements = append(hb.Announcements, wireAnnouncement{Kind: a.Kind, Frame: a.Frame})
	}
	data, err := jsonMarshal(hb)
	if err == nil {
		err = in.conn.nc.Publish(ingestSubject, data)
	}
	if err != nil && in.conn.Ready() == nil {
		in.log.Warn("sending the heartbeat", "err", err)
	}
}

// webHub is what a web node's loop needs of its hub. *rooms.Hub implements
// it.
type webHub interface {
	Follow([]rooms.Summary)
	FitHistory(int)
	SetRemoteMembers(map[string]int)
	LocalMembers() map[string]int
	AnnounceFrame(kind string, frame []byte)
}

// Web is a web node's part of the cluster: it follows the ingest node's
// heartbeat, and tells the other nodes its member counts.
type Web struct {
	conn   *Conn
	trends *Trends
	node   string
	log    *slog.Logger
	tally  tally
	// heard is when the last heartbeat came, in Unix nanoseconds.
	heard atomic.Int64
	// source is the ingest node's source, as its last heartbeat named it.
	source atomic.Pointer[string]
}

// Source names the ingest node's source, or is empty before its first
// heartbeat.
func (w *Web) Source() string {
	if s := w.source.Load(); s != nil {
		return *s
	}
	return ""
}

// NewWeb returns a web node's loop; Run runs it for hub.
func NewWeb(conn *Conn, trends *Trends, node string, logger *slog.Logger) *Web {
	if logger == nil {
		logger = slog.Default()
	}
	return &Web{conn: conn, trends: trends, node: node, log: logger}
}

// Ready reports nil while the node can serve, else why not: it needs NATS,
// a first heartbeat (before it, the node knows no trend), and a word from
// the ingest node within ingestSilence.
func (w *Web) Ready() error {
	if err := w.conn.Ready(); err != nil {
		return err
	}
	heard := w.heard.Load()
	if heard == 0 {
		return errors.New("no word from the ingest node yet")
	}
	if since := time.Since(time.Unix(0, heard)); since > ingestSilence {
		return fmt.Errorf("no word from the ingest node for %s", since.Round(time.Second))
	}
	return nil
}

// Run follows the ingest node for hub until ctx is done.
func (w *Web) Run(ctx context.Context, hub webHub) error {
	beats, err := w.conn.nc.Subscribe(ingestSubject, func(m *nats.Msg) {
		var hb heartbeat
		if err := decode(m.Data, &hb); err != nil {
			w.log.Warn("a heartbeat that does not decode", "err", err)
			return
		}
		w.heard.Store(time.Now().UnixNano())
		w.source.Store(&hb.Source)
		names := make([]string, len(hb.Trends))
		for i, s := range hb.Trends {
			names[i] = s.Room
		}
		w.trends.set(names)
		hub.FitHistory(hb.History)
		hub.Follow(hb.Trends)
		for _, a := range hb.Announcements {
			hub.AnnounceFrame(a.Kind, a.Frame)
		}
	})
	if err != nil {
		return fmt.Errorf("natsbroker: following the ingest node: %w", err)
	}
	defer func() { _ = beats.Unsubscribe() }()
	counts, err := w.tally.subscribe(w.conn, w.node)
	if err != nil {
		return fmt.Errorf("natsbroker: following the member counts: %w", err)
	}
	defer func() { _ = counts.Unsubscribe() }()
	tick := time.NewTicker(countsEvery)
	defer tick.Stop()
	for {
		w.report(hub.LocalMembers())
		hub.SetRemoteMembers(w.tally.totals(time.Now()))
		select {
		case <-ctx.Done():
			// Drop out of the totals at once rather than after countsTTL.
			w.report(nil)
			return nil
		case <-tick.C:
		}
	}
}

func (w *Web) report(members map[string]int) {
	data, err := jsonMarshal(countsReport{Node: w.node, Rooms: members})
	if err == nil {
		err = w.conn.nc.Publish(countsPrefix+w.node, data)
	}
	if err != nil && w.conn.Ready() == nil {
		w.log.Warn("reporting the member counts", "err", err)
	}
}

// tally keeps every web node's last member counts.
type tally struct {
	mu      sync.Mutex
	reports map[string]tallied
}

type tallied struct {
	rooms map[string]int
	at    time.Time
}

// subscribe follows every node's counts but self's.
func (t *tally) subscribe(conn *Conn, self string) (*nats.Subscription, error) {
	return conn.nc.Subscribe(countsPrefix+"*", func(m *nats.Msg) {
		var r countsReport
		if err := decode(m.Data, &r); err != nil || r.Node == "" || r.Node == self {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.reports == nil {
			t.reports = make(map[string]tallied)
		}
		if len(r.Rooms) == 0 {
			delete(t.reports, r.Node)
			return
		}
		t.reports[r.Node] = tallied{rooms: r.Rooms, at: time.Now()}
	})
}

// totals adds up the counts of the nodes heard from within countsTTL.
func (t *tally) totals(now time.Time) map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int)
	for node, r := range t.reports {
		if now.Sub(r.at) > countsTTL {
			delete(t.reports, node)
			continue
		}
		for room, n := range r.rooms {
			out[room] += n
		}
	}
	return out
}

// Trends is a web node's trend set: the ingest node's list, as its
// heartbeat gives it, to which a join adds a custom trend by asking the
// ingest node. It implements rooms.TrendSet.
type Trends struct {
	conn *Conn

	mu    sync.Mutex
	names []string
}

var _ rooms.TrendSet = (*Trends)(nil)

// NewTrends returns the trend set of a web node on conn.
func NewTrends(conn *Conn) *Trends { return &Trends{conn: conn} }

func (t *Trends) set(names []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.names = names
}

// List implements rooms.TrendSet.
func (t *Trends) List() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.names)
}

// Add implements rooms.TrendSet: the ingest node adds the trend to its
// matcher and its source's filter, or refuses as its trend set would.
func (t *Trends) Add(trend string) (bool, error) {
	var reply trendReply
	if err := t.conn.request(context.Background(), trendSubject, trendRequest{Trend: trend}, &reply); err != nil {
		return false, err
	}
	if reply.Error != nil {
		return false, wireTrendError(reply.Error)
	}
	t.mu.Lock()
	if !slices.Contains(t.names, trend) {
		t.names = append(t.names, trend)
	}
	t.mu.Unlock()
	return reply.Added, nil
}

// Remove implements rooms.TrendSet: the ingest node drops idle trends
// itself, from the whole cluster's counts.
func (t *Trends) Remove(string) bool { return false }
