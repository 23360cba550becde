package stream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// SourceState is where a live source stands with its upstream.
type SourceState string

// The states a StatusReporter reports.
const (
	SourceConnecting SourceState = "connecting"  // opening its stream
	SourceConnected  SourceState = "connected"   // receiving
	SourceBackingOff SourceState = "backing_off" // waiting to reconnect, until RetryAt
	SourceFailed     SourceState = "failed"      // refused or given up: Reason says why, RetryAt when it tries again, if it does
)

// SourceStatus is what a live source tells about its upstream: in the logs,
// in /healthz and as a banner on the page.
type SourceStatus struct {
	State SourceState `json:"state"`
	// Since is when it entered State.
	Since time.Time `json:"since"`
	// RetryAt is when it reconnects: while backing off, and after a
	// failure it will try again.
	RetryAt time.Time `json:"retry_at,omitzero"`
	// Reason is the last failure, in a few words; never a secret.
	Reason string `json:"reason,omitempty"`
	// Counts are the source's own counters, such as matches the upstream
	// could not deliver or messages of unknown types.
	Counts map[string]int64 `json:"counts,omitempty"`
}

// CountReconnects is the key of SourceStatus.Counts under which a live
// source counts its reconnections: the connections it attempted after the
// first, each a sign that its upstream was lost.
const CountReconnects = "reconnects"

// A StatusReporter is a Source that knows more about its upstream than the
// ingester sees. Status is called from other goroutines, often.
type StatusReporter interface {
	Status() SourceStatus
}

// TagCount is a hashtag, without the "#", and how often it was seen.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
}

// A Trender is a Source whose upstream has a trends API of its own, which
// the "trending now" list uses instead of counting hashtags itself.
type Trender interface {
	Trending(ctx context.Context) ([]TagCount, error)
}

// FailureReason says in plain words why a live source lost its upstream,
// for SourceStatus.Reason, which a viewer reads on the page. The network
// library's part of err ("dial tcp: lookup jetstream.example on
// 127.0.0.53:53: no such host") becomes what it means ("cannot find
// jetstream.example (no network, or a wrong address)"), after what the
// source said of it ("connecting: "). An error with no such part keeps its
// message, which a source writes in a few words ("HTTP 420: rate limited").
// Either way it is cut to MaxReasonBytes.
func FailureReason(err error) string {
	if err == nil {
		return ""
	}
	tech := networkPart(err)
	if tech == nil {
		return clipReason(err.Error())
	}
	plain := plainNetworkFailure(err, tech)
	if plain == "" {
		// Not one a viewer would recognise; the library's words could
		// hold an address or a URL's query, which a page must not show.
		plain = "a network error talking to " + failedHost(tech)
	}
	if prefix, ok := strings.CutSuffix(err.Error(), tech.Error()); ok {
		if prefix = strings.TrimRight(prefix, ": "); prefix != "" && !strings.ContainsAny(prefix, "\n") {
			plain = prefix + ": " + plain
		}
	}
	return clipReason(plain)
}

// networkPart returns the outermost error in err's tree that the network
// library made, or nil.
func networkPart(err error) error {
	if u, ok := errors.AsType[*url.Error](err); ok && u != nil {
		return u
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op != nil {
		return op
	}
	if d, ok := errors.AsType[*net.DNSError](err); ok && d != nil {
		return d
	}
	return nil
}

// plainNetworkFailure says what tech, the network part of err, means, or
// "" when it is nothing a viewer would recognise.
func plainNetworkFailure(err, tech error) string {
	host := failedHost(tech)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr != nil:
		name := dnsErr.Name
		if name == "" {
			name = host
		}
		return fmt.Sprintf("cannot find %s (no network, or a wrong address)", name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection", host)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return fmt.Sprintf("cannot reach %s (no network)", host)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("%s did not answer in time", host)
	case errors.As(err, new(*tls.CertificateVerificationError)), errors.As(err, new(x509.UnknownAuthorityError)),
		errors.As(err, new(x509.HostnameError)), errors.As(err, new(x509.CertificateInvalidError)):
		return fmt.Sprintf("%s's certificate could not be verified", host)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.EPIPE):
		return fmt.Sprintf("the connection to %s was cut", host)
	}
	return ""
}

// MaxReasonBytes bounds what FailureReason returns, so SourceStatus.Reason
// stays a few words.
const MaxReasonBytes = 160

// clipReason cuts msg to MaxReasonBytes, on a rune boundary.
func clipReason(msg string) string {
	if len(msg) <= MaxReasonBytes {
		return msg
	}
	cut := MaxReasonBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// failedHost is the host that err is about, or "the server" when it does
// not say.
func failedHost(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		if u, perr := url.Parse(urlErr.URL); perr == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr != nil && opErr.Addr != nil {
		if host, _, serr := net.SplitHostPort(opErr.Addr.String()); serr == nil {
			return host
		}
		return opErr.Addr.String()
	}
	return "the server"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
