package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// config is everything the flags set.
type config struct {
	url         string
	clients     int
	rooms       int
	roomNames   []string
	perClient   int
	duration    time.Duration
	connectRate float64
	slow        int
	json        bool
	warmup      time.Duration
	origin      string
	tweet       string // the form of tweet messages to ask for
	compress    bool   // offer permessage-deflate
}

// usageError is a bad flag or flag value: the command exits with 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// readingTheReport ends the -h text.
const readingTheReport = `
Reading the report. A progress line goes to stderr every second: time
since start, the phase, connections open out of those asked, clients that
joined all their rooms, live tweets received in the last second, p99
latency so far, tweets lost and skipped so far, errors, and this process's
CPU use. At the end a table goes to stdout and then, with -json, one JSON
line, always the last line, for 'tail -1 | jq'.

The measured window starts once every client has joined its rooms (or
failed) and lasts -duration. "deliveries" are the live tweets received in
it, and deliveries/s divides them by the window. The tweets a join sends
from the room's history ("backlog") are counted apart and never timed.
Latency runs from a tweet's ingested_at to the moment the part of its
frame that holds it was read, over the window less its first -warmup: it
includes the server's queues, the network and this process's own delays.
"lost" counts the seqs missing between two tweets of a room for one
client, from the first tweet it saw there; "skipped" adds up the counts
of skipped messages, tweets the server dropped for a client that could
not keep up and said so. Both cover the whole run. Slow clients (-slow)
have their own column: they are meant to lose tweets; fast clients that
lose tweets or slow down while they do would mean one slow reader hurts
the others. Errors are counted by kind: dial, handshake status, read,
close codes received, and the codes of the server's error messages.
Messages of the types it does not count (stats, trends, trending, source,
left, retract) are not read, so a malformed one is not counted.

The line "tweets:" says which form -tweet asked for and how many tweets
came in each form (tweet_forms): a server that does not know ?tweet=
sends full ones. A card carries no ingested_at: with -tweet card the
latency rows say "n/a", and the JSON's latency_ms has 0 samples.

"wire bytes" counts what the clients read from their sockets, frame
headers and the messages that are not tweets (stats, the trend list)
included: per delivery it divides the window's bytes by its deliveries,
so it shows what a form (-tweet) or compression (-compress) saves.
"compression" says how many connections negotiated permessage-deflate
(compressed_conns): with -compress, a server that does not offer it
leaves the bytes as they were.

Look at "loadgen CPU" first: near 100% of one core means this process, not
the server, was the limit, and the figures understate the server.

Exit status: 0 after a run, 1 when no client could connect or join or
the trend list could not be read, 2 for a bad flag, or a -rooms or
-per-client above the trends the server announces.
`

// parseConfig reads the command line. It returns flag.ErrHelp after
// writing the usage to stdout for -h.
func parseConfig(args []string, stdout io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var usage bytes.Buffer
	fs.SetOutput(&usage)
	fs.StringVar(&cfg.url, "url", "ws://127.0.0.1:8080/ws", "the server's WebSocket endpoint; a loopback address only (127.0.0.1, ::1 or localhost)")
	fs.IntVar(&cfg.clients, "clients", 1000, "connections to open, each one client")
	fs.IntVar(&cfg.rooms, "rooms", 0, "rooms to spread the clients over, taken from the trends the server announces, "+
		"configured ones first; 0 takes them all. More than the server announces is an error: start it with more -trends, "+
		"or give -room-names")
	fs.Func("room-names", "a comma-separated `list` of rooms to use instead of the server's trends (-rooms 0 takes them all). "+
		"A name the server does not have becomes a custom trend, which stays on its trend list for its -idle-trend-ttl "+
		"after the run: the load generator warns which", func(s string) error {
		cfg.roomNames = nil
		for _, name := range strings.Split(s, ",") {
			if name = strings.TrimSpace(name); name != "" {
				cfg.roomNames = append(cfg.roomNames, name)
			}
		}
		return nil
	})
	fs.IntVar(&cfg.perClient, "per-client", 1, "rooms each client joins: client i joins rooms (i*per-client+k) mod rooms, k = 0 .. per-client-1")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long to measure, from when every client has joined")
	fs.Float64Var(&cfg.connectRate, "connect-rate", 500, "connections opened per second while connecting")
	fs.IntVar(&cfg.slow, "slow", 0, "clients that read slowly (one frame, then a 100 ms pause), reported apart; the first ones, so each sits in a different room")
	fs.BoolVar(&cfg.json, "json", true, "end the report with one JSON line")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "latencies in the window's first part are not counted")
	fs.StringVar(&cfg.origin, "origin", "", "Origin header to send; empty sends none")
	fs.StringVar(&cfg.tweet, "tweet", "seq", "the form of tweet messages to ask for, added to -url as ?tweet=: "+
		"seq (room, seq and ingested_at: the least to send and read), data (matched and the tweet object), "+
		"card (the rendered card only; it carries no ingested_at, so -tweet card measures no latency) "+
		"or full (all of them, as the page gets them). A server that does not know the parameter sends full; "+
		"the report says which forms arrived")
	fs.BoolVar(&cfg.compress, "compress", false, "offer permessage-deflate (RFC 7692, no context takeover); "+
		"the report counts the connections that negotiated it. Inflating costs this process CPU")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprint(out, `Usage: loadgen [flags]

Opens -clients WebSocket connections to a Tweet Streamer server on this
machine, joins each to -per-client rooms, and measures for -duration how
many tweets arrive, how late and how many go missing. It ends on its own:
after connecting (paced by -connect-rate), the window and a normal close
of every connection, and within -duration + clients/connect-rate + 30s in
any case. By default it joins only the trends the server announces, so a
run adds no trend to the server. To load a server, start it with many
trends and a high mock rate, for example 100 trends and 40,000 tweets/s:

  go run ./cmd/tweetstreamer -addr 127.0.0.1:8080 -log-level warn -mock-rate 40000 \
      -trends "$(seq -f 'load-%04g' 100 | paste -sd, -)" -max-trends 100

`)
		fs.PrintDefaults()
		fmt.Fprint(out, readingTheReport)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = stdout.Write(usage.Bytes())
			return cfg, err
		}
		return cfg, usageError{fmt.Errorf("%v (see -h)", err)}
	}
	if fs.NArg() > 0 {
		return cfg, usageError{fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))}
	}
	if n := len(cfg.roomNames); n > 0 {
		if cfg.rooms > n {
			return cfg, usageError{fmt.Errorf("-rooms %d is more than the %d names of -room-names", cfg.rooms, n)}
		}
		if cfg.rooms == 0 {
			cfg.rooms = n
		}
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	bad := func(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }
	switch {
	case c.clients < 1:
		return bad("-clients must be at least 1")
	case c.rooms < 0:
		return bad("-rooms must be 0 (every trend the server announces) or more")
	case c.perClient < 1 || c.rooms > 0 && c.perClient > c.rooms:
		return bad("-per-client must be from 1 to -rooms (%d)", c.rooms)
	case c.duration <= 0:
		return bad("-duration must be above 0")
	case !(c.connectRate > 0):
		return bad("-connect-rate must be above 0")
	case c.slow < 0 || c.slow > c.clients:
		return bad("-slow must be from 0 to -clients (%d)", c.clients)
	case c.warmup < 0 || c.warmup >= c.duration:
		return bad("-warmup must be at least 0 and shorter than -duration")
	case !slices.Contains(askableForms, c.tweet):
		return bad("-tweet must be one of %s, not %q", strings.Join(askableForms, ", "), c.tweet)
	}
	if err := checkURL(c.url); err != nil {
		return err
	}
	u, _ := url.Parse(c.url)
	if v := u.Query().Get("tweet"); v != "" && v != c.tweet {
		return bad("-url asks for tweet=%s and -tweet for %s: give the form with -tweet only", v, c.tweet)
	}
	return nil
}

// askableForms are the values of -tweet, the forms a server may be asked for.
var askableForms = tweetForms[formFull:]

// endpoint is -url with the -tweet form in its query, beside any parameter
// -url already has.
func (c config) endpoint() string {
	u, err := url.Parse(c.url)
	if err != nil {
		return c.url // validate refused it already
	}
	q := u.Query()
	q.Set("tweet", c.tweet)
	u.RawQuery = q.Encode()
	return u.String()
}

// checkURL accepts a ws or wss URL on a loopback address: the load
// generator is for a server on this machine.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return usageError{fmt.Errorf("-url: %v", err)}
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return usageError{fmt.Errorf("-url must start with ws:// or wss://, not %q", raw)}
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return usageError{fmt.Errorf("-url must name a loopback address (127.0.0.1, ::1 or localhost), not %q", host)}
	}
	return nil
}

// runCap bounds a whole run: connecting, the window and the closing.
func (c config) runCap() time.Duration {
	return c.duration + connectTime(c.clients, c.connectRate) + 30*time.Second
}

// connectTime is how long pacing takes to start n connections at rate a
// second.
func connectTime(n int, rate float64) time.Duration {
	return time.Duration(float64(n) / rate * float64(time.Second))
}
