package rooms

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Error codes sent in `error` messages. They are part of the live protocol:
// stable identifiers a client can switch on.
const (
	CodeBadRequest    = "bad_request"
	CodeBadRoom       = "bad_room"
	CodeTooManyRooms  = "too_many_rooms"
	CodeTooManyTrends = "too_many_trends"
	CodeRateLimited   = "rate_limited"
	CodeNotJoined     = "not_joined"
	// CodeUnavailable extends the protocol: the room cannot be joined for
	// now (its history is out of reach), and a later join may succeed.
	CodeUnavailable = "unavailable"
	// CodeInternal extends the protocol: the server failed to answer a
	// message, and says no more (it logs why).
	CodeInternal = "internal_error"
)

// clientMessage is any message a client sends; which fields count depends on
// Type.
type clientMessage struct {
	Type  string  `json:"type"`
	Room  *string `json:"room"`
	Epoch string  `json:"epoch"`
	Since *uint64 `json:"since"`
	Mode  string  `json:"mode"`
	// Paused extends the protocol: a join that arrives paused, as a page
	// whose paused column reconnects.
	Paused bool `json:"paused"`
}

type joinedMessage struct {
	Type      string `json:"type"`
	Room      string `json:"room"`
	Epoch     string `json:"epoch"`
	Seq       uint64 `json:"seq"`
	Recovered *bool  `json:"recovered,omitempty"`
	Members   int    `json:"members"`
	// Held extends the protocol: for a join that arrived paused, the
	// tweets held back already.
	Held *uint64 `json:"held,omitempty"`
}

type leftMessage struct {
	Type string `json:"type"`
	Room string `json:"room"`
}

type retractMessage struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
}

type statsMessage struct {
	Type      string `json:"type"`
	Room      string `json:"room"`
	Members   int    `json:"members"`
	PerMinute int    `json:"per_minute"`
	// Held extends the protocol: sent only to a paused member, it counts
	// the tweets held back since the pause.
	Held *uint64 `json:"held,omitempty"`
}

type skippedMessage struct {
	Type    string `json:"type"`
	Room    string `json:"room"`
	FromSeq uint64 `json:"from_seq"`
	ToSeq   uint64 `json:"to_seq"`
	Count   uint64 `json:"count"`
}

type errorMessage struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Room is the room the refused message named; nil when it named none.
	Room *string `json:"room,omitempty"`
}

// trendsMessage extends the protocol: it tells every connection the trend
// list with live counts, so the page's list stays current.
type trendsMessage struct {
	Type   string    `json:"type"`
	Trends []Summary `json:"trends"`
	// HTML is the list's entries as the page renders them, so that a
	// script need not build that markup itself.
	HTML string `json:"html,omitempty"`
}

// encode marshals a server message. The messages above hold only strings
// and numbers, so marshalling cannot fail.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("rooms: encoding a server message: " + err.Error())
	}
	return b
}

// tweetFrame is the part of a tweet message that is the same in every room
// the tweet goes to, encoded once per tweet.
type tweetFrame struct {
	buf     []byte // holds the three parts below
	matched []byte // JSON array
	tweet   []byte // JSON object
	html    []byte // JSON string
}

// framePool recycles the buffers of tweetFrame: each room copies what it
// needs into its own frame, so the parts live only during a publish.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func newTweetFrame(buf []byte, t *stream.Tweet, matched []string, html string) tweetFrame {
	buf = append(buf, '[')
	for i, m := range matched {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = stream.AppendJSONString(buf, m)
	}
	buf = append(buf, ']')
	m := len(buf)
	buf = t.AppendJSON(buf)
	tw := len(buf)
	buf = stream.AppendJSONString(buf, html)
	return tweetFrame{buf: buf, matched: buf[:m], tweet: buf[m:tw], html: buf[tw:]}
}

// appendTo appends the tweet message for one room: the only per-room
// parts are the room name and the seq.
func (f *tweetFrame) appendTo(dst, roomJSON []byte, seq uint64) []byte {
	dst = append(dst, `{"type":"tweet","room":`...)
	dst = append(dst, roomJSON...)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"matched":`...)
	dst = append(dst, f.matched...)
	dst = append(dst, `,"tweet":`...)
	dst = append(dst, f.tweet...)
	dst = append(dst, `,"html":`...)
	dst = append(dst, f.html...)
	return append(dst, '}')
}

func (f *tweetFrame) size(roomJSON []byte) int {
	return len(`{"type":"tweet","room":,"seq":,"matched":,"tweet":,"html":}`) + 20 +
		len(roomJSON) + len(f.matched) + len(f.tweet) + len(f.html)
}
