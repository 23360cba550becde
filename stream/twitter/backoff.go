package twitter

import "time"

// Twitter's rules for reconnecting to a stream
// (https://developer.twitter.com/en/docs/twitter-api/v1/tweets/filter-realtime/guides/connecting).
// Each kind of failure has its own ladder of waits, and a successful
// connection starts every ladder again from its first step. The source
// never waits less than a rule says, and adds no jitter: one server holds
// one stream, so there is no herd to spread.
const (
	// networkStep is the first wait after a TCP/IP-level failure (a
	// refused or broken connection, a stream that ended or stalled), and
	// each further failure in a row waits this much longer: such problems
	// usually clear quickly. Twitter asks for an immediate reconnect when
	// an established stream drops; a quarter of a second is as good, and
	// a server that accepts and then drops at once cannot spin the source
	// in a tight loop, as it does go-twitter.
	networkStep = 250 * time.Millisecond
	// maxNetworkWait caps the linear network ladder.
	maxNetworkWait = 16 * time.Second
	// firstHTTPWait is the first wait after an HTTP error status other
	// than 420 and 429; each further one in a row doubles it.
	firstHTTPWait = 5 * time.Second
	// maxHTTPWait caps the HTTP ladder.
	maxHTTPWait = 320 * time.Second
	// firstRateLimitWait is the first wait after HTTP 420 or 429 (the
	// client connects too often); each further one in a row doubles it.
	firstRateLimitWait = time.Minute
	// maxRateLimitWait only keeps the doubling finite. Twitter's rule
	// sets no ceiling, because every 420 lengthens the ban, so the source
	// keeps doubling far past the point where Status has told the
	// operator to look.
	maxRateLimitWait = 24 * time.Hour
)

// failureKind says which ladder a failure climbs.
type failureKind int

const (
	networkFailure   failureKind = iota // TCP/IP level: linear
	httpFailure                         // an HTTP error status: exponential
	rateLimitFailure                    // HTTP 420 or 429: exponential from a minute
)

// backoff counts the failures of each kind since the last successful
// connection. Its zero value is ready to use. It is not a stream.Backoff,
// which the other sources share: Twitter's rules keep a ladder per kind of
// failure, the network one linear, and call for no jitter.
type backoff struct {
	network, http, rateLimit int
}

// next records a failure of kind and returns how long to wait before the
// next attempt.
func (b *backoff) next(kind failureKind) time.Duration {
	switch kind {
	case httpFailure:
		b.http = min(b.http+1, 64)
		return doubled(firstHTTPWait, b.http, maxHTTPWait)
	case rateLimitFailure:
		b.rateLimit = min(b.rateLimit+1, 64)
		return doubled(firstRateLimitWait, b.rateLimit, maxRateLimitWait)
	default:
		b.network = min(b.network+1, int(maxNetworkWait/networkStep))
		return time.Duration(b.network) * networkStep
	}
}

// reset starts every ladder again, after a successful connection.
func (b *backoff) reset() { *b = backoff{} }

// doubled returns first doubled n-1 times, capped at limit.
func doubled(first time.Duration, n int, limit time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
