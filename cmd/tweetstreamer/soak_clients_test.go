package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Timing rules of the soak's clients.
const (
	// soakReadWait bounds the wait for one frame. Every member gets a
	// stats message every 2 s and every connection a trends message at
	// least every 10 s, so a socket silent this long is stuck.
	soakReadWait = 30 * time.Second
	// soakWriteWait bounds each client write.
	soakWriteWait = 5 * time.Second
	// soakAnswerWait bounds a handshake, the answer to a close and the
	// answer to a hostile frame. It is generous: on a shared machine the
	// test may get a fraction of a core, and the bound is there to end a
	// hang, not to measure speed.
	soakAnswerWait = 30 * time.Second
	// soakSlowChunk and soakSlowPause make a slow client's pace: 1 KiB
	// each 250 ms, 4 KB/s, a small part of what its rooms send (eight
	// rooms of 20 tweets a second, each message over 1 KB).
	soakSlowChunk = 1 << 10
	soakSlowPause = 250 * time.Millisecond
	// A slow client reads at its pace for soakSlowSpell, then as fast as
	// it can for soakFastSpell, over and over: while it is slow its queue
	// overflows, and while it is fast it reads through to the skipped
	// that says so, which would otherwise wait behind megabytes. The
	// first fast spell comes soakFirstFast after the client starts, soon
	// enough for the short shape's run to see the skipped of its first
	// backlogs.
	soakSlowSpell = 4 * time.Second
	soakFastSpell = 1 * time.Second
	soakFirstFast = 3 * time.Second
	// soakSlowRooms is how many rooms a slow client joins: enough that
	// even its first backlogs overflow its queue.
	soakSlowRooms = 8
	// soakTimeline is the step of the figures counted over time.
	soakTimeline = 5 * time.Second
	// soakSlowRcvBuf is a slow client's socket receive buffer, small so
	// that the kernel does not hide its slowness from the server for long.
	soakSlowRcvBuf = 8 << 10
	// soakMaxRooms is the most rooms a client is in at once, well under
	// -max-rooms.
	soakMaxRooms = 3
	// soakExamples is how many examples of each kind of problem are kept;
	// the rest are counted.
	soakExamples = 3
)

// soakAction is what a client does next, chosen at random.
type soakAction int

const (
	actJoin soakAction = iota
	actLeave
	actPause
	actResume
	actReconnect
)

// roomState is where one of a client's rooms stands.
type roomState int

const (
	roomJoining roomState = iota // join sent, no answer yet
	roomIn                       // joined: its tweets are checked
	roomLeaving                  // leave sent, no left yet
)

// soakRoom is what a client knows of one of its rooms, and checks: from a
// joined on, seqs follow on by one, or a skipped says which were left out.
type soakRoom struct {
	state roomState
	// since is what the pending join recovers from (epoch and seq), or
	// nil for a fresh join.
	since *soakSince
	epoch string
	// last is the last seq accounted for, by a tweet or a skipped; 0
	// before the first one after a fresh joined.
	last uint64
	// first bounds the first seq after a fresh joined: the backlog starts
	// at or before the joined seq, or the next tweet is the one after it.
	first  uint64
	paused bool // the client sent pause and no resume since
}

type soakSince struct {
	epoch string
	seq   uint64
}

// soakTally is what a client counts; the test adds them up.
type soakTally struct {
	deliveries    uint64 // tweets
	skippedMsgs   uint64 // skipped messages
	skippedSeqs   uint64 // seqs they covered
	joins, leaves uint64
	pauses        uint64
	resumes       uint64
	reconnects    uint64   // reconnections the client chose
	redials       uint64   // reconnections after the server ended a connection
	recovered     uint64   // recovery joins answered recovered: true
	unrecovered   uint64   // recovery joins answered recovered: false
	newEpochs     uint64   // fresh joined messages sent to a member
	unavailable   uint64   // joins refused with unavailable
	unavailableBy []uint64 // the same, by soakTimeline of the run
	// serverCloses counts the close frames the server ended a
	// connection with, by code and reason, when the client had not
	// closed it. None is due to a client that reads.
	serverCloses map[string]uint64
	// dropped counts connections that ended with no close frame while the
	// client read on: the server closes a socket it could not write a
	// frame to for 10 s, which a starved machine makes happen.
	dropped uint64
	// closesUnanswered counts the client's closes the server answered by
	// closing the socket, with no close frame.
	closesUnanswered uint64
	// closesTimedOut counts the client's closes neither answered nor
	// ended by the server within soakAnswerWait.
	closesTimedOut uint64
	dialFailures   uint64
	problems       problems
}

// problems groups what broke the protocol by kind (the format of its
// message), with a few examples of each.
type problems map[string]*problemKind

type problemKind struct {
	count    uint64
	examples []string
}

func (p *problems) add(kind, example string) {
	if *p == nil {
		*p = problems{}
	}
	k := (*p)[kind]
	if k == nil {
		k = &problemKind{}
		(*p)[kind] = k
	}
	k.count++
	if len(k.examples) < soakExamples {
		k.examples = append(k.examples, example)
	}
}

func (p *problems) merge(o problems) {
	for kind, k := range o {
		for i, e := range k.examples {
			p.add(kind, e)
			if i == 0 {
				(*p)[kind].count += k.count - uint64(len(k.examples))
			}
		}
	}
}

// String lists each kind with its count and examples, most common first.
func (p problems) String() string {
	kinds := slices.Collect(maps.Keys(p))
	slices.SortFunc(kinds, func(a, b string) int { return cmp.Compare(p[b].count, p[a].count) })
	var b strings.Builder
	for _, kind := range kinds {
		fmt.Fprintf(&b, "%d× %s\n", p[kind].count, kind)
		for _, e := range p[kind].examples {
			fmt.Fprintf(&b, "\t%s\n", e)
		}
	}
	return b.String()
}

func (p problems) count() uint64 {
	var n uint64
	for _, k := range p {
		n += k.count
	}
	return n
}

func (t *soakTally) add(o *soakTally) {
	t.deliveries += o.deliveries
	t.skippedMsgs += o.skippedMsgs
	t.skippedSeqs += o.skippedSeqs
	t.joins += o.joins
	t.leaves += o.leaves
	t.pauses += o.pauses
	t.resumes += o.resumes
	t.reconnects += o.reconnects
	t.redials += o.redials
	t.recovered += o.recovered
	t.unrecovered += o.unrecovered
	t.newEpochs += o.newEpochs
	t.unavailable += o.unavailable
	for i, n := range o.unavailableBy {
		for len(t.unavailableBy) <= i {
			t.unavailableBy = append(t.unavailableBy, 0)
		}
		t.unavailableBy[i] += n
	}
	t.dropped += o.dropped
	t.closesUnanswered += o.closesUnanswered
	t.closesTimedOut += o.closesTimedOut
	t.dialFailures += o.dialFailures
	for k, v := range o.serverCloses {
		if t.serverCloses == nil {
			t.serverCloses = map[string]uint64{}
		}
		t.serverCloses[k] += v
	}
	t.problems.merge(o.problems)
}

// soakClient is one viewer of the soak. Its driver (run) owns the
// connection, chooses what to do next and starts one reader goroutine per
// connection, which it waits for before it dials again or returns. mu
// guards rooms and tally, which the reader and the driver share.
type soakClient struct {
	id    int
	slow  bool
	rng   *rand.Rand
	urls  []string // ws:// addresses of the nodes it may connect to
	trend []string // the rooms it may join

	mu      sync.Mutex
	rooms   map[string]*soakRoom
	tally   soakTally
	closing bool      // the driver sent a close and waits for the reader
	began   time.Time // set before the first dial; a slow client's spells count from it
}

func newSoakClient(id int, slow bool, seed uint64, urls, trends []string) *soakClient {
	return &soakClient{
		id: id, slow: slow, urls: urls, trend: trends,
		rng:   rand.New(rand.NewPCG(seed, uint64(id))),
		rooms: map[string]*soakRoom{},
	}
}

// problem notes something the protocol does not allow. c.mu is held.
func (c *soakClient) problem(format string, args ...any) {
	c.tally.problems.add(format, fmt.Sprintf("client %d: ", c.id)+fmt.Sprintf(format, args...))
}

// soakDialer returns the dialer of a client: a slow one's socket has a
// small receive buffer.
func soakDialer(slow bool) *websocket.Dialer {
	d := &websocket.Dialer{HandshakeTimeout: soakAnswerWait}
	if slow {
		nd := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var err error
			if cerr := rc.Control(func(fd uintptr) {
				err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, soakSlowRcvBuf)
			}); cerr != nil {
				return cerr
			}
			return err
		}}
		d.NetDialContext = nd.DialContext
		d.ReadBufferSize = soakSlowChunk
	}
	return d
}

// run connects after delay and acts at random until ctx is done, then
// closes its connection and waits for its reader.
func (c *soakClient) run(ctx context.Context, delay time.Duration) {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return
	case <-timer.C:
	}
	dialer := soakDialer(c.slow)
	c.began = time.Now()
	// The first rooms: a slow client takes the most, so that what it is
	// sent is far more than it reads.
	n := 1 + c.rng.IntN(2)
	if c.slow {
		n = soakSlowRooms
	}
	c.mu.Lock()
	for _, i := range c.rng.Perm(len(c.trend))[:n] {
		c.rooms[c.trend[i]] = &soakRoom{state: roomJoining}
	}
	c.mu.Unlock()

	for ctx.Err() == nil {
		conn, readerDone, ok := c.connect(ctx, dialer)
		if !ok {
			return
		}
		ended := c.act(ctx, conn, readerDone)
		if c.slow && !ended && ctx.Err() != nil {
			c.catchUp(readerDone)
		}
		c.close(conn, readerDone)
		c.mu.Lock()
		if ended {
			c.tally.redials++
		} else if ctx.Err() == nil {
			c.tally.reconnects++
		}
		c.mu.Unlock()
	}
}

// connect dials a node at random and sends a join for every room the
// client is to be in: a recovery from its last seq where it has one. It
// starts the connection's reader, whose end closes readerDone.
func (c *soakClient) connect(ctx context.Context, dialer *websocket.Dialer) (*websocket.Conn, chan struct{}, bool) {
	var conn *websocket.Conn
	for conn == nil {
		c.mu.Lock()
		url := c.urls[c.rng.IntN(len(c.urls))]
		c.mu.Unlock()
		var resp *http.Response
		var err error
		conn, resp, err = dialer.DialContext(ctx, url, nil)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			if conn != nil {
				conn.Close()
			}
			return nil, nil, false
		}
		if err != nil {
			// The client tries again, on any node, for as long as the
			// run lasts; a refused dial is a failure all the same.
			c.mu.Lock()
			c.tally.dialFailures++
			c.problem("dial %s: %v", url, err)
			c.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, nil, false
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	conn.SetReadLimit(1 << 20)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		c.read(ctx, conn)
	}()

	c.mu.Lock()
	var joins [][]byte
	for name, r := range c.rooms {
		switch r.state {
		case roomIn:
			// A room with a seq accounted for recovers from it; one
			// whose first tweet had not come yet starts afresh.
			epoch, last := r.epoch, r.last
			*r = soakRoom{state: roomJoining}
			if last > 0 {
				r.since = &soakSince{epoch: epoch, seq: last}
			}
		case roomJoining:
			// Unanswered: the same join again, a recovery still.
			*r = soakRoom{state: roomJoining, since: r.since}
		case roomLeaving:
			// The leave is as good as done: the old connection is gone.
			delete(c.rooms, name)
			continue
		}
		joins = append(joins, joinMessage(name, r.since))
	}
	c.mu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(soakWriteWait))
	for _, j := range joins {
		if err := conn.WriteMessage(websocket.TextMessage, j); err != nil {
			break // the reader sees the connection end
		}
	}
	return conn, readerDone, true
}

func joinMessage(room string, since *soakSince) []byte {
	if since == nil {
		return fmt.Appendf(nil, `{"type":"join","room":%q}`, room)
	}
	return fmt.Appendf(nil, `{"type":"join","room":%q,"epoch":%q,"since":%d}`, room, since.epoch, since.seq)
}

// act sends a random request every few hundred milliseconds until ctx is
// done, the client chooses to reconnect, or the server ends the
// connection (then it reports true).
func (c *soakClient) act(ctx context.Context, conn *websocket.Conn, readerDone chan struct{}) bool {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// A slow client acts seldom: what counts for it is its reading.
		c.mu.Lock()
		wait := time.Duration(300+c.rng.IntN(2700)) * time.Millisecond
		if c.slow {
			wait *= 5
		}
		c.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return false
		case <-readerDone:
			return true
		case <-timer.C:
		}
		msg, reconnect := c.choose()
		if reconnect {
			return false
		}
		if msg == nil {
			continue
		}
		_ = conn.SetWriteDeadline(time.Now().Add(soakWriteWait))
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			<-readerDone // the reader sees the connection end too
			return true
		}
	}
}

// choose picks the next request and marks the room it changes, before it
// is sent, so that the reader takes the answer for what it is.
func (c *soakClient) choose() (msg []byte, reconnect bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var in, out []string
	for _, name := range c.trend {
		switch r, ok := c.rooms[name]; {
		case !ok:
			out = append(out, name)
		case r.state == roomIn:
			in = append(in, name)
		}
	}
	// Sorted, so that the same seed makes the same choices.
	slices.Sort(in)
	act := soakAction(c.rng.IntN(int(actReconnect) + 1))
	switch {
	case act == actReconnect:
		return nil, true
	case act == actJoin && len(c.rooms) < soakMaxRooms && len(out) > 0:
		name := out[c.rng.IntN(len(out))]
		c.rooms[name] = &soakRoom{state: roomJoining}
		c.tally.joins++
		return joinMessage(name, nil), false
	case len(in) == 0:
		return nil, false
	}
	name := in[c.rng.IntN(len(in))]
	r := c.rooms[name]
	switch {
	case act == actLeave || act == actJoin:
		r.state = roomLeaving
		c.tally.leaves++
		return fmt.Appendf(nil, `{"type":"leave","room":%q}`, name), false
	case !r.paused:
		r.paused = true
		c.tally.pauses++
		return fmt.Appendf(nil, `{"type":"pause","room":%q}`, name), false
	default:
		r.paused = false
		c.tally.resumes++
		mode := "replay"
		if c.rng.IntN(2) == 0 {
			mode = "live"
		}
		return fmt.Appendf(nil, `{"type":"resume","room":%q,"mode":%q}`, name, mode), false
	}
}

// catchUp gives a slow client's reader, which reads as fast as it can
// once the run is over, soakFastSpell to read what the server still has
// for it before the close makes the server drop it: the skipped of its
// last slow spell are there.
func (c *soakClient) catchUp(readerDone chan struct{}) {
	timer := time.NewTimer(soakFastSpell)
	defer timer.Stop()
	select {
	case <-readerDone:
	case <-timer.C:
	}
}

// close sends a normal close and waits for the reader, which reads what
// was still on its way until the server answers, bounded by soakCloseWait.
func (c *soakClient) close(conn *websocket.Conn, readerDone chan struct{}) {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.closing = false
		c.mu.Unlock()
	}()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	timer := time.NewTimer(soakAnswerWait)
	defer timer.Stop()
	select {
	case <-readerDone:
	case <-timer.C:
		// Counted, not failed: on a starved machine a server reader that
		// waits its turn takes this long, and the soak asserts no speed.
		c.mu.Lock()
		c.tally.closesTimedOut++
		c.mu.Unlock()
	}
	conn.Close()
	<-readerDone
}

// read accounts for every frame until the connection ends. A slow client
// reads a chunk at a time, pausing between chunks, until ctx is done.
func (c *soakClient) read(ctx context.Context, conn *websocket.Conn) {
	var buf bytes.Buffer
	chunk := make([]byte, soakSlowChunk)
	pause := time.NewTimer(0)
	<-pause.C
	defer pause.Stop()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(soakReadWait))
		_, r, err := conn.NextReader()
		if err != nil {
			c.ended(err)
			return
		}
		buf.Reset()
		if !c.slowNow(ctx) {
			_, err = buf.ReadFrom(r)
		} else {
			for err == nil && c.slowNow(ctx) {
				var n int
				n, err = r.Read(chunk)
				buf.Write(chunk[:n])
				pause.Reset(soakSlowPause)
				select {
				case <-pause.C:
				case <-ctx.Done():
					pause.Stop()
				}
			}
			if err == nil {
				_, err = buf.ReadFrom(r) // the fast spell has come
			}
			if err == io.EOF {
				err = nil
			}
		}
		if err != nil {
			c.ended(err)
			return
		}
		c.account(buf.Bytes())
	}
}

// slowNow tells whether the client reads at its slow pace now: a slow
// client in a slow spell, while the run lasts.
func (c *soakClient) slowNow(ctx context.Context) bool {
	since := time.Since(c.began) + soakSlowSpell - soakFirstFast
	return c.slow && ctx.Err() == nil && since%(soakSlowSpell+soakFastSpell) < soakSlowSpell
}

// ended notes how a connection ended: the answer to the client's own
// close is a normal close; anything else the server chose, and counts.
func (c *soakClient) ended(err error) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure {
		return
	}
	if errors.Is(err, net.ErrClosed) {
		return // the client closed the socket itself, after its close wait
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		// The server answers a close with one of its own where it can,
		// but not while its writer is stuck on a slow client's socket:
		// then it closes the socket.
		c.tally.closesUnanswered++
		return
	}
	if ce == nil || ce.Code == websocket.CloseAbnormalClosure {
		c.tally.dropped++
		return
	}
	if c.tally.serverCloses == nil {
		c.tally.serverCloses = map[string]uint64{}
	}
	c.tally.serverCloses[fmt.Sprintf("%d %s", ce.Code, ce.Text)]++
}

// soakMessage holds the fields of a server message the soak checks.
type soakMessage struct {
	Type      string `json:"type"`
	Room      string `json:"room"`
	Seq       uint64 `json:"seq"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
	FromSeq   uint64 `json:"from_seq"`
	ToSeq     uint64 `json:"to_seq"`
	Count     uint64 `json:"count"`
	Code      string `json:"code"`
}

var (
	soakTweetPrefix = []byte(`{"type":"tweet","room":"`)
	soakSeqKey      = []byte(`","seq":`)
)

// parseSoakMessage reads one line. A tweet, by far the most common, is
// read from its start without decoding its card; the rest go through
// encoding/json.
func parseSoakMessage(line []byte, m *soakMessage) error {
	*m = soakMessage{}
	if rest, ok := bytes.CutPrefix(line, soakTweetPrefix); ok {
		// Room names of the soak have no character JSON escapes.
		if i := bytes.Index(rest, soakSeqKey); i > 0 {
			digits := rest[i+len(soakSeqKey):]
			end := bytes.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' })
			if seq, err := strconv.ParseUint(string(digits[:max(end, 0)]), 10, 64); end > 0 && err == nil {
				m.Type, m.Room, m.Seq = "tweet", string(rest[:i]), seq
				return nil
			}
		}
	}
	return json.Unmarshal(line, m)
}

// account checks every message of one frame against the client's rooms.
func (c *soakClient) account(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m soakMessage
	for line := range bytes.SplitSeq(frame, []byte("\n")) {
		if err := parseSoakMessage(line, &m); err != nil {
			c.problem("not a message: %q: %v", clipped(line), err)
			continue
		}
		switch m.Type {
		case "tweet", "skipped":
			c.step(&m)
		case "joined":
			c.joined(&m)
		case "left":
			if r := c.rooms[m.Room]; r == nil || r.state != roomLeaving {
				c.problem("left %s, not left", m.Room)
				continue
			}
			delete(c.rooms, m.Room)
		case "error":
			r := c.rooms[m.Room]
			if m.Code == "unavailable" && r != nil && r.state == roomJoining {
				// NATS or the ingest node is away: the room is
				// refused, for now.
				c.tally.unavailable++
				i := int(time.Since(c.began) / soakTimeline)
				for len(c.tally.unavailableBy) <= i {
					c.tally.unavailableBy = append(c.tally.unavailableBy, 0)
				}
				c.tally.unavailableBy[i]++
				delete(c.rooms, m.Room)
				continue
			}
			c.problem("error %s", clipped(line))
		}
	}
}

// joined takes the answer to a join, or the start of a new epoch the
// server announces to a member.
func (c *soakClient) joined(m *soakMessage) {
	r := c.rooms[m.Room]
	switch {
	case r == nil:
		c.problem("joined %s, not joined", m.Room)
		return
	case r.state == roomJoining:
		recovered := m.Recovered != nil && *m.Recovered
		switch {
		case r.since == nil:
		case recovered && m.Epoch == r.since.epoch:
			c.tally.recovered++
			*r = soakRoom{state: roomIn, epoch: m.Epoch, last: r.since.seq}
			return
		case recovered:
			c.problem("recovered %s of epoch %s in epoch %s", m.Room, r.since.epoch, m.Epoch)
		default:
			c.tally.unrecovered++
		}
	case m.Epoch == r.epoch || m.Recovered == nil || *m.Recovered:
		c.problem("joined %s again, not for a new epoch: epoch %s, recovered %v, in epoch %s", m.Room, m.Epoch, m.Recovered, r.epoch)
	default:
		c.tally.newEpochs++
	}
	state := roomIn
	if r.state == roomLeaving {
		state = roomLeaving
	}
	*r = soakRoom{state: state, epoch: m.Epoch, first: m.Seq + 1, paused: r.paused}
}

// step checks a tweet or a skipped: the first after a fresh joined starts
// at or before it, every other one follows on from the last.
func (c *soakClient) step(m *soakMessage) {
	r := c.rooms[m.Room]
	if r == nil || r.state == roomJoining {
		c.problem("%s of %s, seq %d, before joined", m.Type, m.Room, m.Seq)
		return
	}
	from, to := m.Seq, m.Seq
	if m.Type == "skipped" {
		from, to = m.FromSeq, m.ToSeq
		if to < from || m.Count != to-from+1 {
			c.problem("skipped %d..%d of %s counts %d", from, to, m.Room, m.Count)
		}
	}
	switch {
	case r.last == 0 && from > r.first:
		c.problem("%s of %s starts at seq %d after joined at %d", m.Type, m.Room, from, r.first-1)
	case r.last != 0 && from != r.last+1:
		c.problem("%s of %s, seq %d, after seq %d", m.Type, m.Room, from, r.last)
	}
	r.last = to
	if m.Type == "skipped" {
		c.tally.skippedMsgs++
		c.tally.skippedSeqs += to - from + 1
	} else {
		c.tally.deliveries++
	}
}

// clipped shortens a line for a problem report.
func clipped(line []byte) string {
	if len(line) > 200 {
		return string(line[:200]) + "…"
	}
	return string(line)
}

// soakWSURL is the WebSocket address of a node.
func soakWSURL(httpURL string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + "/ws"
}

// soakFlood is how many joins a flooding connection sends at once: far
// past the burst of 40 the server allows, so some must be refused however
// fast it reads them.
const soakFlood = 200

// hostileKind is one way of breaking the protocol, with the answer the
// protocol gives it.
type hostileKind struct {
	name string
	// frames sends the hostile frames on conn and says how many.
	frames func(conn *websocket.Conn, rng *rand.Rand, room string) (int, error)
	// closeCode is the close the server must answer with; zero means an
	// error message with errorCode, the connection staying open.
	closeCode int
	errorCode string
	// joinFirst joins the room, and waits for the answer, before the
	// frames: a flood of joins of a room the connection is in is answered
	// at once, where each first join may wait on the room's history.
	joinFirst bool
}

// joinBefore joins room on conn and waits for the answer, joined or
// unavailable, reporting whether one came within soakAnswerWait.
func joinBefore(conn *websocket.Conn, room string) bool {
	_ = conn.SetWriteDeadline(time.Now().Add(soakWriteWait))
	if conn.WriteMessage(websocket.TextMessage, joinMessage(room, nil)) != nil {
		return false
	}
	_ = conn.SetReadDeadline(time.Now().Add(soakAnswerWait))
	var m soakMessage
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return false
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if parseSoakMessage(line, &m) == nil && m.Room == room && (m.Type == "joined" || m.Type == "error") {
				return true
			}
		}
	}
}

var hostileKinds = []hostileKind{
	{name: "malformed JSON", errorCode: "bad_request", frames: func(conn *websocket.Conn, rng *rand.Rand, _ string) (int, error) {
		junk := []string{`{"type":`, `not json`, `{"type":"join","room":}`, `[1,2`, `"join"`}
		return 1, conn.WriteMessage(websocket.TextMessage, []byte(junk[rng.IntN(len(junk))]))
	}},
	{name: "unknown type", errorCode: "bad_request", frames: func(conn *websocket.Conn, _ *rand.Rand, room string) (int, error) {
		return 1, conn.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"subscribe","room":%q}`, room))
	}},
	{name: "binary frame", closeCode: websocket.CloseUnsupportedData, frames: func(conn *websocket.Conn, rng *rand.Rand, _ string) (int, error) {
		b := make([]byte, 1+rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		b[0] = 0xff // never the start of a JSON value
		return 1, conn.WriteMessage(websocket.BinaryMessage, b)
	}},
	{name: "oversize frame", closeCode: websocket.CloseMessageTooBig, frames: func(conn *websocket.Conn, rng *rand.Rand, room string) (int, error) {
		pad := strings.Repeat("x", 4096+rng.IntN(4096))
		return 1, conn.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"join","room":%q,"pad":%q}`, room, pad))
	}},
	{name: "invalid UTF-8", closeCode: websocket.CloseInvalidFramePayloadData, frames: func(conn *websocket.Conn, _ *rand.Rand, room string) (int, error) {
		return 1, conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"join","room":"`+room+"\xff\xfe"+`"}`))
	}},
	{name: "close of one byte", closeCode: websocket.CloseProtocolError, frames: func(conn *websocket.Conn, _ *rand.Rand, _ string) (int, error) {
		return 1, conn.WriteControl(websocket.CloseMessage, []byte{3}, time.Now().Add(soakWriteWait))
	}},
	{name: "join flood", errorCode: "rate_limited", joinFirst: true, frames: func(conn *websocket.Conn, _ *rand.Rand, room string) (int, error) {
		msg := joinMessage(room, nil)
		for i := range soakFlood {
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return i, err
			}
		}
		return soakFlood, nil
	}},
}

// hostileTally counts what the hostile connections sent and what came back.
type hostileTally struct {
	conns    map[string]uint64 // connections, by kind
	answered map[string]uint64 // connections answered as the protocol says, by kind
	late     uint64            // connections with no answer within soakAnswerWait
	frames   uint64            // hostile frames sent
	answers  uint64            // answers as the protocol says
	problems []string
}

// hostile opens one connection of kind to url, sends its frames and waits
// for the answer the protocol gives them. All of it runs on the calling
// goroutine, which alone owns the connection.
func hostile(url string, kind hostileKind, rng *rand.Rand, room string, tally *hostileTally) {
	problem := func(format string, args ...any) {
		tally.problems = append(tally.problems, kind.name+": "+fmt.Sprintf(format, args...))
	}
	dialer := websocket.Dialer{HandshakeTimeout: soakAnswerWait}
	conn, resp, err := dialer.Dial(url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		problem("dial: %v", err)
		return
	}
	defer conn.Close()
	tally.conns[kind.name]++
	if kind.joinFirst && !joinBefore(conn, room) {
		tally.late++
		return
	}
	_ = conn.SetWriteDeadline(time.Now().Add(soakWriteWait))
	n, err := kind.frames(conn, rng, room)
	tally.frames += uint64(n)
	if err != nil {
		problem("writing: %v", err)
		return
	}
	// The answer comes within a few seconds whatever the load: the
	// server reads each connection's messages as they come.
	deadline := time.Now().Add(soakAnswerWait)
	_ = conn.SetReadDeadline(deadline)
	var joined, refused uint64
	var m soakMessage
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			switch {
			case kind.closeCode != 0 && errors.As(err, &ce) && ce.Code == kind.closeCode:
				tally.answers++
				tally.answered[kind.name]++
			case isTimeout(err):
				// Counted, not failed: the soak asserts no speed, and a
				// starved machine may take this long. What does come
				// must be right, and every kind must be answered at
				// least once.
				tally.late++
			case kind.closeCode != 0:
				problem("the connection ended with %v, want close %d", err, kind.closeCode)
			default:
				problem("the connection ended with %v before the answer (%d joined, %d refused of %d)", err, joined, refused, n)
			}
			return
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if err := parseSoakMessage(line, &m); err != nil {
				problem("not a message: %q", clipped(line))
				return
			}
			switch {
			case kind.closeCode != 0 && m.Type == "error":
				problem("answered %s, want close %d", clipped(line), kind.closeCode)
				return
			case kind.name == "join flood" && m.Type == "joined" && m.Room == room,
				kind.name == "join flood" && m.Type == "error" && m.Code == "unavailable" && m.Room == room:
				joined++
			case m.Type == "error" && m.Code == kind.errorCode:
				refused++
			case m.Type == "error":
				problem("answered %s, want %s", clipped(line), kind.errorCode)
				return
			}
		}
		if kind.errorCode != "" && joined+refused == uint64(n) {
			switch {
			case refused == 0:
				problem("%d messages answered, none refused with %s", n, kind.errorCode)
			case kind.name == "join flood" && joined == 0:
				problem("%d joins, every one refused", n)
			default:
				tally.answers += joined + refused
				tally.answered[kind.name]++
			}
			return
		}
	}
}

// isTimeout tells a read deadline that passed: gorilla/websocket keeps
// only the text and the Timeout method of the network's error.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// runHostile opens hostile connections to urls, one at a time, each kind
// in turn, every pace, until ctx is done.
func runHostile(ctx context.Context, urls []string, rooms []string, rng *rand.Rand, pace time.Duration, tally *hostileTally) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	// Every kind is tried once even if the run ends first, which a
	// short run on a loaded machine may.
	for i := 0; ctx.Err() == nil || i < len(hostileKinds); i++ {
		if i >= len(hostileKinds) {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		kind := hostileKinds[i%len(hostileKinds)]
		hostile(urls[rng.IntN(len(urls))], kind, rng, rooms[rng.IntN(len(rooms))], tally)
		timer.Reset(pace)
	}
}
