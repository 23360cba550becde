package rooms

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// The defaults of the connection limits in Config.
const (
	// DefaultMaxConns is a node's connections at once: an idle one costs
	// about 8 KiB, so 20,000 of them hold some 160 MiB.
	DefaultMaxConns = 20_000
	// DefaultMaxConnsPerIP is one address's connections at once, enough
	// for a conference hall behind one NAT.
	DefaultMaxConnsPerIP = 500
	// DefaultMaxCustomTrendsPerIP is how many standing custom trends the
	// clients at one address may have added: a few columns of one's own.
	DefaultMaxCustomTrendsPerIP = 5
	// DefaultRoomlessTimeout is how long a connection may stay in no room.
	DefaultRoomlessTimeout = 10 * time.Minute
)

// NoCustomTrends, as Config.MaxCustomTrendsPerIP, lets no client add a
// trend; the command's -max-trends-per-ip maps its 0 to it.
const NoCustomTrends = -1

// retryAfter is what a refused upgrade tells the client to wait, in
// seconds: long enough for connections to come and go.
const retryAfter = 10

// limits are the connection counts the hub admits against; h.mu guards
// them.
type limits struct {
	conns int            // admitted, upgraded or not yet
	perIP map[string]int // admitted, by client address
}

// admit reserves a connection for the client at ip, or answers the request
// with why not: 503 past MaxConns, 429 past MaxConnsPerIP (which does not
// count loopback addresses: a proxy on the same machine, or a load test).
// A reservation is given back with release.
func (h *Hub) admit(w http.ResponseWriter, ip string) bool {
	h.mu.Lock()
	var status int
	var why string
	retry := !h.closing
	switch {
	case h.closing:
		status, why = http.StatusServiceUnavailable, "shutting down"
	case h.limits.conns >= h.cfg.MaxConns:
		h.counters.refusedFull.Add(1)
		status, why = http.StatusServiceUnavailable, fmt.Sprintf("this server holds %d connections, its most: try again later", h.cfg.MaxConns)
	case !isLoopback(ip) && h.limits.perIP[ip] >= h.cfg.MaxConnsPerIP:
		h.counters.refusedPerIP.Add(1)
		status, why = http.StatusTooManyRequests, fmt.Sprintf("at most %d connections from one address", h.cfg.MaxConnsPerIP)
	default:
		h.limits.conns++
		h.limits.perIP[ip]++
		h.mu.Unlock()
		return true
	}
	h.mu.Unlock()
	if status == http.StatusTooManyRequests {
		h.log.Debug("websocket upgrade refused: too many from one address", "ip", ip, "limit", h.cfg.MaxConnsPerIP)
	}
	if retry {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	http.Error(w, why, status)
	return false
}

// release gives back the reservation admit made for ip.
func (h *Hub) release(ip string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.limits.conns--
	if h.limits.perIP[ip]--; h.limits.perIP[ip] <= 0 {
		delete(h.limits.perIP, ip)
	}
}

// clientIP is the address a request counts against: Config.ClientIP's
// answer, or the peer's address.
// An IPv6 /64 is one host's network, whose addresses it picks at will;
// IPv6 clients are counted by it.
func (h *Hub) clientIP(r *http.Request) string {
	ip := ""
	if h.cfg.ClientIP != nil {
		ip = h.cfg.ClientIP(r)
	}
	if ip == "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		ip = host
	}
	addr, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return ip
	case addr.Is4In6() || addr.Is4():
		return addr.Unmap().String()
	case addr.IsLoopback():
		return addr.String()
	}
	p, _ := addr.WithZone("").Prefix(64)
	return p.String()
}

// ClientAddr is the address the limits count a request's client by, as a
// connection's (see Config.ClientIP): for Open, on behalf of a page.
func (h *Hub) ClientAddr(r *http.Request) string { return h.clientIP(r) }

func isLoopback(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	return err == nil && addr.Unmap().IsLoopback()
}

// counted reports whether the custom trends of a client at addr count
// against MaxCustomTrendsPerIP: a loopback client is a proxy on the same
// machine or a load test, which speak for many.
func counted(addr string) bool { return addr != "" && !isLoopback(addr) }

// mayAddLocked refuses a new custom trend for a client at addr past
// MaxCustomTrendsPerIP. h.mu is held.
func (h *Hub) mayAddLocked(addr string) error {
	limit := h.cfg.MaxCustomTrendsPerIP
	switch {
	case limit < 0:
		return &Error{Code: CodeTooManyTrends, Message: "this server follows only its own trends"}
	case counted(addr) && h.customBy[addr] >= limit:
		return &Error{Code: CodeTooManyTrends, Message: fmt.Sprintf(
			"one address may add at most %d trends; each goes once no one has watched it for %s", limit, h.cfg.IdleTrendTTL)}
	}
	return nil
}

// closeRoomless closes the connections that have been in no room for
// longer than RoomlessTimeout: they cost a slot and receive only the trend
// list. A page opens its socket again when it is closed.
func (h *Hub) closeRoomless(now time.Time) {
	cutoff := now.Add(-h.cfg.RoomlessTimeout).UnixNano()
	h.mu.RLock()
	var idle []*client
	for c := range h.clients {
		if since := c.roomlessSince.Load(); since != 0 && since < cutoff {
			idle = append(idle, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range idle {
		c.stop(DisconnectRoomless)
	}
}
