package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// kind is a server message's type, as far as the load generator cares.
type kind uint8

const (
	// kindOther is a type the load generator does not count: left, stats,
	// retract, or one added to the protocol later.
	kindOther kind = iota
	kindTweet
	kindSkipped
	kindJoined
	kindError
	// kindTrends is the trend list; parseTrendList reads its entries.
	kindTrends
)

// uncounted are the types of the protocol that the load generator does not
// count, by name: parseMessage names their kind without reading further.
// The trend list is one of them, and the largest message there is: about
// 60 KB for 100 trends, sent to every connection every few seconds.
var uncounted = map[string]kind{
	"trends":   kindTrends,
	"stats":    kindOther,
	"trending": kindOther,
	"source":   kindOther,
	"left":     kindOther,
	"retract":  kindOther,
}

// tweetForm is the shape of a tweet message: what `GET /ws?tweet=` asked
// for, or full from a server that does not know the parameter.
type tweetForm uint8

const (
	// formOther is a tweet the slow path read that has neither the tweet
	// object, nor html, nor a top-level ingested_at.
	formOther tweetForm = iota
	// formFull has matched, the tweet object (with ingested_at) and html.
	formFull
	// formCard has html only: it carries no ingested_at, so no latency.
	formCard
	// formData has matched and the tweet object, without html.
	formData
	// formSeq has ingested_at at the top level, and nothing else.
	formSeq
	formCount
)

// tweetForms names each form as -tweet and the report spell it.
var tweetForms = [formCount]string{"other", "full", "card", "data", "seq"}

// message is one parsed server message. parseMessage fills it in place, and
// room may point into the line it came from: it is valid only until the
// frame's buffer is reused.
type message struct {
	kind kind
	room []byte
	// seq is a tweet's seq, or for joined the room's latest seq.
	seq uint64
	// form is a tweet's shape.
	form tweetForm
	// fromSeq, toSeq and count describe a skipped range.
	fromSeq, toSeq, count uint64
	// ingestedAt is a tweet's ingested_at in Unix nanoseconds; 0 when it
	// had none that parses.
	ingestedAt int64
	// fallback is set when a tweet or skipped message, or its timestamp,
	// needed the slow path: the server no longer writes what the fast path
	// expects, and throughput suffers.
	fallback bool
	// code is an error message's code.
	code string
}

// errMalformed is a line that is not a message of the live protocol.
var errMalformed = errors.New("malformed message")

// The fast paths expect the key order this server writes: the fixed start
// of a message, then its fields in a fixed order.
var (
	typePrefix    = []byte(`{"type":"`)
	tweetPrefix   = []byte(`{"type":"tweet","room":"`)
	skippedPrefix = []byte(`{"type":"skipped","room":"`)
	seqKey        = []byte(`,"seq":`)
	tweetKey      = []byte(`,"tweet":{`)
	htmlKey       = []byte(`,"html":"`)
	ingestedKey   = []byte(`"ingested_at":"`)
	fromSeqKey    = []byte(`,"from_seq":`)
	toSeqKey      = []byte(`,"to_seq":`)
	countKey      = []byte(`,"count":`)
)

// parseMessage parses one line of a frame. Tweets and skipped messages in
// this server's layout take a hand-written path that reads only the fields
// the load generator needs and allocates nothing; a message of a type it
// does not count (uncounted) is named by its type alone, unread and
// unchecked; anything else goes through encoding/json. A line that is not
// a protocol message returns errMalformed.
func parseMessage(line []byte, m *message) error {
	*m = message{}
	// The fast paths read a message's start; a line that does not end as
	// an object does is cut short, and encoding/json will say so.
	if len(line) == 0 || line[len(line)-1] != '}' {
		return parseSlow(line, m)
	}
	if rest, ok := bytes.CutPrefix(line, tweetPrefix); ok && parseTweet(rest, m) {
		return nil
	}
	if rest, ok := bytes.CutPrefix(line, skippedPrefix); ok && parseSkipped(rest, m) {
		return nil
	}
	if k, ok := uncountedKind(line); ok {
		m.kind = k
		return nil
	}
	return parseSlow(line, m)
}

// uncountedKind returns the kind of a message whose type is not counted,
// read from the start of its line alone; false for any other line.
func uncountedKind(line []byte) (kind, bool) {
	rest, ok := bytes.CutPrefix(line, typePrefix)
	if !ok {
		return kindOther, false
	}
	name, _, ok := cutString(rest)
	if !ok {
		return kindOther, false
	}
	k, ok := uncounted[string(name)] // Go looks a map up by string(bytes) without a copy
	return k, ok
}

// parseTweet reads the rest of `{"type":"tweet","room":"` as this server
// writes it: room and seq, then one of the forms -tweet asks for:
//
//	seq   ,"ingested_at":"..."}
//	card  ,"html":"..."}
//	full  ,"matched":[...],"tweet":{... "ingested_at":"..." ...},"html":"..."}
//	data  ,"matched":[...],"tweet":{... "ingested_at":"..." ...}}
//
// It reports false when the line is laid out otherwise. The line is known
// to end with '}'.
func parseTweet(rest []byte, m *message) bool {
	room, rest, ok := cutString(rest)
	if !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, seqKey); !ok {
		return false
	}
	seq, rest, ok := cutUint(rest)
	if !ok || len(rest) < 2 || rest[0] != ',' {
		return false
	}
	// A `"` inside a JSON string is always escaped, so a `"` that follows
	// `,` or `{` unescaped starts a key: no text in matched, in the tweet
	// or in html can fake one, and the byte before the closing `}` tells
	// a last value that is a string (html) from one that is an object.
	var ts []byte
	var form tweetForm
	switch last := rest[len(rest)-2]; {
	case bytes.HasPrefix(rest[1:], ingestedKey):
		ts, rest = rest[1+len(ingestedKey):], nil
		end := bytes.IndexByte(ts, '"')
		if end < 0 || len(ts) != end+2 {
			return false // more than `"}` after the timestamp
		}
		ts, form = ts[:end], formSeq
	case bytes.HasPrefix(rest, htmlKey) && last == '"':
		form = formCard
	case last == '"' || last == '}':
		i := bytes.Index(rest, tweetKey)
		if i < 0 {
			return false
		}
		obj := rest[i+len(tweetKey):]
		j := bytes.Index(obj, ingestedKey)
		if j < 0 || (j > 0 && obj[j-1] != ',') {
			return false
		}
		ts = obj[j+len(ingestedKey):]
		end := bytes.IndexByte(ts, '"')
		if end < 0 {
			return false
		}
		ts, form = ts[:end], formFull
		if last == '}' {
			form = formData
		}
	default:
		return false
	}
	m.kind, m.room, m.seq, m.form = kindTweet, room, seq, form
	if ts != nil {
		m.ingestedAt, m.fallback = parseIngestedAt(ts)
	}
	return true
}

// parseSkipped reads the rest of `{"type":"skipped","room":"` as this
// server writes it: room, from_seq, to_seq, count and the closing brace.
func parseSkipped(rest []byte, m *message) bool {
	room, rest, ok := cutString(rest)
	if !ok {
		return false
	}
	var from, to, count uint64
	if rest, ok = bytes.CutPrefix(rest, fromSeqKey); !ok {
		return false
	}
	if from, rest, ok = cutUint(rest); !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, toSeqKey); !ok {
		return false
	}
	if to, rest, ok = cutUint(rest); !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, countKey); !ok {
		return false
	}
	if count, rest, ok = cutUint(rest); !ok || len(rest) != 1 || rest[0] != '}' {
		return false
	}
	m.kind, m.room, m.fromSeq, m.toSeq, m.count = kindSkipped, room, from, to, count
	return true
}

// cutString returns the JSON string body up to the next quote and what
// follows the quote. A body with an escape is left to the slow path.
func cutString(b []byte) (body, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '"')
	if i < 0 || bytes.IndexByte(b[:i], '\\') >= 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// cutUint reads a decimal number that must be followed by `,` or `}`.
// Nineteen digits at most, so it cannot overflow; a longer number is left
// to the slow path.
func cutUint(b []byte) (n uint64, rest []byte, ok bool) {
	i := 0
	for ; i < len(b) && i < 20; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	if i == 0 || i == 20 || i == len(b) || (b[i] != ',' && b[i] != '}') {
		return 0, nil, false
	}
	return n, b[i:], true
}

// wireMessage is every field the load generator reads, for encoding/json.
type wireMessage struct {
	Type    string  `json:"type"`
	Room    *string `json:"room"`
	Seq     *uint64 `json:"seq"`
	FromSeq *uint64 `json:"from_seq"`
	ToSeq   *uint64 `json:"to_seq"`
	Count   *uint64 `json:"count"`
	Code    string  `json:"code"`
	// IngestedAt is the seq form's; the others carry it in Tweet.
	IngestedAt *string `json:"ingested_at"`
	Tweet      *struct {
		IngestedAt string `json:"ingested_at"`
	} `json:"tweet"`
	HTML *json.RawMessage `json:"html"`
}

// parseSlow parses a line with encoding/json: the rare messages (joined,
// error, trends, ...) and any tweet or skipped the fast paths refused.
func parseSlow(line []byte, m *message) error {
	*m = message{}
	var w wireMessage
	if err := json.Unmarshal(line, &w); err != nil || w.Type == "" {
		return errMalformed
	}
	if w.Room != nil {
		m.room = []byte(*w.Room)
	}
	switch w.Type {
	case "tweet":
		if w.Room == nil || w.Seq == nil {
			return errMalformed
		}
		m.kind, m.seq, m.fallback = kindTweet, *w.Seq, true
		switch {
		case w.IngestedAt != nil:
			m.form = formSeq
			m.ingestedAt, _ = parseIngestedAt([]byte(*w.IngestedAt))
		case w.Tweet != nil:
			m.form = formData
			if w.HTML != nil {
				m.form = formFull
			}
			m.ingestedAt, _ = parseIngestedAt([]byte(w.Tweet.IngestedAt))
		case w.HTML != nil:
			m.form = formCard
		}
	case "skipped":
		if w.Room == nil || w.FromSeq == nil || w.ToSeq == nil || w.Count == nil {
			return errMalformed
		}
		m.kind, m.fromSeq, m.toSeq, m.count, m.fallback = kindSkipped, *w.FromSeq, *w.ToSeq, *w.Count, true
	case "joined":
		if w.Room == nil || w.Seq == nil {
			return errMalformed
		}
		m.kind, m.seq = kindJoined, *w.Seq
	case "error":
		m.kind, m.code = kindError, w.Code
	default:
		m.kind = uncounted[w.Type] // kindOther for a type not listed
	}
	return nil
}

// announcedTrend is one entry of the server's trend list.
type announcedTrend struct {
	Room string `json:"room"`
	// Custom is set for a trend a join added, which the server drops once
	// it has been idle for its -idle-trend-ttl.
	Custom bool `json:"custom"`
}

// parseTrendList reads the entries of a trends message, in the server's
// order.
func parseTrendList(line []byte) ([]announcedTrend, error) {
	var w struct {
		Type   string           `json:"type"`
		Trends []announcedTrend `json:"trends"`
	}
	if err := json.Unmarshal(line, &w); err != nil || w.Type != "trends" {
		return nil, errMalformed
	}
	return w.Trends, nil
}

// parseIngestedAt returns a timestamp in Unix nanoseconds, 0 when it does
// not parse. This server writes the fixed layout
// 2006-01-02T15:04:05.000000000Z, read here by hand; any other RFC 3339
// form goes through time.Parse and sets slow.
func parseIngestedAt(b []byte) (ns int64, slow bool) {
	if ns, ok := parseFixedUTC(b); ok {
		return ns, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, true
	}
	return t.UnixNano(), true
}

// parseFixedUTC reads 2006-01-02T15:04:05.000000000Z exactly.
func parseFixedUTC(b []byte) (int64, bool) {
	if len(b) != 30 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' ||
		b[16] != ':' || b[19] != '.' || b[29] != 'Z' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	nsec, ok7 := digits(b[20:29])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	return ((days*24+hour)*60+minute)*60*1e9 + sec*1e9 + nsec, true
}

func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to a date of the
// proleptic Gregorian calendar, for years 0 to 9999 (Howard Hinnant's
// days_from_civil).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
