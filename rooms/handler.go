package rooms

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// socketSendBuffer is the kernel's send buffer for each connection: a few
// full frames, enough to keep a fast reader's pipe full.
const socketSendBuffer = 128 << 10

// writeBufferPool would lend the websocket library write buffers while it
// writes a message; it writes only control frames, which need none, so
// with a pool no connection holds one (the writer frames messages itself).
var writeBufferPool = &sync.Pool{}

// ServeHTTP upgrades a request to a WebSocket speaking the live protocol.
// A browser Origin that is neither this server's nor allowed gets 403
// before the upgrade; a client without an Origin header is let in. The
// query's tweet parameter picks the variant of tweet messages (see
// variant); a value that is none gets 400. A client that offers
// permessage-deflate gets it, without context takeover, unless
// Config.NoCompression.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, err := parseVariant(r.URL.Query().Get("tweet"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize:    128, // clients send little: a join is a few dozen bytes
		WriteBufferSize:   16 << 10,
		WriteBufferPool:   writeBufferPool,
		CheckOrigin:       h.checkOrigin,
		EnableCompression: !h.cfg.NoCompression,
	}
	ip := h.clientIP(r)
	if !h.admit(w, ip) {
		return
	}
	uw := &upgradeWriter{ResponseWriter: w, handedOver: &h.handedOver}
	conn, err := up.Upgrade(uw, r, nil)
	if err != nil {
		h.release(ip)
		// The upgrader has answered with the error status.
		h.log.Debug("websocket upgrade refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	// A small kernel send buffer keeps a slow reader's backlog in the queue,
	// where it is bounded and reported as skipped, instead of megabytes of
	// socket buffer that only make it later and later.
	if tcp, ok := uw.conn.Conn.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(socketSendBuffer)
	}
	c := newClient(h, conn, uw.conn)
	c.ip, c.variant, c.packed = ip, v, uw.conn.deflate
	c.roomlessSince.Store(time.Now().UnixNano())
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		close(c.readDone) // no reader runs, so none to wait for
		c.stop(DisconnectShutdown)
		c.writers.Wait()
		h.release(ip)
		return
	}
	h.clients[c] = struct{}{}
	h.conns.Add(1)
	h.counters.opened.Add(1)
	if c.packed {
		h.counters.openedCompressed.Add(1)
	}
	c.growQueue(h.queueBytes)
	// The list is taken with the client registered, so that no broadcast
	// of a later list can fall between the two.
	c.send(h.trendsOnConnect().entryFor(c, nil))
	h.sendAnnouncementsLocked(c)
	h.mu.Unlock()

	c.readLoop()
}

// forget drops a connection whose reader has finished.
func (h *Hub) forget(c *client) {
	c.mu.Lock()
	d := c.closeWith
	c.mu.Unlock()
	h.counters.countClosed(d)
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	h.release(c.ip)
	h.conns.Done()
}

func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, allowed := range h.cfg.AllowedOrigins {
		if allowed == "*" || strings.EqualFold(strings.TrimSuffix(allowed, "/"), u.Scheme+"://"+u.Host) {
			return true
		}
	}
	return false
}
