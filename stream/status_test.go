package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

func TestFailureReasonSaysWhatWentWrongInPlainWords(t *testing.T) {
	// A port with nothing listening: take one, then free it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()
	_, refused := net.Dial("tcp", closedAddr)
	if refused == nil {
		t.Fatal("dialing a closed port succeeded")
	}
	_, getRefused := (&http.Client{}).Get("http://" + closedAddr + "/subscribe")

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a name that does not resolve names the host, not the resolver",
			fmt.Errorf("connecting: %w", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "jetstream2.us-east.bsky.network", Server: "127.0.0.53:53", IsNotFound: true}}),
			"connecting: cannot find jetstream2.us-east.bsky.network (no network, or a wrong address)"},
		{"a refused dial names the host", fmt.Errorf("cannot connect: %w", refused),
			"cannot connect: 127.0.0.1 refused the connection"},
		{"a refused HTTP request names the URL's host", getRefused,
			"127.0.0.1 refused the connection"},
		{"a timeout", fmt.Errorf("connecting: %w", &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 443}, Err: context.DeadlineExceeded}),
			"connecting: 192.0.2.1 did not answer in time"},
		{"a connection cut by the peer", fmt.Errorf("connection lost: %w", &net.OpError{Op: "read", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 443}, Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
			"connection lost: the connection to 192.0.2.1 was cut"},
		{"a source's own words are kept", errors.New("HTTP 420: rate limited"), "HTTP 420: rate limited"},
		{"a joined error hides the resolver too", errors.Join(errors.New("connecting"), &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "jetstream.example", Server: "127.0.0.53:53"}}),
			"cannot find jetstream.example (no network, or a wrong address)"},
		{"two wrapped errors hide the resolver too", fmt.Errorf("connecting: %w, then %w", errors.New("first"), &net.DNSError{Err: "no such host", Name: "jetstream.example", Server: "127.0.0.53:53"}),
			"connecting: first, then: cannot find jetstream.example (no network, or a wrong address)"},
		{"a network failure it cannot name keeps the URL's query out", fmt.Errorf("connecting: %w", &url.Error{Op: "Get", URL: "https://stream.example/filter?access_token=SECRET", Err: errors.New("http2: server sent GOAWAY")}),
			"connecting: a network error talking to stream.example"},
		{"no error, no reason", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FailureReason(tt.err); got != tt.want {
				t.Errorf("FailureReason(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestFailureReasonIsShort(t *testing.T) {
	got := FailureReason(errors.New(strings.Repeat("ä", 200)))
	if len(got) > MaxReasonBytes+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("FailureReason = %q (%d bytes), want at most %d bytes of valid UTF-8, marked as cut", got, len(got), MaxReasonBytes)
	}
}
