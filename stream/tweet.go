// Package stream is where tweets come from: the Tweet type, the Source
// interface a developer implements to plug in a stream, the trend matcher,
// the ingester that routes matched tweets onwards, and the sources that need
// nothing beyond the standard library (mock and replay).
package stream

import (
	"time"
	"unicode/utf8"
)

// Author is who wrote a tweet.
type Author struct {
	// Handle is the author's account name, without a leading "@".
	Handle string `json:"handle"`
	// Name is the display name; empty means the handle is shown instead.
	Name string `json:"name"`
	// AvatarURL is an http(s) link to a picture; empty means none.
	AvatarURL string `json:"avatar_url,omitempty"`
}

// Tweet is one item of a stream, in the shape of the live protocol's tweet
// object (docs/PROTOCOL.md). Every string in it comes from the source and is
// untrusted: Text is plain text, never HTML.
type Tweet struct {
	// ID is unique within Source.
	ID string `json:"id"`
	// Source names the stream it came from: "mock", "replay", ...
	Source string `json:"source"`
	Author Author `json:"author"`
	Text   string `json:"text"`
	// URL links to the original, where one exists.
	URL string `json:"url"`
	// Lang is a BCP 47 tag; empty when the source does not say.
	Lang string `json:"lang,omitempty"`
	// RetweetedBy is who retweeted it, when the item is a retweet shown
	// as its original; nil otherwise.
	RetweetedBy *Author `json:"retweeted_by,omitempty"`
	// ThumbnailURL is an http(s) link to the thumbnail of its first
	// image; empty means none.
	ThumbnailURL string `json:"thumbnail_url,omitempty"`
	// Links are the http(s) links it carries, in full, as the source
	// gives them beside the text.
	Links []string `json:"links,omitempty"`
	// Tags are its hashtags, without the "#", as the source gives them;
	// nil when the source does not say (see Hashtags).
	Tags []string `json:"tags,omitempty"`
	// CreatedAt is when the source says the tweet was written.
	CreatedAt time.Time `json:"created_at"`
	// IngestedAt is when this server received it; the ingester sets it, and
	// end-to-end latency is measured from it.
	IngestedAt time.Time `json:"ingested_at"`
}

// IngestedLayout is how ingested_at is written: RFC 3339 with all nine
// digits of nanoseconds, as the protocol asks, so that latency can be
// measured from it exactly and every value has the same width.
const IngestedLayout = "2006-01-02T15:04:05.000000000Z07:00"

// MarshalJSON writes the tweet in the protocol's shape; see AppendJSON.
func (t Tweet) MarshalJSON() ([]byte, error) {
	return t.AppendJSON(nil), nil
}

// AppendJSON appends the tweet's JSON object in the protocol's shape, with
// created_at in RFC 3339 and ingested_at in IngestedLayout, and returns the
// extended buffer. It is the hot path of every publish, so it writes the
// fields itself instead of going through reflection; optional fields are
// left out when empty.
func (t *Tweet) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, t.ID)
	dst = append(dst, `,"source":`...)
	dst = AppendJSONString(dst, t.Source)
	dst = append(dst, `,"author":{"handle":`...)
	dst = AppendJSONString(dst, t.Author.Handle)
	dst = append(dst, `,"name":`...)
	dst = AppendJSONString(dst, t.Author.Name)
	if t.Author.AvatarURL != "" {
		dst = append(dst, `,"avatar_url":`...)
		dst = AppendJSONString(dst, t.Author.AvatarURL)
	}
	dst = append(dst, `},"text":`...)
	dst = AppendJSONString(dst, t.Text)
	dst = append(dst, `,"url":`...)
	dst = AppendJSONString(dst, t.URL)
	if t.Lang != "" {
		dst = append(dst, `,"lang":`...)
		dst = AppendJSONString(dst, t.Lang)
	}
	if a := t.RetweetedBy; a != nil {
		dst = append(dst, `,"retweeted_by":{"handle":`...)
		dst = AppendJSONString(dst, a.Handle)
		dst = append(dst, `,"name":`...)
		dst = AppendJSONString(dst, a.Name)
		if a.AvatarURL != "" {
			dst = append(dst, `,"avatar_url":`...)
			dst = AppendJSONString(dst, a.AvatarURL)
		}
		dst = append(dst, '}')
	}
	if t.ThumbnailURL != "" {
		dst = append(dst, `,"thumbnail_url":`...)
		dst = AppendJSONString(dst, t.ThumbnailURL)
	}
	dst = appendJSONStrings(dst, `,"links":[`, t.Links)
	dst = appendJSONStrings(dst, `,"tags":[`, t.Tags)
	dst = append(dst, `,"created_at":"`...)
	dst = t.CreatedAt.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","ingested_at":"`...)
	dst = t.IngestedAt.AppendFormat(dst, IngestedLayout)
	return append(dst, `"}`...)
}

// appendJSONStrings appends key (which opens the array) and list as a
// JSON array of strings, or nothing when list is empty.
func appendJSONStrings(dst []byte, key string, list []string) []byte {
	if len(list) == 0 {
		return dst
	}
	dst = append(dst, key...)
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

// AppendJSONString appends s as a JSON string. Unlike encoding/json it
// leaves <, > and & alone: the result is parsed as JSON, never embedded in
// HTML, and escaping them would make every rendered card a third larger.
// Invalid UTF-8 becomes U+FFFD, as with encoding/json.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript before ES2019.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
