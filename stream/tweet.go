// Package stream is where tweets come from: the Tweet type, the Source
// interface a developer implements to plug in a stream, the trend matcher,
// the ingester that routes matched tweets onwards, and the sources that need
// nothing beyond the standard library (mock and replay).
package stream

import (
	"encoding/json"
	"time"
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

// MarshalJSON writes the tweet in the protocol's shape, with ingested_at in
// IngestedLayout and created_at in RFC 3339.
func (t Tweet) MarshalJSON() ([]byte, error) {
	type plain Tweet // the same fields, without this method
	return json.Marshal(struct {
		plain
		CreatedAt  string `json:"created_at"`
		IngestedAt string `json:"ingested_at"`
	}{plain(t), t.CreatedAt.Format(time.RFC3339Nano), t.IngestedAt.Format(IngestedLayout)})
}
