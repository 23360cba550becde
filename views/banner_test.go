package views

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestSourceStatusBanner(t *testing.T) {
	retryAt := time.Date(2026, 2, 11, 12, 3, 5, 0, time.UTC)
	tests := []struct {
		name    string
		banner  *SourceBanner
		hidden  bool
		state   string
		text    string
		retryAt string
		clock   string
	}{
		{"no banner is hidden", nil, true, "", "", "", ""},
		{"a connected source is hidden",
			&SourceBanner{SourceName: "twitter", State: stream.SourceConnected, Reason: "old news"}, true, "connected", "", "", ""},
		{"a source without a state is hidden", &SourceBanner{SourceName: "twitter"}, true, "", "", "", ""},
		{"a connecting source says so, without an old failure",
			&SourceBanner{SourceName: "twitter", State: stream.SourceConnecting, Reason: "EOF"}, false, "connecting", "Connecting to Twitter…", "", ""},
		{"a source backing off says what is wrong and when it tries again",
			&SourceBanner{SourceName: "twitter", State: stream.SourceBackingOff, RetryAt: retryAt, Reason: "HTTP 420: rate limited"},
			false, "backing_off", "No new tweets from Twitter for now: HTTP 420: rate limited", "2026-02-11T12:03:05Z", "12:03:05 UTC"},
		{"the retry time is in UTC until the script shows it in the reader's",
			&SourceBanner{SourceName: "twitter", State: stream.SourceBackingOff, RetryAt: retryAt.In(time.FixedZone("CET", 3600))},
			false, "backing_off", "No new tweets from Twitter for now", "2026-02-11T12:03:05Z", "12:03:05 UTC"},
		{"a source backing off without a time says no time",
			&SourceBanner{SourceName: "twitter", State: stream.SourceBackingOff, Reason: "EOF"},
			false, "backing_off", "No new tweets from Twitter for now: EOF", "", ""},
		{"a failed source says it stopped and why",
			&SourceBanner{SourceName: "jetstream", State: stream.SourceFailed, Reason: "  HTTP 401: bad credentials \n"},
			false, "failed", "Jetstream has stopped: HTTP 401: bad credentials", "", ""},
		{"a failed source that will try again says when",
			&SourceBanner{SourceName: "jetstream", State: stream.SourceFailed, RetryAt: retryAt, Reason: "HTTP 404"},
			false, "failed", "Jetstream refused to stream: HTTP 404", "2026-02-11T12:03:05Z", "12:03:05 UTC"},
		{"a blank reason adds nothing",
			&SourceBanner{SourceName: "twitter", State: stream.SourceFailed, Reason: " "}, false, "failed", "Twitter has stopped", "", ""},
		{"a state it does not know is shown as it is",
			&SourceBanner{SourceName: "twitter", State: "paused"}, false, "paused", "Twitter: paused", "", ""},
		{"a source without a name is the source",
			&SourceBanner{State: stream.SourceConnecting}, false, "connecting", "Connecting to the source…", "", ""},
		{"a name in another script gets its capital",
			&SourceBanner{SourceName: "éclair", State: stream.SourceConnecting}, false, "connecting", "Connecting to Éclair…", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := renderDoc(t, SourceStatusBanner(tt.banner))
			banner := byTestID(doc, "source-banner")
			wantCount(t, banner, 1)
			_, hidden := banner.Attr("hidden")
			if hidden != tt.hidden {
				t.Errorf("hidden = %v, want %v", hidden, tt.hidden)
			}
			wantText(t, banner.AttrOr("data-state", ""), tt.state)
			wantText(t, byTestID(banner, "source-banner-text").Text(), tt.text)
			wantText(t, banner.AttrOr("data-retry-at", ""), tt.retryAt)
			retry := byTestID(banner, "source-retry")
			if tt.retryAt == "" {
				wantCount(t, retry, 0)
				return
			}
			wantText(t, retry.Find("time").AttrOr("datetime", ""), tt.retryAt)
			wantText(t, strings.Join(strings.Fields(retry.Text()), " "), "Next try at "+tt.clock)
		})
	}
}

func TestSourceStatusBannerIsALiveRegion(t *testing.T) {
	doc := renderDoc(t, SourceStatusBanner(&SourceBanner{SourceName: "twitter", State: stream.SourceConnecting}))
	banner := byTestID(doc, "source-banner")
	countdown := byTestID(banner, "source-countdown")
	checks := []struct {
		name, got, want string
	}{
		{"it has the status role", banner.AttrOr("role", ""), "status"},
		{"it is read out politely", banner.AttrOr("aria-live", ""), "polite"},
		{"the countdown is not read out every second", countdown.AttrOr("aria-hidden", ""), "true"},
		{"the countdown starts empty", countdown.Text(), ""},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { wantText(t, c.got, c.want) })
	}
}

func TestNewSourceBanner(t *testing.T) {
	status := stream.SourceStatus{
		State:   stream.SourceBackingOff,
		Since:   time.Date(2026, 2, 11, 12, 2, 0, 0, time.UTC),
		RetryAt: time.Date(2026, 2, 11, 12, 3, 5, 0, time.UTC),
		Reason:  "HTTP 420: rate limited",
		Counts:  map[string]int64{"limit": 3},
	}
	got := NewSourceBanner("twitter", status)
	want := SourceBanner{SourceName: "twitter", State: status.State, RetryAt: status.RetryAt, Reason: status.Reason}
	if *got != want {
		t.Errorf("NewSourceBanner = %+v, want %+v", *got, want)
	}
}

func TestPageShowsTheSourceBanner(t *testing.T) {
	m := samplePage()
	doc := renderDoc(t, Page(m))
	banner := byTestID(doc, "source-banner")
	t.Run("once", func(t *testing.T) { wantCount(t, banner, 1) })
	t.Run("right after the header", func(t *testing.T) {
		wantText(t, fmt.Sprint(byTestID(doc, "header").Next().Is(`[data-testid="source-banner"]`)), "true")
	})
	t.Run("with the model's status", func(t *testing.T) {
		wantText(t, byTestID(banner, "source-banner-text").Text(), "No new tweets from Mock for now: HTTP 420: rate limited")
	})
	t.Run("hidden when the page has no status", func(t *testing.T) {
		m.SourceStatus = nil
		if _, hidden := byTestID(renderDoc(t, Page(m)), "source-banner").Attr("hidden"); !hidden {
			t.Error("the banner is not hidden")
		}
	})
}
