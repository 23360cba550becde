package twitter

import (
	"errors"
	"log/slog"
	"net/url"

	"github.com/dghubble/go-twitter/twitter"
)

// handle acts on one message from connection c, as go-twitter decoded it.
func (r *run) handle(c *conn, msg any) {
	switch m := msg.(type) {
	case *twitter.Tweet:
		r.tweet(c, m)
	case *twitter.StatusDeletion:
		r.deletion(c, m)
	case *twitter.StreamLimit:
		r.limit(c, m)
	case *twitter.StallWarning:
		r.stallWarning(c, m)
	case *twitter.StreamDisconnect:
		r.disconnect(c, m)
	case error:
		r.undecodable(c, m)
	case map[string]any:
		// go-twitter's answer for a JSON object of a type it does not
		// know. Twitter warns that new types may come at any time.
		r.status.add(countUnknown, 1)
	default:
		// scrub_geo, status_withheld, user_withheld, events and the
		// like: of no use to a public stream of tweets.
		r.status.add(countIgnored, 1)
	}
}

// tweet passes a status on, unless it was just passed on: during a
// retrack, both streams carry the tweets that match both track lists.
func (r *run) tweet(c *conn, st *twitter.Tweet) {
	if st == nil {
		r.malformed(c, "a tweet that is null")
		return
	}
	t, ok := toTweet(st, r.clock.Now())
	if !ok {
		r.malformed(c, "a tweet without an ID or an author")
		return
	}
	if !r.seen.Add(t.ID) {
		r.status.add(countDuplicates, 1)
		return
	}
	r.status.add(countTweets, 1)
	r.sink.Tweet(t)
}

// deletion retracts a deleted tweet. A deletion notice has no
// retweet_count, which is how go-twitter tells it from a tweet.
func (r *run) deletion(c *conn, d *twitter.StatusDeletion) {
	var id string
	if d != nil {
		id = statusID(d.IDStr, d.ID)
	}
	if id == "" {
		r.malformed(c, "a deletion notice without an ID")
		return
	}
	r.status.add(countDeletes, 1)
	r.sink.Retract(sourceName, id)
}

// limit counts the tweets Twitter held back. Twitter's number is a
// running total since the connection opened, so each notice adds what it
// grew by; a smaller number means the count started again.
func (r *run) limit(c *conn, l *twitter.StreamLimit) {
	if l == nil || l.Track < 0 {
		r.malformed(c, "a limit notice without a count")
		return
	}
	grew := l.Track - c.limitTotal
	if l.Track < c.limitTotal {
		grew = l.Track
	}
	c.limitTotal = l.Track
	r.status.add(countLimit, grew)
	c.log(r.logger, slog.LevelInfo, "twitter: matching tweets held back by Twitter's rate limit",
		"connection", c.id, "since_connected", l.Track, "total", r.status.count(countLimit))
}

// stallWarning counts and logs Twitter's warning that the source reads
// too slowly, and will be disconnected if it does not catch up.
func (r *run) stallWarning(c *conn, w *twitter.StallWarning) {
	r.status.add(countStallWarnings, 1)
	if w == nil {
		w = new(twitter.StallWarning)
	}
	c.log(r.logger, slog.LevelWarn, "twitter: Twitter warns that the stream is falling behind",
		"connection", c.id, "code", w.Code, "percent_full", w.PercentFull, "message", w.Message)
}

// disconnect counts and logs a disconnect message, and ends the connection:
// Twitter is closing it, and the source reconnects by the rules.
func (r *run) disconnect(c *conn, d *twitter.StreamDisconnect) {
	r.status.add(countDisconnects, 1)
	if d == nil {
		d = new(twitter.StreamDisconnect)
	}
	err := &disconnectError{code: d.Code, reason: d.Reason}
	c.log(r.logger, slog.LevelWarn, "twitter: Twitter is closing the stream",
		"connection", c.id, "code", d.Code, "reason", d.Reason)
	c.end(err)
}

// undecodable handles an error go-twitter sent. An error from the HTTP
// client is the transport's, which the conn's cause already records;
// any other is a message go-twitter could not decode as JSON.
func (r *run) undecodable(c *conn, err error) {
	if errors.As(err, new(*url.Error)) {
		return
	}
	r.status.add(countMalformed, 1)
	c.log(r.logger, slog.LevelWarn, "twitter: skipping a message that is not a JSON object",
		"connection", c.id, "err", err)
}

// malformed counts and logs a message without what the source needs.
func (r *run) malformed(c *conn, what string) {
	r.status.add(countMalformed, 1)
	c.log(r.logger, slog.LevelWarn, "twitter: skipping "+what, "connection", c.id)
}

// dropped counts and logs a message longer than maxMessage, which the
// conn's body has dropped. It runs in go-twitter's goroutine.
func (r *run) dropped(c *conn, size int) {
	r.status.add(countOversized, 1)
	c.log(r.logger, slog.LevelWarn, "twitter: skipping a message that is too long",
		"connection", c.id, "bytes", size, "max_bytes", r.maxMessage)
}
