package jetstreamtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
)

// Profile is what the fake profile endpoint answers for an actor.
type Profile struct {
	Handle      string
	DisplayName string
	// Avatar is the URL of the actor's picture; empty means none.
	Avatar string
}

// ProfileServer is a fake app.bsky.actor.getProfile endpoint, at URL. It
// answers the profiles given to Set and, as Bluesky does, HTTP 400
// "Profile not found" for any other actor. Fail and Stall make it misbehave.
type ProfileServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	profiles map[string]Profile
	lookups  []string
	looked   chan struct{} // closed and replaced by each lookup
	status   int           // when not zero, every lookup's answer
	stalled  chan struct{} // when not nil, lookups wait for it to close
}

// NewProfileServer starts a fake profile endpoint. Close it when done.
func NewProfileServer() *ProfileServer {
	p := &ProfileServer{profiles: make(map[string]Profile), looked: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /xrpc/app.bsky.actor.getProfile", p.serveProfile)
	p.srv = httptest.NewServer(mux)
	return p
}

// URL is the endpoint:
// http://127.0.0.1:port/xrpc/app.bsky.actor.getProfile.
func (p *ProfileServer) URL() string {
	return p.srv.URL + "/xrpc/app.bsky.actor.getProfile"
}

// Set makes the endpoint answer prof for did.
func (p *ProfileServer) Set(did string, prof Profile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.profiles[did] = prof
}

// Fail makes every lookup answer this HTTP status with an XRPC error;
// 0 answers normally again.
func (p *ProfileServer) Fail(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = status
}

// Stall makes lookups wait, until Resume or until their client gives up.
func (p *ProfileServer) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
}

// Resume lets the stalled lookups, and later ones, proceed.
func (p *ProfileServer) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
}

// Lookups returns the actors asked about so far, in order.
func (p *ProfileServer) Lookups() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lookups)
}

// WaitLookups waits until the endpoint has been asked at least n times,
// and returns the actors asked about; or returns ctx's error.
func (p *ProfileServer) WaitLookups(ctx context.Context, n int) ([]string, error) {
	for {
		p.mu.Lock()
		lookups, looked := slices.Clone(p.lookups), p.looked
		p.mu.Unlock()
		if len(lookups) >= n {
			return lookups, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-looked:
		}
	}
}

// Close lets stalled lookups end and stops the server.
func (p *ProfileServer) Close() {
	p.Resume()
	p.srv.Close()
}

// serveProfile answers one lookup.
func (p *ProfileServer) serveProfile(w http.ResponseWriter, r *http.Request) {
	actor := r.URL.Query().Get("actor")
	p.mu.Lock()
	p.lookups = append(p.lookups, actor)
	close(p.looked)
	p.looked = make(chan struct{})
	prof, found := p.profiles[actor]
	status, stalled := p.status, p.stalled
	p.mu.Unlock()

	if stalled != nil {
		select {
		case <-stalled:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case status != 0:
		writeJSON(w, status, map[string]string{"error": "InternalServerError", "message": http.StatusText(status)})
	case !found:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidRequest", "message": "Profile not found"})
	default:
		view := map[string]string{"did": actor, "handle": prof.Handle}
		if prof.DisplayName != "" {
			view["displayName"] = prof.DisplayName
		}
		if prof.Avatar != "" {
			view["avatar"] = prof.Avatar
		}
		writeJSON(w, http.StatusOK, view)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
