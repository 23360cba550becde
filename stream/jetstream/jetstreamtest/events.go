package jetstreamtest

import (
	"encoding/json"
	"strings"
	"time"
)

// PostCollection is the collection of Bluesky posts.
const PostCollection = "app.bsky.feed.post"

// Post describes an app.bsky.feed.post record and the event that creates
// it. Event writes it in Jetstream's shape.
type Post struct {
	// TimeUS is the event's time_us: when Jetstream received it, in
	// microseconds since the Unix epoch, and what a cursor counts in.
	TimeUS int64
	// DID is the author's, and RKey the post's key in their repository:
	// the tweet's ID is DID + "/" + RKey.
	DID  string
	RKey string
	Text string
	// CreatedAt is written as the record's createdAt as it is; empty means
	// TimeUS in RFC 3339.
	CreatedAt string
	// Langs are the languages of the text, the main one first.
	Langs []string
	// Tags are the record's tags, which are not in the text.
	Tags []string
	// HashTags are written as #tag facets (without the "#"), over their
	// place in Text when they occur in it.
	HashTags []string
	// Links are written as link facets, over their place in Text when they
	// occur in it.
	Links []string
	// Images are the blob CIDs of an app.bsky.embed.images embed.
	Images []string
	// Quote is the at:// URI of a quoted post. With Images, the embed is an
	// app.bsky.embed.recordWithMedia that holds them beside the quote.
	Quote string
}

// Event returns the Jetstream event creating the post, as JSON.
func (p Post) Event() []byte {
	return CommitEvent(p.TimeUS, p.DID, "create", PostCollection, p.RKey, p.Record())
}

// Record returns the post's record, ready for encoding/json.
func (p Post) Record() map[string]any {
	createdAt := p.CreatedAt
	if createdAt == "" {
		createdAt = time.UnixMicro(p.TimeUS).UTC().Format(time.RFC3339Nano)
	}
	rec := map[string]any{
		"$type":     PostCollection,
		"text":      p.Text,
		"createdAt": createdAt,
	}
	if len(p.Langs) > 0 {
		rec["langs"] = p.Langs
	}
	if len(p.Tags) > 0 {
		rec["tags"] = p.Tags
	}
	var facets []any
	for _, tag := range p.HashTags {
		facets = append(facets, p.facet("#"+tag, map[string]any{"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
	}
	for _, link := range p.Links {
		facets = append(facets, p.facet(link, map[string]any{"$type": "app.bsky.richtext.facet#link", "uri": link}))
	}
	if facets != nil {
		rec["facets"] = facets
	}
	if e := p.embed(); e != nil {
		rec["embed"] = e
	}
	return rec
}

// facet annotates the first occurrence of span in the text with feature.
func (p Post) facet(span string, feature map[string]any) map[string]any {
	start, end := 0, 0
	if i := strings.Index(p.Text, span); i >= 0 {
		start, end = i, i+len(span)
	}
	return map[string]any{
		"index":    map[string]any{"byteStart": start, "byteEnd": end},
		"features": []any{feature},
	}
}

// embed is the post's embed, or nil.
func (p Post) embed() map[string]any {
	var images map[string]any
	if len(p.Images) > 0 {
		list := make([]any, len(p.Images))
		for i, cid := range p.Images {
			list[i] = map[string]any{
				"alt": "",
				"image": map[string]any{
					"$type":    "blob",
					"ref":      map[string]any{"$link": cid},
					"mimeType": "image/jpeg",
					"size":     123456,
				},
				"aspectRatio": map[string]any{"width": 4, "height": 3},
			}
		}
		images = map[string]any{"$type": "app.bsky.embed.images", "images": list}
	}
	if p.Quote == "" {
		return images
	}
	quote := map[string]any{
		"$type":  "app.bsky.embed.record",
		"record": map[string]any{"uri": p.Quote, "cid": fakeCID},
	}
	if images == nil {
		return quote
	}
	return map[string]any{"$type": "app.bsky.embed.recordWithMedia", "record": quote, "media": images}
}

// fakeCID stands for the CIDs tests do not care about.
const fakeCID = "bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// CommitEvent returns a Jetstream "commit" event, as JSON: the operation
// ("create", "update" or "delete") of the record with this collection and
// rkey in did's repository. record is left out when nil, as for a delete.
func CommitEvent(timeUS int64, did, operation, collection, rkey string, record any) []byte {
	c := map[string]any{
		"rev":        "3lfakerev22a",
		"operation":  operation,
		"collection": collection,
		"rkey":       rkey,
	}
	if record != nil {
		c["record"] = record
		c["cid"] = fakeCID
	}
	return mustJSON(map[string]any{"did": did, "time_us": timeUS, "kind": "commit", "commit": c})
}

// DeleteEvent returns the Jetstream event deleting a post, as JSON.
func DeleteEvent(timeUS int64, did, rkey string) []byte {
	return CommitEvent(timeUS, did, "delete", PostCollection, rkey, nil)
}

// IdentityEvent returns a Jetstream "identity" event, as JSON: did's handle
// is now handle.
func IdentityEvent(timeUS int64, did, handle string) []byte {
	return mustJSON(map[string]any{
		"did": did, "time_us": timeUS, "kind": "identity",
		"identity": map[string]any{"did": did, "handle": handle, "seq": 1, "time": time.UnixMicro(timeUS).UTC().Format(time.RFC3339)},
	})
}

// AccountEvent returns a Jetstream "account" event, as JSON: did's account
// is now active or not.
func AccountEvent(timeUS int64, did string, active bool) []byte {
	return mustJSON(map[string]any{
		"did": did, "time_us": timeUS, "kind": "account",
		"account": map[string]any{"did": did, "active": active, "seq": 1, "time": time.UnixMicro(timeUS).UTC().Format(time.RFC3339)},
	})
}

// mustJSON encodes v, which holds nothing encoding/json can refuse.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("jetstreamtest: " + err.Error())
	}
	return b
}
