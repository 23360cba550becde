package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// event is a Jetstream message, as far as the source reads it.
type event struct {
	DID    string  `json:"did"`
	TimeUS int64   `json:"time_us"`
	Kind   string  `json:"kind"` // "commit", "identity" or "account"
	Commit *commit `json:"commit"`
}

// commit is the record operation of a "commit" event.
type commit struct {
	Operation  string          `json:"operation"` // "create", "update" or "delete"
	Collection string          `json:"collection"`
	RKey       string          `json:"rkey"`
	Record     json.RawMessage `json:"record"` // absent for a delete
}

// handle decodes one message and acts on it: a post created becomes a
// tweet, a post deleted a retraction; anything else is counted.
func (s *Source) handle(msg []byte, sink stream.Sink) {
	var ev event
	if err := json.Unmarshal(msg, &ev); err != nil {
		s.skip(err)
		return
	}
	// The resume cursor follows what Jetstream stamped, but never past a
	// minute from now: one event from a misbehaving instance must not
	// make every later resume skip live posts.
	if limit := time.Now().Add(time.Minute).UnixMicro(); ev.TimeUS <= limit {
		s.lastTimeUS = max(s.lastTimeUS, ev.TimeUS)
	}
	switch {
	case ev.Kind == "commit" && ev.Commit == nil:
		s.skip(errors.New("a commit event without its commit"))
	case ev.Kind == "identity":
		// The handle may have changed: look the author up again at
		// their next post.
		s.profiles.forget(ev.DID)
		s.ignored.Add(1)
	case ev.Kind != "commit" || ev.Commit.Collection != postCollection:
		s.ignored.Add(1)
	case ev.Commit.Operation == "create":
		s.handlePost(&ev, sink)
	case ev.Commit.Operation == "delete":
		s.handleDelete(&ev, sink)
	default: // an edit, which Bluesky's app does not make
		s.ignored.Add(1)
	}
}

// maxTextBytes is the longest post text app.bsky.feed.post allows.
const maxTextBytes = 3000

// handlePost hands a new post to sink as a tweet, unless it was delivered
// already.
func (s *Source) handlePost(ev *event, sink stream.Sink) {
	did, rkey := ev.DID, ev.Commit.RKey
	if !validDID(did) || !validRKey(rkey) {
		s.skip(errors.New("a post with an invalid did or rkey"))
		return
	}
	id := did + "/" + rkey
	if !s.seen.Add(id) {
		s.duplicates.Add(1)
		return
	}
	var rec postRecord
	if err := json.Unmarshal(ev.Commit.Record, &rec); err != nil {
		s.skip(err)
		return
	}
	if len(rec.Text) > maxTextBytes {
		// Bluesky's schema caps a post at 3,000 bytes; Jetstream passes on
		// whatever a repository holds. A longer text would be kept in every
		// room's history it matched and rendered for each.
		s.skip(fmt.Errorf("a post of %d bytes, over Bluesky's %d", len(rec.Text), maxTextBytes))
		return
	}
	t := rec.tweet(did, rkey, time.UnixMicro(ev.TimeUS))
	t.Author = s.profiles.author(did)
	s.posts.Add(1) // before delivery, so that whoever sees the tweet sees it counted
	sink.Tweet(t)
}

// handleDelete hands a deleted post to sink as a retraction, unless it was
// delivered already.
func (s *Source) handleDelete(ev *event, sink stream.Sink) {
	did, rkey := ev.DID, ev.Commit.RKey
	if !validDID(did) || !validRKey(rkey) {
		s.skip(errors.New("a deletion with an invalid did or rkey"))
		return
	}
	id := did + "/" + rkey
	// A space never occurs in an ID, so this key never names a post.
	if !s.seen.Add("delete " + id) {
		s.duplicates.Add(1)
		return
	}
	s.deletes.Add(1)
	sink.Retract(sourceName, id)
}

// skip counts a malformed event and logs it, at most once a minute.
func (s *Source) skip(reason error) {
	n := s.malformed.Add(1)
	s.malformedLog.Do(func() {
		s.logger.Warn("jetstream: skipping a malformed event", "reason", reason, "malformed_so_far", n)
	})
}

// validDID reports whether did looks like a DID ("did:method:identifier")
// whose characters are safe in a URL path.
func validDID(did string) bool {
	rest, ok := strings.CutPrefix(did, "did:")
	if !ok || len(did) > 2048 {
		return false
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok || method == "" || id == "" {
		return false
	}
	for _, c := range []byte(method) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	for _, c := range []byte(id) {
		if !isAlnum(c) && !strings.ContainsRune("._:%-", rune(c)) {
			return false
		}
	}
	return !strings.HasSuffix(id, ":")
}

// validRKey reports whether rkey is a record key: 1 to 512 characters from
// a set that is safe in a URL path, and neither "." nor "..".
func validRKey(rkey string) bool {
	if rkey == "" || len(rkey) > 512 || rkey == "." || rkey == ".." {
		return false
	}
	for _, c := range []byte(rkey) {
		if !isAlnum(c) && !strings.ContainsRune("._:~-", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// shortDID stands for an author's handle until their profile is known:
// the first eight characters of the DID's identifier, and an ellipsis when
// there are more ("did:plc:ewvi7nxzyoun6zhxrhs64oiz" is "ewvi7nxz…").
func shortDID(did string) string {
	id := did
	if parts := strings.SplitN(did, ":", 3); len(parts) == 3 {
		id = parts[2]
	}
	if len(id) <= 8 {
		return id
	}
	return id[:8] + "…"
}
