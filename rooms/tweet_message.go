package rooms

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// tweetParts are the encoded pieces of one tweet that every room it goes
// to shares. Each is made on first need, once: a card that no member of
// any room reads is never rendered.
type tweetParts struct {
	tweet   *stream.Tweet
	matched []string
	render  RenderFunc // nil renders ""
	log     *slog.Logger

	dataOnce sync.Once
	// matchedJSON is a JSON array, tweetJSON an object.
	matchedJSON, tweetJSON []byte

	ingestedOnce sync.Once
	ingestedJSON []byte // ingested_at as a JSON string; nil only in parts of a frame without one

	htmlOnce sync.Once
	htmlJSON []byte // the card, as a JSON string
}

func newTweetParts(t *stream.Tweet, matched []string, render RenderFunc, log *slog.Logger) *tweetParts {
	return &tweetParts{tweet: t, matched: matched, render: render, log: log}
}

// partsOfFrame splits a full tweet message, as a broker that carries only
// bytes delivers it, into its parts. A frame that is not a tweet message
// gives empty parts, which make messages with empty fields rather than
// none at all.
func partsOfFrame(frame []byte) *tweetParts {
	var m struct {
		Matched json.RawMessage `json:"matched"`
		Tweet   json.RawMessage `json:"tweet"`
		HTML    json.RawMessage `json:"html"`
	}
	_ = json.Unmarshal(frame, &m)
	p := &tweetParts{matchedJSON: orEmpty(m.Matched, "[]"), tweetJSON: orEmpty(m.Tweet, "{}"), htmlJSON: orEmpty(m.HTML, `""`)}
	if at := ingestedAtIn(m.Tweet); at != nil {
		p.ingestedJSON = at
	}
	p.dataOnce.Do(func() {})
	p.ingestedOnce.Do(func() {})
	p.htmlOnce.Do(func() {})
	return p
}

func orEmpty(b json.RawMessage, empty string) []byte {
	if len(b) == 0 {
		return []byte(empty)
	}
	return b
}

// ingestedAtIn returns the ingested_at of a tweet object as the JSON
// string it holds, or nil.
func ingestedAtIn(tweet []byte) []byte {
	i := bytes.Index(tweet, ingestedAtKey)
	if i < 0 {
		return nil
	}
	start := i + len(ingestedAtKey) - 1 // the opening quote
	end := bytes.IndexByte(tweet[start+1:], '"')
	if end < 0 {
		return nil
	}
	return tweet[start : start+end+2]
}

// data returns the matched trends and the tweet object, encoded.
func (p *tweetParts) data() (matched, tweet []byte) {
	p.dataOnce.Do(func() {
		buf := make([]byte, 0, 512)
		buf = append(buf, '[')
		for i, m := range p.matched {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = stream.AppendJSONString(buf, m)
		}
		buf = append(buf, ']')
		n := len(buf)
		buf = p.tweet.AppendJSON(buf)
		p.matchedJSON, p.tweetJSON = buf[:n:n], buf[n:]
	})
	return p.matchedJSON, p.tweetJSON
}

// ingested returns the tweet's ingested_at as the tweet object writes it,
// a JSON string, the zero time included: the same as a message made from
// the full frame carries.
func (p *tweetParts) ingested() []byte {
	p.ingestedOnce.Do(func() {
		b := append(make([]byte, 0, len(stream.IngestedLayout)+2), '"')
		p.ingestedJSON = append(p.tweet.IngestedAt.AppendFormat(b, stream.IngestedLayout), '"')
	})
	return p.ingestedJSON
}

// html returns the card, as a JSON string. A render that fails, or
// panics, gives an empty card: the once is spent either way, so a panic
// let through would leave the card out of every later message.
func (p *tweetParts) html() []byte {
	p.htmlOnce.Do(func() {
		defer func() {
			if v := recover(); v != nil {
				p.log.Error("rendering a tweet card panicked", "id", p.tweet.ID, "panic", v)
				p.htmlJSON = []byte(`""`)
			}
		}()
		html := ""
		if p.render != nil {
			var err error
			if html, err = p.render(*p.tweet, p.matched); err != nil {
				p.log.Error("rendering a tweet card", "id", p.tweet.ID, "err", err)
				html = ""
			}
		}
		p.htmlJSON = stream.AppendJSONString(make([]byte, 0, len(html)+len(html)/8+2), html)
	})
	return p.htmlJSON
}

// tweetMessage is one tweet published in one room: its message in each
// variant, plain and compressed, each made on first need and then shared
// by every member that reads it, live or in a backlog. Its mutex guards
// the forms; a delivery asks once per variant in use, never per member.
type tweetMessage struct {
	parts *tweetParts // nil until needed for a message of a frame

	roomJSON []byte
	seq      uint64
	counters *hubCounters

	mu     sync.Mutex
	plain  [numVariants][]byte
	packed [numVariants][]byte // compressed, see deflate.go
}

func newTweetMessage(parts *tweetParts, roomJSON []byte, seq uint64, counters *hubCounters) *tweetMessage {
	return &tweetMessage{parts: parts, roomJSON: roomJSON, seq: seq, counters: counters}
}

// form returns the message in variant v, compressed when packed. A form
// is kept for the next reader as long as the Pub is; the plain one a
// compressed form is made from is kept only once a plain reader asks for
// it, since history keeps every form of its tweets.
func (m *tweetMessage) form(v variant, packed bool) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !packed {
		if m.plain[v] == nil {
			m.plain[v] = m.encode(v)
		}
		return m.plain[v]
	}
	if m.packed[v] == nil {
		plain := m.plain[v]
		if plain == nil {
			plain = m.encode(v)
		}
		m.packed[v] = deflateMessage(plain)
		if m.counters != nil {
			m.counters.compressed.Add(1)
		}
	}
	return m.packed[v]
}

// encode writes the message in variant v; every variant starts as the
// full one does, so a client reads type, room and seq the same way.
func (m *tweetMessage) encode(v variant) []byte {
	if m.parts == nil {
		m.parts = partsOfFrame(m.plain[variantFull])
	}
	var matched, tweet, ingested, html []byte
	switch v {
	case variantFull:
		matched, tweet = m.parts.data()
		html = m.parts.html()
	case variantCard:
		html = m.parts.html()
	case variantData:
		matched, tweet = m.parts.data()
	case variantSeq:
		ingested = m.parts.ingested()
	}
	size := len(`{"type":"tweet","room":,"seq":,"matched":,"tweet":,"html":,"ingested_at":}`) + 20 +
		len(m.roomJSON) + len(matched) + len(tweet) + len(html) + len(ingested)
	dst := make([]byte, 0, size)
	dst = append(dst, `{"type":"tweet","room":`...)
	dst = append(dst, m.roomJSON...)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, m.seq, 10)
	if matched != nil {
		dst = append(dst, `,"matched":`...)
		dst = append(dst, matched...)
	}
	if tweet != nil {
		dst = append(dst, `,"tweet":`...)
		dst = append(dst, tweet...)
	}
	if html != nil {
		dst = append(dst, `,"html":`...)
		dst = append(dst, html...)
	}
	if ingested != nil {
		dst = append(dst, `,"ingested_at":`...)
		dst = append(dst, ingested...)
	}
	return append(dst, '}')
}
