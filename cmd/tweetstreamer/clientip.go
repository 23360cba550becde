package main

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the function that names a request's client for the
// per-address connection limit. Behind a proxy every connection comes
// from the proxy, so a request from one of trusted takes the client from
// X-Forwarded-For: its last address that is not a trusted proxy, since
// whatever stands before that the client itself may have written. A
// request from anywhere else is its peer's address, whatever it claims.
func clientIP(trusted []netip.Prefix) func(r *http.Request) string {
	if len(trusted) == 0 {
		return nil
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return ""
		}
		peer, err := netip.ParseAddr(host)
		if err != nil || !isTrusted(peer) {
			return ""
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				return "" // a hop that is no address: trust none before it
			}
			if !isTrusted(a) {
				return a.Unmap().String()
			}
		}
		return ""
	}
}

// parsePrefixes reads -trusted-proxies: addresses (a /32 or /128) and
// CIDR ranges.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
