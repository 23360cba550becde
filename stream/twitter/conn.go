package twitter

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dghubble/go-twitter/twitter"
)

// maxLoggedPerConn is how many skipped or notable messages (malformed,
// too long, limit notices, warnings) one connection logs. They are all
// counted in Status; the cap keeps a misbehaving upstream from flooding
// the log.
const maxLoggedPerConn = 20

// conn is one connection attempt: a go-twitter Stream that may make one
// HTTP request, the context that ends it, and the reason it ended, which
// is the cause of that context.
//
// go-twitter's Stream runs a goroutine that connects, reads and sends
// what it reads on Messages, then closes Messages when it stops. The
// conn's transport ends that goroutine: it fails any second request,
// and cancelling the context ends the request in flight and the body
// being read. Whoever cancels the context then drains Messages until it is
// closed, since go-twitter sends an error there without watching for a
// stop.
type conn struct {
	id     uint64
	track  []string
	ctx    context.Context
	cancel context.CancelCauseFunc
	stream *twitter.Stream // set once the request is built

	attempted atomic.Bool
	connected chan struct{} // closed when the upstream answers 200
	lastByte  atomic.Int64  // when a byte last arrived, in clock nanoseconds
	logged    atomic.Int32  // messages logged so far

	clock        clock
	stallTimeout time.Duration
	stallMu      sync.Mutex // guards stall and stallOff
	stall        timer
	stallOff     bool

	// Owned by the run loop.
	connectedSeen bool      // the run has handled connected
	connectedAt   time.Time // when it did
	limitTotal    int64     // the upstream's running count of held-back tweets
}

func newConn(ctx context.Context, id uint64, track []string, clk clock, stallTimeout time.Duration) *conn {
	c := &conn{id: id, track: track, connected: make(chan struct{}), clock: clk, stallTimeout: stallTimeout}
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	c.touch()
	c.stallMu.Lock()
	defer c.stallMu.Unlock()
	// The stall timer runs from the start, so that a server that accepts
	// the connection and never answers counts as stalled too.
	c.stall = clk.AfterFunc(stallTimeout, c.checkStall)
	return c
}

// end records why the connection ends and cancels its context. The first
// reason stays.
func (c *conn) end(cause error) { c.cancel(cause) }

// cause is why the connection ended, or nil while it runs.
func (c *conn) cause() error { return context.Cause(c.ctx) }

// touch records that bytes arrived.
func (c *conn) touch() { c.lastByte.Store(c.clock.Now().UnixNano()) }

// checkStall ends the connection if no byte arrived for stallTimeout, and
// otherwise sets the timer again for when that would be.
func (c *conn) checkStall() {
	idle := c.clock.Now().Sub(time.Unix(0, c.lastByte.Load()))
	if idle >= c.stallTimeout {
		c.end(&stallError{after: c.stallTimeout})
		return
	}
	c.stallMu.Lock()
	defer c.stallMu.Unlock()
	if !c.stallOff {
		c.stall.Reset(c.stallTimeout - idle)
	}
}

// stopStallTimer stops watching for a stall.
func (c *conn) stopStallTimer() {
	c.stallMu.Lock()
	defer c.stallMu.Unlock()
	c.stallOff = true
	c.stall.Stop()
}

// messages is the go-twitter Stream's Messages channel; nil for a nil
// conn, so
// that a select leaves it out.
func (c *conn) messages() <-chan any {
	if c == nil {
		return nil
	}
	return c.stream.Messages
}

// connectedOnce is closed when the upstream answered 200, until the run
// has handled that; nil for a nil conn and afterwards.
func (c *conn) connectedOnce() <-chan struct{} {
	if c == nil || c.connectedSeen {
		return nil
	}
	return c.connected
}

// wasConnected reports whether the upstream answered 200.
func (c *conn) wasConnected() bool {
	select {
	case <-c.connected:
		return true
	default:
		return false
	}
}

// log logs a message about what the stream sent, unless the connection has
// logged maxLoggedPerConn already. Safe for concurrent use.
func (c *conn) log(logger *slog.Logger, level slog.Level, msg string, args ...any) {
	switch n := c.logged.Add(1); {
	case n < maxLoggedPerConn:
		logger.Log(context.Background(), level, msg, args...)
	case n == maxLoggedPerConn:
		logger.Log(context.Background(), level, msg, args...)
		logger.Warn("twitter: further skipped and notable messages on this connection are counted, not logged",
			"connection", c.id)
	}
}

// connTransport is the transport under the OAuth transport of one
// conn: it sees the conn's one connection attempt and its status,
// and wraps the response body.
type connTransport struct {
	c       *conn
	next    http.RoundTripper
	maxBody int              // longest message passed on
	dropped func(*conn, int) // reports a message longer than maxBody
}

// errOneRequest refuses go-twitter's own reconnection: the source
// reconnects, by Twitter's rules, with a new conn.
var errOneRequest = errors.New("twitter: one request per connection; the source reconnects")

func (t *connTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	if !c.attempted.CompareAndSwap(false, true) {
		closeRequestBody(req)
		return nil, errOneRequest
	}
	resp, err := t.next.RoundTrip(queryToForm(req.Clone(c.ctx)))
	if err != nil {
		c.end(&connectError{err: err})
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		// Read a little, so the connection may be reused, but keep
		// nothing: an error page is not worth showing, and could
		// echo anything.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		err := &statusError{code: resp.StatusCode}
		c.end(err)
		return nil, err
	}
	c.touch()
	close(c.connected)
	resp.Body = newStreamBody(resp.Body, t.maxBody, c.touch,
		func(n int) { t.dropped(c, n) },
		func(err error) {
			if err == io.EOF {
				c.end(errStreamEnded)
			} else {
				c.end(&readError{err: err})
			}
		})
	return resp, nil
}

// queryToForm moves the query of a POST without a body into a form body,
// and returns req, changed. go-twitter puts the filter's parameters in
// the query, where 400 phrases of up to 60 bytes make a URL longer than
// many servers take; Twitter asks for them in the body. The OAuth 1.0a
// signature covers the query and a form body alike (RFC 5849, 3.4.1.3),
// so the signature made for the query stays valid.
func queryToForm(req *http.Request) *http.Request {
	if req.Method != http.MethodPost || req.URL.RawQuery == "" || (req.Body != nil && req.Body != http.NoBody) {
		return req
	}
	form := req.URL.RawQuery
	req.URL.RawQuery = ""
	req.Body = io.NopCloser(strings.NewReader(form))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(form)), nil }
	req.ContentLength = int64(len(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
