package main

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// proxyBuffer is what the proxy asks the kernel to buffer on each side of a
// connection, and the size of its own copy buffer: small, so that while it
// stops reading, the server's writes back up into the server's bounded
// queue within a few frames rather than into megabytes of socket buffers.
const proxyBuffer = 16 << 10

// tcpProxy stands between the browser and the server, on 127.0.0.1, and does
// to the page's connections what a bad network does: it cuts them, or stops
// delivering what the server sends on them. No hook in the server is needed.
type tcpProxy struct {
	t      *testing.T
	ln     net.Listener
	target string // the server's host:port

	mu    sync.Mutex
	conns map[*proxiedConn]struct{}
	// refusing closes every new connection at once, as a server that is
	// down would.
	refusing bool

	wg sync.WaitGroup // the accept loop, and two copiers per connection
}

// refuse makes the proxy close every new connection at once while on is
// true; the connections open now are left as they are.
func (px *tcpProxy) refuse(on bool) {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.refusing = on
}

// proxiedConn is one browser connection and the proxy's connection to the
// server for it.
type proxiedConn struct {
	client, server net.Conn
	closed         chan struct{}
	closeOnce      sync.Once

	mu        sync.Mutex
	websocket bool          // its first request was GET /ws
	stalled   chan struct{} // non-nil while reads from the server stop; closed to resume
}

// newProxy starts a proxy to s. It is closed, with every connection through
// it, when the test ends.
func newProxy(t *testing.T, s *server) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &tcpProxy{t: t, ln: ln, target: s.url[len("http://"):], conns: map[*proxiedConn]struct{}{}}
	px.wg.Go(px.accept)
	t.Cleanup(px.close)
	return px
}

// url is the base URL to load the page from, through the proxy.
func (px *tcpProxy) url() string { return "http://" + px.ln.Addr().String() }

// accept serves connections until the listener is closed.
func (px *tcpProxy) accept() {
	for {
		client, err := px.ln.Accept()
		if err != nil {
			return // closed
		}
		px.mu.Lock()
		refusing := px.refusing
		px.mu.Unlock()
		if refusing {
			client.Close()
			continue
		}
		server, err := net.DialTimeout("tcp", px.target, 5*time.Second)
		if err != nil {
			px.t.Logf("proxy: dialling the server: %v", err)
			client.Close()
			continue
		}
		for _, c := range []net.Conn{client, server} {
			if tcp, ok := c.(*net.TCPConn); ok {
				_ = tcp.SetReadBuffer(proxyBuffer)
				_ = tcp.SetWriteBuffer(proxyBuffer)
			}
		}
		pc := &proxiedConn{client: client, server: server, closed: make(chan struct{})}
		px.mu.Lock()
		px.conns[pc] = struct{}{}
		px.mu.Unlock()
		px.wg.Go(func() {
			pc.copyFromClient()
			px.drop(pc)
		})
		px.wg.Go(func() {
			pc.copyFromServer()
			px.drop(pc)
		})
	}
}

// drop closes pc and forgets it.
func (px *tcpProxy) drop(pc *proxiedConn) {
	pc.close()
	px.mu.Lock()
	delete(px.conns, pc)
	px.mu.Unlock()
}

// current returns the connections open now; websocketsOnly keeps those that
// carry a WebSocket.
func (px *tcpProxy) current(websocketsOnly bool) []*proxiedConn {
	px.mu.Lock()
	defer px.mu.Unlock()
	var out []*proxiedConn
	for pc := range px.conns {
		pc.mu.Lock()
		ws := pc.websocket
		pc.mu.Unlock()
		if ws || !websocketsOnly {
			out = append(out, pc)
		}
	}
	return out
}

// sever cuts every connection open now, as a server that drops them would,
// and reports how many of them carried a WebSocket.
func (px *tcpProxy) sever() (websockets int) {
	for _, pc := range px.current(false) {
		pc.mu.Lock()
		if pc.websocket {
			websockets++
		}
		pc.mu.Unlock()
		px.drop(pc)
	}
	return websockets
}

// stallWebSockets stops reading what the server sends on every WebSocket
// open now, as a client too slow to keep up would, until resume is called.
// It reports how many it stalled.
func (px *tcpProxy) stallWebSockets() (n int, resume func()) {
	conns := px.current(true)
	for _, pc := range conns {
		pc.mu.Lock()
		if pc.stalled == nil {
			pc.stalled = make(chan struct{})
		}
		pc.mu.Unlock()
	}
	return len(conns), func() {
		for _, pc := range conns {
			pc.mu.Lock()
			if pc.stalled != nil {
				close(pc.stalled)
				pc.stalled = nil
			}
			pc.mu.Unlock()
		}
	}
}

// close stops the proxy: no new connections, every open one cut, every
// goroutine returned.
func (px *tcpProxy) close() {
	px.ln.Close()
	px.sever()
	px.wg.Wait()
}

func (pc *proxiedConn) close() {
	pc.closeOnce.Do(func() {
		close(pc.closed)
		pc.client.Close()
		pc.server.Close()
	})
}

// copyFromClient copies the browser's bytes to the server until either side
// closes, noting whether the connection is the page's WebSocket. Browsers
// open a connection of its own for each WebSocket, so its first bytes say.
func (pc *proxiedConn) copyFromClient() {
	buf := make([]byte, proxyBuffer)
	first := true
	for {
		n, err := pc.client.Read(buf)
		if n > 0 {
			if first && bytes.HasPrefix(buf[:n], []byte("GET /ws")) {
				pc.mu.Lock()
				pc.websocket = true
				pc.mu.Unlock()
			}
			first = false
			if _, werr := pc.server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// copyFromServer copies the server's bytes to the browser until either side
// closes, pausing while the connection is stalled.
func (pc *proxiedConn) copyFromServer() {
	buf := make([]byte, proxyBuffer)
	for {
		pc.mu.Lock()
		stalled := pc.stalled
		pc.mu.Unlock()
		if stalled != nil {
			select {
			case <-stalled:
			case <-pc.closed:
				return
			}
		}
		n, err := pc.server.Read(buf)
		if n > 0 {
			if _, werr := pc.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// severAndReconnect cuts the page's socket at the proxy and waits until
// the page has shown that it is reconnecting and is live again; states is
// how many connection states the probe had seen before.
func severAndReconnect(p *browserPage, px *tcpProxy, states int) {
	p.t.Helper()
	if n := px.sever(); n == 0 {
		p.t.Fatal("the proxy cut no WebSocket: the page's socket does not go through it")
	}
	waitFor[bool](p, "reconnecting, then live again", fmt.Sprintf(`(() => {
		const seen = window.__tsProbe.conn.slice(%d);
		const i = seen.indexOf("reconnecting");
		return i >= 0 && seen.indexOf("live", i) > i &&
			document.querySelector('[data-testid="conn-state"]').dataset.state === "live";
	})()`, states))
}
