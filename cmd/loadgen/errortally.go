package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"syscall"

	"github.com/gorilla/websocket"
)

// errorTally counts errors by kind. Errors are rare next to messages, so
// one mutex for every client costs nothing that shows.
type errorTally struct {
	mu     sync.Mutex
	counts map[string]uint64
}

func (t *errorTally) add(kind string, n uint64) {
	if n == 0 {
		return
	}
	t.mu.Lock()
	if t.counts == nil {
		t.counts = make(map[string]uint64)
	}
	t.counts[kind] += n
	t.mu.Unlock()
}

func (t *errorTally) snapshot() map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.counts)
}

// dialErrorKind names a failed dial. It returns "" when the dial was only
// cut short by the end of the run.
func dialErrorKind(err error, resp *http.Response) string {
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrBadHandshake) && resp != nil:
		return fmt.Sprintf("handshake: status %d", resp.StatusCode)
	case errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "dial: too many open files"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "dial: connection refused"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "dial: no free local port"
	case errors.Is(err, syscall.ECONNRESET):
		return "dial: connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "dial: timeout"
	}
	return "dial: other"
}

// readErrorKind names what ended a connection's reads. A close frame from
// the server is named by its code: 1001 when the server shuts down, 1008
// when it found the client too slow.
func readErrorKind(err error) string {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("close %d", ce.Code)
	case errors.Is(err, websocket.ErrReadLimit):
		return "read: frame over the read limit"
	case errors.Is(err, syscall.ECONNRESET):
		return "read: connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "read: connection lost"
	case errors.As(err, &ne) && ne.Timeout():
		return "read: timeout"
	}
	return "read: other"
}

// Error kinds the reader counts without an error value.
const (
	kindMalformed = "malformed message"
	kindUntimed   = "tweet without a valid ingested_at"
	kindStray     = "message for a room not joined"
)
