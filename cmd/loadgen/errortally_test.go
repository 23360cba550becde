package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"
)

func TestDialErrorKind(t *testing.T) {
	dialErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	for _, tt := range []struct {
		name string
		err  error
		resp *http.Response
		want string
	}{
		{"a refused connection", dialErr(syscall.ECONNREFUSED), nil, "dial: connection refused"},
		{"the open-file limit", &net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.EMFILE)}, nil, "dial: too many open files"},
		{"no local port left", dialErr(syscall.EADDRNOTAVAIL), nil, "dial: no free local port"},
		{"a refused upgrade, by its status", websocket.ErrBadHandshake, &http.Response{StatusCode: 403}, "handshake: status 403"},
		{"the handshake's time running out", context.DeadlineExceeded, nil, "dial: timeout"},
		{"the run ending during the dial is no error", context.Canceled, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialErrorKind(tt.err, tt.resp); got != tt.want {
				t.Errorf("dialErrorKind(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestReadErrorKind(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"the server shutting down", &websocket.CloseError{Code: websocket.CloseGoingAway}, "close 1001"},
		{"the server finding the client too slow", &websocket.CloseError{Code: websocket.ClosePolicyViolation}, "close 1008"},
		{"a reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "read: connection reset"},
		{"a connection that just ends", io.ErrUnexpectedEOF, "read: connection lost"},
		{"a frame over the limit", websocket.ErrReadLimit, "read: frame over the read limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := readErrorKind(tt.err); got != tt.want {
				t.Errorf("readErrorKind(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestTooManyOpenFilesSuggestsUlimitOnce(t *testing.T) {
	var stderr bytes.Buffer
	f := newFleet(&stderr)
	err := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}
	for range 3 {
		newClient(false, []string{"golang"}, f).dialFailed(err, nil)
	}
	if got := strings.Count(stderr.String(), "ulimit -n"); got != 1 {
		t.Errorf("the ulimit hint was printed %d times, want once:\n%s", got, stderr.String())
	}
	if got := f.errors.snapshot()["dial: too many open files"]; got != 3 {
		t.Errorf("counted %d dial errors, want 3", got)
	}
}
