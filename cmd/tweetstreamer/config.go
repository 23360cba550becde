package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/twitter"
)

// defaultTrends is what the page lists when -trends is not given: enough
// for a lively demo, each well represented in the mock and sample streams.
var defaultTrends = []string{"golang", "rust", "ai", "climate", "football", "music", "space", "#webdev"}

// twitterMaxTrack is how many phrases Twitter's filter stream tracks.
const twitterMaxTrack = 400

// sources are the values of -source.
var sources = []string{"mock", "replay", "jetstream", "twitter"}

// roles are the values of -role: a process's part in a cluster.
var roles = []string{"all", "ingest", "web"}

// roleIgnores tells, for a role, which flags it has no use for: a web node
// takes the trends, the history and the source from the ingest node, and
// an ingest node serves no page or WebSocket.
var roleIgnores = map[string]func(flag string) bool{
	"web": func(f string) bool {
		switch f {
		case "source", "trends", "max-trends", "history", "idle-trend-ttl", "trending-window", "retrack-interval":
			return true
		}
		for _, prefix := range []string{"mock-", "replay-", "jetstream-", "profile-", "twitter-"} {
			if strings.HasPrefix(f, prefix) {
				return true
			}
		}
		return false
	},
	"ingest": func(f string) bool {
		switch f {
		case "max-rooms", "allowed-origins", "flush-interval", "max-conns", "max-conns-per-ip", "trusted-proxies", "max-trends-per-ip", "roomless-timeout", "compress":
			return true
		}
		return false
	},
}

// config is everything the flags and the environment set.
type config struct {
	record bool // `tweetstreamer record`: the recording flags below apply

	addr          string
	source        string
	trends        []string
	mockRate      float64
	mockSeed      int64
	replayFile    string
	replaySpeed   float64
	replayLoop    bool
	jetstreamURL  string
	profileURL    string
	twitterStream string
	twitterAPI    string
	twitterWOEID  int64
	// twitterCreds, from TWITTER_* in the environment, is a pointer so
	// that printing a config prints no secret: fmt does not call the
	// redacting methods of a value reached through an unexported field.
	twitterCreds    *twitter.Credentials
	retrackInterval time.Duration
	trendingWindow  time.Duration
	history         int
	maxRooms        int
	maxTrends       int
	allowedOrigins  []string
	allowedHosts    []string
	maxConns        int
	maxConnsPerIP   int
	maxCustomTrends int
	roomlessTimeout time.Duration
	compress        bool
	trustedProxies  []string
	idleTrendTTL    time.Duration
	logLevel        string
	debugAddr       string
	flushInterval   time.Duration
	nats            string
	role            string
	// ignored lists the flags set that this process's -role does not use.
	ignored []string
	// strayEnv lists the TS_ variables that name no flag, which would
	// otherwise be ignored without a word.
	strayEnv []strayVar

	// tweetstreamer record
	duration  time.Duration
	output    string
	anonymise bool
}

// usageError is a bad flag or flag value: the command exits with 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// envName is the environment variable that sets a flag: -mock-rate is
// TS_MOCK_RATE.
func envName(flagName string) string {
	return "TS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// listFlag is a comma-separated list.
type listFlag struct{ items *[]string }

func (l listFlag) String() string {
	if l.items == nil {
		return ""
	}
	return strings.Join(*l.items, ",")
}

func (l listFlag) Set(s string) error {
	*l.items = nil
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l.items = append(*l.items, item)
		}
	}
	return nil
}

// parseConfig reads the environment (environ, as os.Environ returns it),
// then the command line, which wins: the server's flags, or with a first
// argument "record", the recorder's. It returns flag.ErrHelp after writing
// the usage to stdout for -h.
func parseConfig(args []string, environ []string, stdout io.Writer) (config, error) {
	getenv := lookupEnv(environ)
	cfg := config{trends: append([]string(nil), defaultTrends...)}
	name, synopsis := "tweetstreamer", "Usage: tweetstreamer [flags]\n       tweetstreamer record -h\n\nServes live columns of the tweets that match the trends."
	if len(args) > 0 && args[0] == "record" {
		cfg.record, args = true, args[1:]
		name, synopsis = "tweetstreamer record", "Usage: tweetstreamer record -source jetstream -trends a,b -duration 10m -o talk.jsonl [-anonymise]\n\n"+
			"Writes the tweets that match the trends, with their timing, for -source replay to play later offline."
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var usage bytes.Buffer
	fs.SetOutput(&usage)
	defineFlags(fs, &cfg)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nEvery flag can also be set in the environment: -mock-rate is %s. The twitter source reads its\n"+
			"credentials from TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_SECRET.\n\n",
			synopsis, envName("mock-rate"))
		fs.PrintDefaults()
	}

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = usageError{fmt.Errorf("invalid value %q in %s: %v", v, envName(f.Name), err)}
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	// A variable of the other command's flags is no typo: one environment
	// often serves both.
	other := flag.NewFlagSet("", flag.ContinueOnError)
	defineFlags(other, &config{record: !cfg.record})
	cfg.strayEnv = strayEnv(environ, fs, other)

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
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	fs.Visit(func(f *flag.Flag) {
		if unused := roleIgnores[cfg.role]; unused != nil && unused(f.Name) {
			cfg.ignored = append(cfg.ignored, "-"+f.Name)
		}
	})
	if cfg.source == "twitter" {
		// Only the twitter source needs them; a missing one is a usage
		// error naming every variable that is not set.
		creds, err := twitter.CredentialsFromEnv(getenv)
		if err != nil {
			return cfg, usageError{err}
		}
		cfg.twitterCreds = &creds
	}
	return cfg, nil
}

// addrError says what is wrong with a host:port to listen on, or is empty.
// That the port is free is for listening to tell.
func addrError(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "want host:port, such as :8080 or 127.0.0.1:8080"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "the port must be a number from 0 to 65535"
	}
	return ""
}

// originError says what is wrong with an entry of -allowed-origins, or is
// empty: an origin is a scheme and a host, as a browser sends it in Origin
// (https://example.com, http://localhost:3000), or "*" for any.
func originError(o string) string {
	if o == "*" {
		return ""
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "want an origin such as https://example.com (a scheme and a host, no path), or *"
	}
	return ""
}

// fileExists reports whether something is at path.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (c config) validate() error {
	bad := func(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }
	switch {
	case !slices.Contains(sources, c.source):
		return bad("-source must be one of %s, not %q", strings.Join(sources, ", "), c.source)
	case c.source == "replay" && c.replayFile == "":
		return bad("-source replay needs -replay-file")
	case c.mockRate <= 0:
		return bad("-mock-rate must be above 0")
	case c.replaySpeed < 0:
		return bad("-replay-speed must be 0 (as fast as it can) or more")
	case c.retrackInterval <= 0:
		return bad("-retrack-interval must be above 0")
	case c.maxTrends < 1:
		return bad("-max-trends must be at least 1")
	case len(c.trends) == 0:
		return bad("-trends needs at least one trend: a page with none has nothing to show")
	case c.twitterWOEID < 1:
		return bad("-twitter-woeid must be a place's WOEID, 1 or more (1 is worldwide)")
	case len(c.trends) > c.maxTrends:
		return bad("%d trends given but -max-trends is %d", len(c.trends), c.maxTrends)
	case c.source == "twitter" && c.maxTrends > twitterMaxTrack:
		return bad("the twitter source tracks at most %d phrases: set -max-trends to %d or less", twitterMaxTrack, twitterMaxTrack)
	case c.record && c.output == "":
		return bad("-o is required: the file to record to")
	case c.record && c.duration <= 0:
		return bad("-duration must be above 0")
	case c.record && fileExists(c.output):
		return bad("-o %s exists already: the recorder never writes over a file; name a new one", c.output)
	case c.record:
		// The server's own flags are not parsed when recording.
	case !slices.Contains(roles, c.role):
		return bad("-role must be one of %s, not %q", strings.Join(roles, ", "), c.role)
	case c.role != "all" && c.nats == "":
		return bad("-role %s needs -nats: the URL of the NATS server the cluster shares", c.role)
	case addrError(c.addr) != "":
		return bad("-addr %q: %s", c.addr, addrError(c.addr))
	case c.debugAddr != "" && addrError(c.debugAddr) != "":
		return bad("-debug-addr %q: %s", c.debugAddr, addrError(c.debugAddr))
	case c.history < 1:
		return bad("-history must be at least 1")
	case c.maxRooms < 1:
		return bad("-max-rooms must be at least 1")
	case c.maxConns < 1:
		return bad("-max-conns must be at least 1")
	case c.maxConnsPerIP < 1:
		return bad("-max-conns-per-ip must be at least 1")
	case c.maxCustomTrends < 0:
		return bad("-max-trends-per-ip must not be negative")
	case c.roomlessTimeout <= 0:
		return bad("-roomless-timeout must be above 0")
	case c.flushInterval < 0:
		return bad("-flush-interval must not be negative")
	case c.idleTrendTTL <= 0:
		return bad("-idle-trend-ttl must be above 0")
	case c.trendingWindow <= 0:
		return bad("-trending-window must be above 0")
	}
	for _, t := range c.trends {
		if _, err := stream.NormalizeTrend(t); err != nil {
			return bad("-trends: %q: %v", t, err)
		}
	}
	for _, o := range c.allowedOrigins {
		if msg := originError(o); msg != "" {
			return bad("-allowed-origins: %q: %s", o, msg)
		}
	}
	if _, err := parsePrefixes(c.trustedProxies); err != nil {
		return bad("-trusted-proxies: %v", err)
	}
	for _, h := range c.allowedHosts {
		if msg := hostError(h); msg != "" {
			return bad("-allowed-hosts: %q: %s", h, msg)
		}
	}
	if _, err := parseLevel(c.logLevel); err != nil {
		return usageError{err}
	}
	return nil
}

// defineFlags defines on fs the flags of the command cfg is for (the
// server, or record when cfg.record), bound to cfg's fields.
func defineFlags(fs *flag.FlagSet, cfg *config) {
	fs.StringVar(&cfg.source, "source", "mock", "where tweets come from: "+strings.Join(sources, ", "))
	fs.Var(listFlag{&cfg.trends}, "trends", "comma-separated `list` of trends to follow")
	fs.Float64Var(&cfg.mockRate, "mock-rate", 10, "mock source: tweets per second over all trends")
	fs.Int64Var(&cfg.mockSeed, "mock-seed", 1, "mock source: seed; the same seed gives the same tweets")
	fs.StringVar(&cfg.replayFile, "replay-file", "", "replay source: JSON Lines file of tweets to play")
	fs.Float64Var(&cfg.replaySpeed, "replay-speed", 1, "replay source: 1 plays at the original timing, 2 twice as fast, 0 as fast as it can")
	fs.BoolVar(&cfg.replayLoop, "replay-loop", false, "replay source: start again at the end of the file")
	fs.StringVar(&cfg.jetstreamURL, "jetstream-url", "", "jetstream source: the Jetstream endpoint (default Bluesky's public one)")
	fs.StringVar(&cfg.profileURL, "profile-url", "", "jetstream source: the app.bsky.actor.getProfile endpoint for handles and names (default Bluesky's public one)")
	fs.StringVar(&cfg.twitterStream, "twitter-stream-url", "", "twitter source: base URL of a v1.1-compatible streaming endpoint (default https://stream.twitter.com)")
	fs.StringVar(&cfg.twitterAPI, "twitter-api-url", "", "twitter source: base URL of a v1.1-compatible REST endpoint, for trends (default https://api.twitter.com)")
	fs.Int64Var(&cfg.twitterWOEID, "twitter-woeid", 1, "twitter source: the place whose trends fill \"trending now\" (1 is worldwide)")
	fs.DurationVar(&cfg.retrackInterval, "retrack-interval", 30*time.Second, "twitter source: at most one reconnect per interval when the trends change")
	fs.IntVar(&cfg.maxTrends, "max-trends", 100, "trends in all, configured and custom; a join past it is refused")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error")
	if cfg.record {
		fs.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long to record")
		fs.StringVar(&cfg.output, "o", "", "the file to write (JSON Lines); it must not exist yet")
		fs.BoolVar(&cfg.anonymise, "anonymise", false, "replace IDs, handles, names, mentions, e-mail addresses and links with stable fakes, and drop avatars and thumbnails, for sharing")
	} else {
		fs.StringVar(&cfg.addr, "addr", ":8080", "address to serve on (host:port)")
		fs.DurationVar(&cfg.trendingWindow, "trending-window", 10*time.Minute, "\"trending now\" counts the hashtags of this last stretch of the stream")
		fs.IntVar(&cfg.history, "history", rooms.DefaultHistory, "tweets each room keeps for the backlog and for recovery")
		fs.IntVar(&cfg.maxRooms, "max-rooms", rooms.DefaultMaxRoomsPerConn, "rooms one connection may be in at once")
		fs.DurationVar(&cfg.idleTrendTTL, "idle-trend-ttl", rooms.DefaultIdleTrendTTL, "how long a custom trend stays once no one watches it")
		fs.Var(listFlag{&cfg.allowedOrigins}, "allowed-origins", "comma-separated browser origins, besides the server's own, that may connect (https://example.com, or * for any)")
		fs.Var(listFlag{&cfg.allowedHosts}, "allowed-hosts", "comma-separated host names the server answers to (example.com), besides IP addresses and localhost; empty answers to any, which DNS rebinding can abuse")
		fs.IntVar(&cfg.maxConns, "max-conns", rooms.DefaultMaxConns, "WebSocket connections this process holds at once; past it a connection is refused with 503 and Retry-After")
		fs.IntVar(&cfg.maxConnsPerIP, "max-conns-per-ip", rooms.DefaultMaxConnsPerIP, "connections from one client address at once (loopback not counted); past it 429 and Retry-After")
		fs.Var(listFlag{&cfg.trustedProxies}, "trusted-proxies", "comma-separated addresses or CIDR ranges of proxies whose X-Forwarded-For names the client, for -max-conns-per-ip")
		fs.IntVar(&cfg.maxCustomTrends, "max-trends-per-ip", rooms.DefaultMaxCustomTrendsPerIP, "custom trends the clients at one address may have added that still stand (loopback not counted; 0: no client adds any); past it a new one is refused")
		fs.DurationVar(&cfg.roomlessTimeout, "roomless-timeout", rooms.DefaultRoomlessTimeout, "how long a connection may stay in no room before it is closed (the page opens it again)")
		fs.BoolVar(&cfg.compress, "compress", true, "compress WebSocket messages (permessage-deflate) for the clients that offer it, each message once for all of them; false sends every client plain frames")
		fs.DurationVar(&cfg.flushInterval, "flush-interval", rooms.DefaultFlushInterval, "how long a connection gathers messages before it writes them in one frame; 0 writes at once")
		fs.StringVar(&cfg.debugAddr, "debug-addr", "", "address for the profiling endpoints (/debug/pprof/), e.g. 127.0.0.1:6060; empty serves none")
		fs.StringVar(&cfg.nats, "nats", "", "`URL` of a NATS server (nats://127.0.0.1:4222) to run the rooms over, with other processes; empty runs alone")
		fs.StringVar(&cfg.role, "role", "all", "this process's part: all (everything), ingest (the source and the rooms' history; serves /healthz and /readyz only) or web (the page and /ws); ingest and web need -nats")
	}
}
