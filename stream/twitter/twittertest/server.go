// Package twittertest is a fake of the parts of Twitter's v1.1 API that
// package twitter uses, for tests: the filter stream, answered from a
// script (see Response), and trends/place. It records every request, can
// check OAuth signatures as Twitter would (see Server.Verify), and
// listens on 127.0.0.1 only.
package twittertest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds how long WaitRequests waits before it fails the
// test: long enough for any machine, so that a test fails rather than
// hangs when the source never comes.
const waitTimeout = 10 * time.Second

// Server is a fake Twitter API. It answers each request for the filter
// stream (POST /1.1/statuses/filter.json) with the next Response pushed
// with Push, or with the fallback once none is left, and records it. It
// answers GET /1.1/trends/place.json with the response set by SetTrends.
// Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, for both StreamURL and APIURL.
	URL string

	ts   *httptest.Server
	quit chan struct{} // closed by Close: every script step gives up

	mu            sync.Mutex
	script        []Response
	fallback      Response
	requests      []Request
	arrived       chan struct{} // closed and replaced at each request
	trends        Response
	trendRequests []TrendsRequest
	secrets       *secrets // nil: signatures are not checked
}

// Request is a request the server received for the filter stream.
type Request struct {
	// Track is the track parameter, from the query or a form body, split
	// at commas.
	Track []string
	// Query is the URL's query, which Twitter asks to keep short.
	Query url.Values
	// Signed reports whether the request carried an OAuth 1.0a
	// Authorization header with a signature.
	Signed bool
	// Verified reports whether the signature is right for Twitter's URL
	// and the secrets given to Verify; false if Verify was not called.
	Verified bool
	// Done is closed when the server has finished its answer: the
	// script ran out, or the client went away.
	Done <-chan struct{}
}

// TrendsRequest is a request the server received for trends/place.
type TrendsRequest struct {
	// WOEID is the id parameter.
	WOEID string
	// Signed reports whether the request carried an OAuth 1.0a
	// Authorization header with a signature.
	Signed bool
	// Verified reports whether the signature is right for Twitter's URL
	// and the secrets given to Verify; false if Verify was not called.
	Verified bool
}

// NewServer starts a server on 127.0.0.1 whose filter stream answers
// with script, in order, and then with 200 and silence, held until the
// client leaves. It answers trends/place with DefaultTrends. The server
// closes when the test ends.
func NewServer(tb testing.TB, script ...Response) *Server {
	tb.Helper()
	s := &Server{
		quit:     make(chan struct{}),
		script:   script,
		fallback: Response{Steps: []Step{Headers(), Stall()}},
		arrived:  make(chan struct{}),
		trends:   Answer(http.StatusOK, DefaultTrends),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /1.1/statuses/filter.json", s.serveFilter)
	mux.HandleFunc("GET /1.1/trends/place.json", s.serveTrends)
	s.ts = httptest.NewServer(mux) // on 127.0.0.1
	s.URL = s.ts.URL
	tb.Cleanup(s.Close)
	return s
}

// Close stops every answer in progress and shuts the server down.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.mu.Unlock()
	s.ts.Close()
}

// Push adds responses to the script.
func (s *Server) Push(responses ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, responses...)
}

// SetFallback sets the answer once the script has run out.
func (s *Server) SetFallback(r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = r
}

// SetTrends sets how trends/place answers.
func (s *Server) SetTrends(r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trends = r
}

// Requests returns the filter stream requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// TrendsRequests returns the trends/place requests received so far.
func (s *Server) TrendsRequests() []TrendsRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TrendsRequest(nil), s.trendRequests...)
}

// WaitRequests waits until the server has received n filter stream
// requests, and returns them all. It fails the test if they do not come
// within ten seconds. Call it from the test's goroutine.
func (s *Server) WaitRequests(tb testing.TB, n int) []Request {
	tb.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.requests), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Requests()
		}
		select {
		case <-arrived:
		case <-deadline.C:
			tb.Fatalf("twittertest: %d stream requests after %v, want %d", got, waitTimeout, n)
		}
	}
}

func (s *Server) serveFilter(w http.ResponseWriter, r *http.Request) {
	done := make(chan struct{})
	defer close(done)
	req := Request{
		Verified: verified(r, twitterStream, s.currentSecrets()),
		Track:    splitTrack(r.FormValue("track")),
		Query:    r.URL.Query(),
		Signed:   signed(r),
		Done:     done,
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	close(s.arrived)
	s.arrived = make(chan struct{})
	resp := s.fallback
	if len(s.script) > 0 {
		resp, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	resp.serve(w, r, s.quit)
}

func (s *Server) serveTrends(w http.ResponseWriter, r *http.Request) {
	req := TrendsRequest{
		Verified: verified(r, twitterAPI, s.currentSecrets()),
		WOEID:    r.FormValue("id"),
		Signed:   signed(r),
	}
	s.mu.Lock()
	s.trendRequests = append(s.trendRequests, req)
	resp := s.trends
	s.mu.Unlock()
	resp.serve(w, r, s.quit)
}

func (s *Server) currentSecrets() *secrets {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets
}

func splitTrack(track string) []string {
	if track == "" {
		return nil
	}
	return strings.Split(track, ",")
}
