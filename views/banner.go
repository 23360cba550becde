package views

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// bannerView is what the source banner shows. The script builds the same
// text from a source message (bannerText in assets/app.js), with the retry
// time in the reader's clock: change both together.
type bannerView struct {
	Hidden bool
	// State is the source's state, for the stylesheet; "" when unknown.
	State string
	Text  string
	// RetryAt is when the source reconnects, in RFC 3339, for the script's
	// countdown; "" when it is not backing off.
	RetryAt string
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
	var text strings.Builder
	text.WriteString(sourceLabel(b.SourceName))
	text.WriteString(": ")
	switch b.State {
	case stream.SourceConnecting:
		text.WriteString("connecting…")
	case stream.SourceBackingOff:
		if b.RetryAt.IsZero() {
			text.WriteString("reconnecting…")
		} else {
			text.WriteString("reconnecting at ")
			text.WriteString(clockTime(b.RetryAt))
			v.RetryAt = b.RetryAt.UTC().Format(time.RFC3339)
		}
	case stream.SourceFailed:
		text.WriteString("stopped")
	default:
		text.WriteString(string(b.State))
	}
	if reason := strings.TrimSpace(b.Reason); reason != "" {
		text.WriteString(" — ")
		text.WriteString(reason)
	}
	v.Text = text.String()
	return v
}

// sourceLabel is how the banner names a source: "twitter" as "Twitter".
func sourceLabel(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return "The source"
	}
	r, size := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[size:]
}

// clockTime formats t as a time of day for the banner, in UTC as the server
// does not know the reader's zone; the script shows it in the reader's.
func clockTime(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }
