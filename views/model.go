// Package views renders the page of Tweet Streamer with templ: the full
// document, the source's status banner, the trend list, the "trending now"
// list, one column per followed room and the card of one tweet. The same
// Card renders the backlog on the page and the html field of live tweet
// messages, so a card looks the same whichever way it arrived.
//
// Components are pure functions of the models below; everything that turns
// an untrusted Tweet into display data (checked links, initials, times, text
// segments) is plain Go in this package, tested on its own.
package views

import (
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// TrendItem is one entry of the trend list.
type TrendItem struct {
	// Name is the normalised trend name, which is also its room name.
	Name string
	// Members is how many connections follow the trend's room.
	Members int
	// PerMinute is how many tweets were routed to the room in the last minute.
	PerMinute int
	// Custom marks a trend that a user asked to follow, rather than one from
	// the configured list; the script drops it once the server stops listing it.
	Custom bool
}

// ColumnModel is one open column.
type ColumnModel struct {
	// Room is the normalised trend name.
	Room string
	// Epoch is the room's epoch; "" when the room does not exist yet, and then
	// the script joins without since.
	Epoch string
	// Seq is the room's last seq, embedded so the script's first join sends
	// since=Seq and misses nothing published after the render.
	Seq uint64
	// Members is how many connections are in the room.
	Members int
	// PerMinute is how many tweets were routed to the room in the last minute.
	PerMinute int
	// Page is the page the column is in, for its close link, which leads
	// to the same page without it. Zero for a column rendered alone, whose
	// link the script sets.
	Page Links
	// Tweets is the backlog, oldest first as history stores it; the column
	// shows it newest first.
	Tweets []CardItem
}

// CardItem is one card: a tweet, where it stands in its room and what it
// matched.
type CardItem struct {
	// Seq is the tweet's seq in its room, carried as data-seq so the script
	// knows where the column stands. Zero leaves it out, as for a live card,
	// whose html every room the tweet goes to shares.
	Seq   uint64
	Tweet stream.Tweet
	// Matched lists the trends the tweet matched, whose words the card's
	// text marks; nil marks nothing.
	Matched []string
}

// PageModel is everything the page shows.
type PageModel struct {
	// Title names the app, e.g. "Tweet Streamer".
	Title string
	// Source names where tweets come from, e.g. "mock"; "" hides it.
	Source string
	// Trends is the trend list, in the order shown.
	Trends []TrendItem
	// Columns are the columns opened by the URL (?open=a,b), in that order.
	Columns []ColumnModel
	// MaxColumns is the per-connection room limit; the script refuses to open
	// more columns than this, with a notice. Zero or less means no limit.
	MaxColumns int
	// Notice is shown in the page notice, e.g. that ?open named more
	// trends than one page may follow; "" shows none.
	Notice string
	// FollowError is shown beside the follow box: why a trend in ?open,
	// which the box submits, was refused; "" shows none.
	FollowError string
	// Big turns on projector mode: large text for a room full of people.
	Big bool
	// SourceStatus is the banner about the source's connection to its
	// upstream (see NewSourceBanner); nil hides it, as does a connected
	// source. The script keeps it current from source messages.
	SourceStatus *SourceBanner
	// Trending is the "trending now" list, highest first, each tag a room
	// name without its "#"; empty hides the list. The script keeps it
	// current from trending messages.
	Trending []stream.TagCount
	// TrendingWindow is how far back Trending counts, shown beside its
	// title; zero shows nothing.
	TrendingWindow time.Duration
	// StylesheetURL is where the page loads its stylesheet from, a URL
	// named by the file's content such as /assets/app.3f2a9c1b.css, which
	// browsers cache for good; "" loads /assets/app.css, which they
	// revalidate on every load.
	StylesheetURL string
	// ScriptURL is where the page loads its script from, such as
	// /assets/app.3f2a9c1b.js; "" loads /assets/app.js.
	ScriptURL string
}

// SourceBanner is what the page tells about a live source's connection to
// its upstream, such as "No new tweets from Twitter for now: HTTP 420: rate
// limited. Next try at 12:03:05".
type SourceBanner struct {
	// SourceName names the source as the protocol does, e.g. "twitter";
	// the banner shows it with a capital first letter.
	SourceName string
	// State is where the source stands; connected, or "", hides the banner.
	State stream.SourceState
	// RetryAt is when the source reconnects, while it backs off; the zero
	// time shows no time.
	RetryAt time.Time
	// Reason is the last failure in a few words; "" shows none.
	Reason string
}

// NewSourceBanner returns the banner for the source named name, whose
// status is s.
func NewSourceBanner(name string, s stream.SourceStatus) *SourceBanner {
	return &SourceBanner{SourceName: name, State: s.State, RetryAt: s.RetryAt, Reason: s.Reason}
}
