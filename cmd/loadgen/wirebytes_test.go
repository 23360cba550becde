package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

func TestCountingDialCountsEveryByteRead(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	var n atomic.Uint64
	dial := countingDial(func(context.Context, string, string) (net.Conn, error) { return client, nil }, &n)
	conn, err := dial(context.Background(), "tcp", "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	sent := bytes.Repeat([]byte("0123456789"), 1000)
	// The writer ends with the pipe: net.Pipe's Write returns once the
	// reader below has taken everything, and Close unblocks it otherwise.
	done := make(chan error, 1)
	go func() {
		_, err := server.Write(sent)
		server.Close()
		done <- err
	}()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) || n.Load() != uint64(len(sent)) {
		t.Errorf("read %d bytes, counted %d; want %d and %d", len(got), n.Load(), len(sent), len(sent))
	}
	if _, err := conn.Write([]byte("join")); err == nil {
		t.Error("a write to a closed pipe succeeded: the counting conn is not the dialled one")
	}
}

func TestCountingDialPassesDialErrorsOn(t *testing.T) {
	var n atomic.Uint64
	dial := countingDial(func(context.Context, string, string) (net.Conn, error) { return nil, io.ErrClosedPipe }, &n)
	if conn, err := dial(context.Background(), "tcp", "127.0.0.1:1"); conn != nil || err != io.ErrClosedPipe {
		t.Errorf("dial = %v, %v; want nil and the dial's error", conn, err)
	}
}

func TestDeflateNegotiated(t *testing.T) {
	for _, tt := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}, true},
		{[]string{"x-other", "Permessage-Deflate; server_no_context_takeover"}, true},
		{[]string{"x-webkit-deflate-frame"}, false},
	} {
		resp := &http.Response{Header: http.Header{"Sec-Websocket-Extensions": tt.header}}
		if got := deflateNegotiated(resp); got != tt.want {
			t.Errorf("deflateNegotiated(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}
