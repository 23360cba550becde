package views

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// bannerView is what the source banner shows: what is wrong in plain
// words, and when the next try is. The script takes the same markup from
// the html field of source messages, and shows the retry time in the
// reader's clock and locale.
type bannerView struct {
	Hidden bool
	// State is the source's state, for the stylesheet; "" when unknown.
	State string
	// Text says what is wrong: "No new tweets from Jetstream: cannot find
	// jetstream.example (no network, or a wrong address)".
	Text string
	// RetryAt is when the source tries again, in RFC 3339 for the script
	// and its countdown; "" when it does not say.
	RetryAt string
	// RetryClock is RetryAt as a time of day, for the page before the
	// script localises it.
	RetryClock string
}

func newBannerView(b *SourceBanner) bannerView {
	if b == nil {
		return bannerView{Hidden: true}
	}
	v := bannerView{State: string(b.State)}
	if b.State == "" || b.State == stream.SourceConnected {
		v.Hidden = true
		return v
	}
	name := sourceLabel(b.SourceName)
	var text string
	switch b.State {
	case stream.SourceConnecting:
		text = "Connecting to " + name + "…"
	case stream.SourceBackingOff:
		text = "No new tweets from " + name + " for now"
	case stream.SourceFailed:
		// A source that will try again was refused, for now; one that
		// will not has stopped.
		text = name + " has stopped"
		if !b.RetryAt.IsZero() {
			text = name + " refused to stream"
		}
	default:
		text = name + ": " + string(b.State)
	}
	if reason := strings.TrimSpace(b.Reason); reason != "" && b.State != stream.SourceConnecting {
		text += ": " + reason
	}
	v.Text = text
	if !b.RetryAt.IsZero() && b.State != stream.SourceConnecting {
		v.RetryAt = b.RetryAt.UTC().Format(time.RFC3339)
		v.RetryClock = clockTime(b.RetryAt)
	}
	return v
}

// sourceLabel is how the banner names a source: "twitter" as "Twitter";
// "the source" when it has no name.
func sourceLabel(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return "the source"
	}
	r, size := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[size:]
}

// clockTime formats t as a time of day for the banner, in UTC as the server
// does not know the reader's zone; the script shows it in the reader's.
func clockTime(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }
