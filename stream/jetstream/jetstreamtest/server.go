// Package jetstreamtest provides a fake Jetstream and a fake
// app.bsky.actor.getProfile endpoint, both on 127.0.0.1, and builders for
// the events Jetstream sends, for tests of code that reads Bluesky through
// package jetstream.
//
// A test scripts the stream with Server.Publish, sees the cursor each
// connection asked for with Server.Subscriptions, and cuts connections
// with Server.Disconnect:
//
//	js, profiles := jetstreamtest.NewServer(), jetstreamtest.NewProfileServer()
//	defer js.Close()
//	defer profiles.Close()
//	src, _ := jetstream.New(jetstream.Config{URL: js.URL(), ProfileURL: profiles.URL()})
//	go src.Stream(ctx, sink)
//	js.WaitSubscriptions(ctx, 1)
//	js.Publish(jetstreamtest.Post{TimeUS: 1, DID: "did:plc:alice", RKey: "3k1", Text: "hi"}.Event())
package jetstreamtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// writeWait bounds each message the server sends, so that a client that
// stopped reading never holds a connection's writer.
const writeWait = 5 * time.Second

// Server is a fake Jetstream subscribe endpoint, at URL. Like Jetstream, it
// sends a subscription that gives a cursor the published events stamped at
// or after the cursor, then the live ones; a subscription without a cursor
// gets only the events published after it began. It keeps every event it
// is given, so it suits short tests only.
type Server struct {
	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu         sync.Mutex
	events     []entry
	published  chan struct{} // closed and replaced by each Publish
	subs       []Subscription
	subscribed chan struct{} // closed and replaced by each new subscription
	conns      map[*websocket.Conn]struct{}
	refuse     int
	closed     bool
	handlers   sync.WaitGroup // the open connections' handlers
}

// entry is a published message and, when it has one, its time_us.
type entry struct {
	msg    []byte
	timeUS int64
	timed  bool
}

// Subscription is a connection the server accepted.
type Subscription struct {
	// Query is the query string it was opened with.
	Query url.Values
}

// Cursor returns the cursor the subscription asked for, and false when it
// gave none or one that is not a number.
func (s Subscription) Cursor() (int64, bool) {
	c, err := strconv.ParseInt(s.Query.Get("cursor"), 10, 64)
	return c, err == nil
}

// NewServer starts a fake Jetstream. Close it when done.
func NewServer() *Server {
	s := &Server{
		upgrader:   websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		published:  make(chan struct{}),
		subscribed: make(chan struct{}),
		conns:      make(map[*websocket.Conn]struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /subscribe", s.serveSubscribe)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the subscribe endpoint: ws://127.0.0.1:port/subscribe.
func (s *Server) URL() string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/subscribe"
}

// Publish sends each message, as one text message, to every open
// subscription, in order. A message whose time_us can be read is also kept
// for later subscriptions that ask for a cursor at or before it; any other
// (malformed JSON, say) reaches only the subscriptions open now.
func (s *Server) Publish(msgs ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, msg := range msgs {
		e := entry{msg: bytes.Clone(msg)}
		e.timeUS, e.timed = timeOf(msg)
		s.events = append(s.events, e)
	}
	close(s.published)
	s.published = make(chan struct{})
}

// timeOf reads msg's time_us.
func timeOf(msg []byte) (int64, bool) {
	var v struct {
		TimeUS *int64 `json:"time_us"`
	}
	if json.Unmarshal(msg, &v) != nil || v.TimeUS == nil {
		return 0, false
	}
	return *v.TimeUS, true
}

// Subscriptions returns the subscriptions accepted so far, in order.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.subs)
}

// WaitSubscriptions waits until the server has accepted at least n
// subscriptions, and returns them; or returns ctx's error. Events
// published after it returns reach the n-th subscription.
func (s *Server) WaitSubscriptions(ctx context.Context, n int) ([]Subscription, error) {
	for {
		s.mu.Lock()
		subs, subscribed := slices.Clone(s.subs), s.subscribed
		s.mu.Unlock()
		if len(subs) >= n {
			return subs, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-subscribed:
		}
	}
}

// Disconnect cuts every open connection, without a close message, as a
// network failure would; it returns how many it cut.
func (s *Server) Disconnect() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ws := range s.conns {
		ws.Close()
	}
	return len(s.conns)
}

// Refuse makes the server answer new subscriptions with this HTTP status
// instead of accepting them; 0 accepts them again.
func (s *Server) Refuse(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = status
}

// Close cuts every connection, waits for their handlers, and stops the
// server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for ws := range s.conns {
		ws.Close()
	}
	s.mu.Unlock()
	s.handlers.Wait()
	s.srv.Close()
}

// serveSubscribe accepts a subscription and sends it events until the
// connection fails. It is the connection's only writer; its reader
// goroutine answers pings and notices the end.
func (s *Server) serveSubscribe(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse, closed := s.refuse, s.closed
	if refuse == 0 && !closed {
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	switch {
	case closed:
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	case refuse != 0:
		http.Error(w, http.StatusText(refuse), refuse)
		return
	}
	defer s.handlers.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	defer ws.Close()
	sub := Subscription{Query: r.URL.Query()}
	start, ok := s.register(ws, sub)
	if !ok {
		return
	}
	defer s.unregister(ws)

	gone := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		defer close(gone)
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	})
	s.send(ws, sub, start, gone)
	ws.Close()
	reader.Wait()
}

// register records an accepted subscription and returns the number of
// events published before it, or false when the server is closing.
func (s *Server) register(ws *websocket.Conn, sub Subscription) (start int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false
	}
	s.conns[ws] = struct{}{}
	s.subs = append(s.subs, sub)
	close(s.subscribed)
	s.subscribed = make(chan struct{})
	return len(s.events), true
}

func (s *Server) unregister(ws *websocket.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, ws)
}

// send writes the events due to sub until the connection fails: those
// published before it began (start) that are stamped at or after its
// cursor, then every event published since.
func (s *Server) send(ws *websocket.Conn, sub Subscription, start int, gone <-chan struct{}) {
	cursor, replay := sub.Cursor()
	next := start
	if replay {
		next = 0
	}
	for {
		var batch [][]byte
		s.mu.Lock()
		for ; next < len(s.events); next++ {
			e := s.events[next]
			if next < start && (!e.timed || e.timeUS < cursor) {
				continue
			}
			batch = append(batch, e.msg)
		}
		published := s.published
		s.mu.Unlock()

		for _, msg := range batch {
			if err := ws.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
				return
			}
			if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		}
		select {
		case <-published:
		case <-gone:
			return
		}
	}
}
