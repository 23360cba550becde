package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
)

// countingConn is a connection that adds every byte read from it to n:
// what the server sent, as it came over the socket (frame headers and
// compressed payloads included). One atomic add per read; a client's
// reader goroutine is the only one that reads.
type countingConn struct {
	net.Conn
	n *atomic.Uint64
}

func (c *countingConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	if k > 0 {
		c.n.Add(uint64(k))
	}
	return k, err
}

// dialFunc is the type of websocket.Dialer's NetDialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// countingDial returns a dial function whose connections count the bytes
// they read into n. It dials with dial, or a plain net.Dialer when nil, as
// gorilla would.
func countingDial(dial dialFunc, n *atomic.Uint64) dialFunc {
	if dial == nil {
		dial = new(net.Dialer).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, n: n}, nil
	}
}

// deflateNegotiated reports whether a handshake's response accepted
// permessage-deflate (RFC 7692).
func deflateNegotiated(resp *http.Response) bool {
	for _, v := range resp.Header.Values("Sec-WebSocket-Extensions") {
		if strings.Contains(strings.ToLower(v), "permessage-deflate") {
			return true
		}
	}
	return false
}
