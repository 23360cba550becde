package jetstream

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

const (
	linkFeature          = "app.bsky.richtext.facet#link"
	tagFeature           = "app.bsky.richtext.facet#tag"
	imagesEmbed          = "app.bsky.embed.images"
	recordWithMediaEmbed = "app.bsky.embed.recordWithMedia"

	// thumbnailPrefix is where Bluesky's CDN serves a post image's
	// thumbnail: prefix + did + "/" + blob CID + "@jpeg".
	thumbnailPrefix = "https://cdn.bsky.app/img/feed_thumbnail/plain/"

	// maxLinks and maxTags bound what one post can add to a tweet; a post
	// holds 300 characters, so real ones stay far below.
	maxLinks = 16
	maxTags  = 32
)

// postRecord is an app.bsky.feed.post record, as far as a tweet needs it.
type postRecord struct {
	Text      string   `json:"text"`
	CreatedAt string   `json:"createdAt"`
	Langs     []string `json:"langs"`
	Tags      []string `json:"tags"` // hashtags outside the text, without "#"
	Facets    []facet  `json:"facets"`
	Embed     *embed   `json:"embed"`
}

// facet annotates a span of the text; only its features matter here.
type facet struct {
	Features []facetFeature `json:"features"`
}

// facetFeature is a link (URI), a hashtag (Tag) or a mention (neither).
type facetFeature struct {
	Type string `json:"$type"`
	URI  string `json:"uri"`
	Tag  string `json:"tag"`
}

// embed is an app.bsky.embed.images embed (Images), or an
// app.bsky.embed.recordWithMedia one that quotes a post beside its Media.
type embed struct {
	Type   string       `json:"$type"`
	Images []embedImage `json:"images"`
	Media  *embed       `json:"media"`
}

type embedImage struct {
	Image blob `json:"image"`
}

// blob refers to an uploaded file by CID: in Ref.Link, or in CID for the
// older form of blob reference.
type blob struct {
	Ref struct {
		Link string `json:"$link"`
	} `json:"ref"`
	CID string `json:"cid"`
}

// tweet converts the post with this did and rkey to a tweet, without its
// author. seen is when Jetstream received it, for a post whose createdAt
// cannot be read.
func (r *postRecord) tweet(did, rkey string, seen time.Time) stream.Tweet {
	t := stream.Tweet{
		ID:           did + "/" + rkey,
		Source:       sourceName,
		Text:         r.Text,
		URL:          "https://bsky.app/profile/" + did + "/post/" + rkey,
		ThumbnailURL: r.thumbnail(did),
		Links:        r.links(),
		Tags:         r.tags(),
		CreatedAt:    r.createdAt(seen),
	}
	if len(r.Langs) > 0 {
		t.Lang = r.Langs[0]
	}
	return t
}

// createdAt is the record's createdAt, or seen when that is not an RFC 3339
// time, or now when neither is known. A seen past the year 9999, which
// only a misbehaving instance stamps, is not known: RFC 3339 cannot write
// it.
func (r *postRecord) createdAt(seen time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, r.CreatedAt); err == nil {
		return t
	}
	if seen.UnixMicro() > 0 && seen.UTC().Year() <= 9999 {
		return seen.UTC()
	}
	return time.Now().UTC()
}

// links are the distinct http(s) URIs of the link facets, in order.
func (r *postRecord) links() []string {
	var links []string
	for _, f := range r.Facets {
		for _, feat := range f.Features {
			if feat.Type != linkFeature || !isWebURL(feat.URI) || slices.Contains(links, feat.URI) {
				continue
			}
			if links = append(links, feat.URI); len(links) == maxLinks {
				return links
			}
		}
	}
	return links
}

// tags are the hashtags of the tag facets and then of the record's tags,
// without "#", each once whatever its case (the first spelling wins).
func (r *postRecord) tags() []string {
	var tags []string
	add := func(tag string) {
		tag = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(tag), "#"))
		if tag != "" && len(tags) < maxTags && !slices.ContainsFunc(tags, func(t string) bool { return strings.EqualFold(t, tag) }) {
			tags = append(tags, tag)
		}
	}
	for _, f := range r.Facets {
		for _, feat := range f.Features {
			if feat.Type == tagFeature {
				add(feat.Tag)
			}
		}
	}
	for _, tag := range r.Tags {
		add(tag)
	}
	return tags
}

// thumbnail is the CDN thumbnail of the post's first image, or "" when it
// has none.
func (r *postRecord) thumbnail(did string) string {
	e := r.Embed
	if e != nil && e.Type == recordWithMediaEmbed {
		e = e.Media
	}
	if e == nil || e.Type != imagesEmbed {
		return ""
	}
	for _, img := range e.Images {
		if cid := img.Image.cid(); validCID(cid) {
			return thumbnailPrefix + did + "/" + cid + "@jpeg"
		}
	}
	return ""
}

// cid is the blob's CID, in either form of reference.
func (b *blob) cid() string {
	if b.Ref.Link != "" {
		return b.Ref.Link
	}
	return b.CID
}

// validCID reports whether cid is made of the letters and digits a CID
// is written in, so that it can go into a URL as it is.
func validCID(cid string) bool {
	if cid == "" || len(cid) > 128 {
		return false
	}
	for _, c := range []byte(cid) {
		if !isAlnum(c) {
			return false
		}
	}
	return true
}

// isWebURL reports whether s is an absolute http or https URL with a host.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
