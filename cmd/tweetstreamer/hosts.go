package main

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// withAllowedHosts answers only requests whose Host is one of hosts, when
// there are any: a page on a hostile name that resolves to this server
// (DNS rebinding) passes the same-origin check, since its Origin and Host
// agree, but not this one. An IP address and "localhost" always pass: no
// one can rebind them, and health probes often use the address. The port
// is not compared. Every other request gets 421 Misdirected Request, the
// WebSocket upgrade included, before anything else runs.
func withAllowedHosts(hosts []string, next http.Handler) http.Handler {
	if len(hosts) == 0 {
		return next
	}
	return onlyHosts(hosts, next)
}

// onlyHosts answers only requests for one of hosts, an IP address or
// localhost, whether hosts is empty or not: the profiles are for whoever
// runs the process, never for a page a browser was lured to.
func onlyHosts(hosts []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(hosts, r.Host) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusMisdirectedRequest)
			_, _ = w.Write([]byte("this server does not answer to that host name (see -allowed-hosts)\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a request's Host header names one of hosts
// (compared without the port and the case), an IP address or localhost.
func hostAllowed(hosts []string, hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil || host == "localhost" {
		return true
	}
	return slices.Contains(hosts, host)
}

// hostError says what is wrong with an -allowed-hosts entry, or "" when it
// is a host name: lower case, no port, no scheme.
func hostError(h string) string {
	switch {
	case h == "":
		return "empty"
	case strings.ContainsAny(h, "/:@ *"):
		return "want a bare host name such as example.com, without scheme, port or wildcard"
	case h != strings.ToLower(h):
		return "write it in lower case"
	}
	return ""
}
