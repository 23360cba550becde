package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Timing and size rules of a client connection.
const (
	// handshakeTimeout bounds the WebSocket upgrade after the TCP connect.
	handshakeTimeout = 10 * time.Second
	// joinWriteWait bounds the writing of a client's join messages.
	joinWriteWait = 5 * time.Second
	// closeWait is how long a client waits for the server to answer its
	// close frame before it closes the socket anyway. It must be shorter
	// than the stop allowance of the run (stopWait).
	closeWait = 3 * time.Second
	// slowPause is what a slow client sleeps after each frame it reads.
	slowPause = 100 * time.Millisecond
	// readLimit is far above the server's 64 KiB frames, so a trends
	// message with thousands of trends still fits; a larger frame ends the
	// connection and is counted.
	readLimit = 8 << 20
	// frameBufSize is the buffer a client reads a frame into, lent by
	// frameBufs for that frame only: the server's frames are at most 64
	// KiB, so one read takes what the connection's own 16 KiB buffer did
	// not, and idle clients hold none. A frame is read in pieces of at most
	// this size, each piece's complete lines handled as it comes; the
	// buffer grows only for a counted message longer than itself, far
	// above the 1.1 KB of a full tweet (the trend list, 60 KB for 100
	// trends, is not counted).
	frameBufSize = 64 << 10
	// tallyMapMin is the number of rooms from which a client finds a room's
	// tally in a map rather than by scanning a short slice.
	tallyMapMin = 8
)

// fleet is what every client reports to the run: how many are in each
// state, the errors by kind, and the window in which latency counts.
type fleet struct {
	connected atomic.Int64 // clients that completed the handshake
	// compressed counts the handshakes whose response accepted
	// permessage-deflate.
	compressed atomic.Int64
	open       atomic.Int64 // connections open now
	joined     atomic.Int64 // clients that joined all their rooms
	settled    atomic.Int64 // clients done with setup: joined, refused or failed
	// measureFrom and measureUntil bound, in Unix nanoseconds, when a
	// frame's latencies are recorded: after the warm-up, until the window
	// ends. measureFrom is MaxInt64 until the window starts.
	measureFrom  atomic.Int64
	measureUntil atomic.Int64
	errors       errorTally

	stderr     io.Writer
	emfileOnce sync.Once
}

func newFleet(stderr io.Writer) *fleet {
	f := &fleet{stderr: stderr}
	f.measureFrom.Store(1<<63 - 1)
	f.measureUntil.Store(1<<63 - 1)
	return f
}

// clientStats are one client's counters. The client's reader goroutine
// writes them and the reporter reads them at any moment, so each is atomic;
// none is shared between clients.
type clientStats struct {
	deliveries     atomic.Uint64 // live tweets
	backlog        atomic.Uint64 // tweets of a join's backlog
	lost           atomic.Uint64 // seqs missing from live tweets, without a skipped
	backlogGaps    atomic.Uint64 // seqs missing from the backlog (retracted, or trimmed)
	skipped        atomic.Uint64 // counts of skipped messages past the backlog
	backlogSkipped atomic.Uint64 // counts of skipped messages within the backlog
	duplicates     atomic.Uint64
	fallbacks      atomic.Uint64 // tweets and skipped that needed encoding/json
	malformed      atomic.Uint64
	untimed        atomic.Uint64 // live tweets without a valid ingested_at
	strays         atomic.Uint64 // tweets or skipped for a room not joined
	// wireBytes counts what was read from the socket, handshake included.
	wireBytes atomic.Uint64
	// forms counts every tweet message by its shape, backlog included.
	forms   [formCount]atomic.Uint64
	latency latencyRecorder
}

// client is one WebSocket connection of the load. Its goroutine (run) owns
// the connection and every field below stats; the reporter only reads
// stats.
type client struct {
	slow  bool
	rooms []string // the rooms it joins
	fleet *fleet
	stats clientStats

	tallies []roomTally
	byName  map[string]int // index into tallies, once there are tallyMapMin rooms
	msg     message
	answers int  // joins answered, with joined or an error
	settled bool // reported to fleet.settled
}

func newClient(slow bool, rooms []string, f *fleet) *client {
	return &client{slow: slow, rooms: rooms, fleet: f}
}

// run connects, joins the client's rooms and reads until ctx is done, then
// closes the connection with a normal close. It returns when the
// connection is closed. Its connection counts the bytes it reads into the
// client's stats.
func (c *client) run(ctx context.Context, dialer *websocket.Dialer, url string, header http.Header) {
	defer c.settle()
	counting := *dialer
	counting.NetDialContext = countingDial(dialer.NetDialContext, &c.stats.wireBytes)
	conn, resp, err := counting.DialContext(ctx, url, header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		c.dialFailed(err, resp)
		return
	}
	defer conn.Close()
	c.fleet.connected.Add(1)
	if deflateNegotiated(resp) {
		c.fleet.compressed.Add(1)
	}
	c.fleet.open.Add(1)
	defer c.fleet.open.Add(-1)
	conn.SetReadLimit(readLimit)

	_ = conn.SetWriteDeadline(time.Now().Add(joinWriteWait))
	for _, room := range c.rooms {
		msg := append(append([]byte(`{"type":"join","room":`), strconv.Quote(room)...), '}')
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			c.fleet.errors.add("write: join", 1)
			return
		}
	}

	// When ctx is done, a goroutine of context.AfterFunc sends the close
	// (WriteControl may run beside the reader) and bounds the wait for the
	// server's answer; stop unregisters it when the reads end first.
	// closing is set once the close is sent: from then on the server's
	// closing answer ends the reads, and is no error.
	var closing atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		closing.Store(true)
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		_ = conn.SetReadDeadline(time.Now().Add(closeWait))
	})
	defer stop()

	err = c.readLoop(ctx, conn)
	var ce *websocket.CloseError
	switch {
	case closing.Load() && errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure:
	case closing.Load():
		c.fleet.errors.add("at close: "+readErrorKind(err), 1)
	default:
		c.fleet.errors.add(readErrorKind(err), 1)
	}
}

func (c *client) dialFailed(err error, resp *http.Response) {
	kind := dialErrorKind(err, resp)
	if kind == "" {
		return
	}
	c.fleet.errors.add(kind, 1)
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		c.fleet.emfileOnce.Do(func() {
			fmt.Fprintf(c.fleet.stderr, "loadgen: %v\nloadgen: each client needs a file descriptor: raise the limit with `ulimit -n 65536` before the run\n", err)
		})
	}
}

// settle tells the run, once, that this client's setup is over.
func (c *client) settle() {
	if !c.settled {
		c.settled = true
		c.fleet.settled.Add(1)
	}
}

// readLoop reads frames until the connection ends. A slow client pauses
// after each frame until ctx is done, then drains what is left as fast as
// it can.
func (c *client) readLoop(ctx context.Context, conn *websocket.Conn) error {
	var pause *time.Timer
	if c.slow {
		pause = time.NewTimer(slowPause)
		pause.Stop()
		defer pause.Stop()
	}
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		if err := c.readFrame(r); err != nil {
			return err
		}
		if c.slow && ctx.Err() == nil {
			pause.Reset(slowPause)
			select {
			case <-pause.C:
			case <-ctx.Done():
				pause.Stop()
			}
		}
	}
}

// frameBufs holds the buffers that clients read frames into, each a
// *[]byte of frameBufSize.
var frameBufs = sync.Pool{New: func() any {
	b := make([]byte, frameBufSize)
	return &b
}}

// readFrame reads one frame through a buffer from frameBufs and accounts
// for each piece's complete lines as soon as it is read, timed by that
// read. A line that does not fit is either of a type that is not counted,
// and dropped up to its end unread, or makes the buffer grow.
func (c *client) readFrame(r io.Reader) error {
	bp := frameBufs.Get().(*[]byte)
	buf := *bp
	defer func() {
		if len(buf) == frameBufSize { // a grown one goes to the collector
			frameBufs.Put(bp)
		}
	}()
	var now int64
	held := 0         // bytes of a line begun, at the start of buf
	skipping := false // in a line that is not counted, held is 0
	for {
		k, err := r.Read(buf[held:])
		if k > 0 {
			now = time.Now().UnixNano()
			// Only the fresh bytes are searched: the held ones have no '\n'.
			lines, fresh := buf[:held+k], buf[held:held+k]
			if skipping {
				if i := bytes.IndexByte(fresh, '\n'); i < 0 {
					fresh = nil
				} else {
					fresh, skipping = fresh[i+1:], false
				}
				lines = fresh
			}
			if last := bytes.LastIndexByte(fresh, '\n'); last >= 0 {
				end := len(lines) - len(fresh) + last
				c.handleFrame(lines[:end], now)
				lines = lines[end+1:]
			}
			held = copy(buf, lines)
			if held == len(buf) {
				if _, ok := uncountedKind(buf); ok {
					skipping, held = true, 0
				} else {
					buf = slices.Grow(buf, len(buf))
					buf = buf[:cap(buf)]
				}
			}
		}
		switch {
		case err == io.EOF:
			if held > 0 {
				c.handleFrame(buf[:held], now)
			}
			return nil
		case err != nil:
			return err
		}
	}
}

// handleFrame accounts for every message of a frame read at now (Unix
// nanoseconds). It is the hot path: it allocates nothing for tweets and
// skipped messages in the server's layout.
func (c *client) handleFrame(frame []byte, now int64) {
	record := now >= c.fleet.measureFrom.Load() && now < c.fleet.measureUntil.Load()
	var delivered uint64
	var forms [formCount]uint64
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		if len(line) == 0 {
			continue
		}
		m := &c.msg
		if err := parseMessage(line, m); err != nil {
			c.stats.malformed.Add(1)
			continue
		}
		if m.fallback {
			c.stats.fallbacks.Add(1)
		}
		switch m.kind {
		case kindTweet:
			forms[m.form]++
			t := c.tally(m.room)
			if t == nil {
				c.stats.strays.Add(1)
				continue
			}
			v, missing := t.tweet(m.seq)
			switch v {
			case live:
				delivered++
				if missing > 0 {
					c.stats.lost.Add(missing)
				}
				switch {
				case m.ingestedAt == 0 && m.form != formCard: // a card has no time to read
					c.stats.untimed.Add(1)
				case m.ingestedAt == 0:
				case record:
					c.stats.latency.record(now - m.ingestedAt)
				}
			case backlog:
				c.stats.backlog.Add(1)
				if missing > 0 {
					c.stats.backlogGaps.Add(missing)
				}
			case duplicate:
				c.stats.duplicates.Add(1)
			}
		case kindSkipped:
			t := c.tally(m.room)
			if t == nil {
				c.stats.strays.Add(1)
				continue
			}
			missing, inBacklog := t.skipped(m.fromSeq, m.toSeq)
			if inBacklog {
				c.stats.backlogSkipped.Add(m.count)
				c.stats.backlogGaps.Add(missing)
			} else {
				c.stats.skipped.Add(m.count)
				c.stats.lost.Add(missing)
			}
		case kindJoined:
			c.joined(m)
		case kindError:
			c.fleet.errors.add("error: "+m.code, 1)
			if len(m.room) > 0 {
				c.answered()
			}
		}
	}
	if delivered > 0 {
		c.stats.deliveries.Add(delivered)
	}
	for f, n := range forms {
		if n > 0 {
			c.stats.forms[f].Add(n)
		}
	}
}

// tally returns the tally of a room by name, or nil for a room not joined.
// Neither lookup allocates: Go converts the bytes for a map index or a
// comparison without a copy.
func (c *client) tally(room []byte) *roomTally {
	if c.byName != nil {
		if i, ok := c.byName[string(room)]; ok {
			return &c.tallies[i]
		}
		return nil
	}
	for i := range c.tallies {
		if c.tallies[i].name == string(room) {
			return &c.tallies[i]
		}
	}
	return nil
}

// joined starts the tally of a room the server let the client in. The
// room's name is the server's, normalised, as every later message spells it.
func (c *client) joined(m *message) {
	if t := c.tally(m.room); t != nil {
		return // a repeated answer changes nothing
	}
	c.tallies = append(c.tallies, roomTally{name: string(m.room), joinSeq: m.seq})
	if len(c.tallies) >= tallyMapMin {
		if c.byName == nil {
			c.byName = make(map[string]int, len(c.rooms))
			for i, t := range c.tallies {
				c.byName[t.name] = i
			}
		}
		c.byName[string(m.room)] = len(c.tallies) - 1
	}
	if len(c.tallies) == len(c.rooms) {
		c.fleet.joined.Add(1)
	}
	c.answered()
}

// answered counts the answer to one join; once every join is answered the
// client's setup is over.
func (c *client) answered() {
	c.answers++
	if c.answers >= len(c.rooms) {
		c.settle()
	}
}
