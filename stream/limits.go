package stream

import "unicode/utf8"

// What one tweet may carry. Every real source stays far below these (a
// Bluesky post's text is at most 3,000 bytes, a tweet's 280 characters,
// a Bluesky handle a 253-byte domain name, a display name 640 bytes), so
// only a broken or hostile source meets them. They keep every message
// small enough for any client's queue (a backlog or a recovery always
// moves on) and for a NATS message, whatever a source sends.
const (
	// MaxTextBytes bounds Text; a longer text is cut at the last whole
	// character that leaves room for "…", which ends it.
	MaxTextBytes = 4096
	// MaxNameBytes bounds a display name, cut like Text.
	MaxNameBytes = 640
	// MaxHandleBytes bounds a handle; a longer one is cut like Text.
	MaxHandleBytes = 253
	// MaxURLBytes bounds each link (URL, avatar, thumbnail, Links); a
	// longer link is dropped, since a cut one would lead nowhere.
	MaxURLBytes = 1024
	// MaxLinks and MaxTags bound the lists (a Bluesky post has at most 8
	// tags); the first ones are kept.
	MaxLinks = 8
	MaxTags  = 8
	// MaxTagBytes bounds each tag (64 characters on Bluesky, 139 on
	// Twitter); a longer tag is dropped.
	MaxTagBytes = 256
	// MaxLangBytes bounds Lang (a BCP 47 tag); a longer one is dropped.
	MaxLangBytes = 35
	// MaxIDBytes bounds ID and Source. They name the tweet, for
	// de-duplication and retraction, and cannot be cut without naming
	// another: a tweet whose ID or source is longer is refused.
	MaxIDBytes = 256
)

// Bound makes t fit the limits above, as the ingester does with every
// tweet a source produces. It reports false, leaving t as it was, when t
// cannot be kept: its ID or Source is longer than MaxIDBytes.
func Bound(t *Tweet) bool {
	if len(t.ID) > MaxIDBytes || len(t.Source) > MaxIDBytes {
		return false
	}
	t.Text = cut(t.Text, MaxTextBytes)
	boundAuthor(&t.Author)
	if t.RetweetedBy != nil && !authorFits(t.RetweetedBy) {
		a := *t.RetweetedBy // the source's value may be shared: change a copy
		boundAuthor(&a)
		t.RetweetedBy = &a
	}
	t.URL = dropLong(t.URL, MaxURLBytes)
	t.ThumbnailURL = dropLong(t.ThumbnailURL, MaxURLBytes)
	t.Lang = dropLong(t.Lang, MaxLangBytes)
	t.Links = boundList(t.Links, MaxLinks, MaxURLBytes)
	t.Tags = boundList(t.Tags, MaxTags, MaxTagBytes)
	return true
}

func authorFits(a *Author) bool {
	return len(a.Handle) <= MaxHandleBytes && len(a.Name) <= MaxNameBytes && len(a.AvatarURL) <= MaxURLBytes
}

func boundAuthor(a *Author) {
	a.Handle = cut(a.Handle, MaxHandleBytes)
	a.Name = cut(a.Name, MaxNameBytes)
	a.AvatarURL = dropLong(a.AvatarURL, MaxURLBytes)
}

// cut returns s if it fits in limit bytes, else its longest prefix of
// whole characters that leaves room for "…", followed by "…".
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	end := limit - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + ellipsis
}

func dropLong(s string, limit int) string {
	if len(s) > limit {
		return ""
	}
	return s
}

// boundList returns list without its items longer than limit bytes, and
// with at most n of the rest. It copies only when something goes, since
// the source's slice may be shared.
func boundList(list []string, n, limit int) []string {
	fits := len(list) <= n
	for _, s := range list {
		fits = fits && len(s) <= limit
	}
	if fits {
		return list
	}
	kept := make([]string, 0, min(len(list), n))
	for _, s := range list {
		if len(s) <= limit && len(kept) < n {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}
