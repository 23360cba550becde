package rooms

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// TestABacklogFromABrokerOfBytesIsCompressedOncePerTweet: a web node's
// broker carries each tweet as its full frame, and hands the same tweets
// to every join's backlog. Each tweet is made into the card variant and
// compressed once for the room, however many members join and read it.
func TestABacklogFromABrokerOfBytesIsCompressedOncePerTweet(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	b.answer(roomHistory("e1", 1, 5))
	s := newBrokerServer(t, b, Config{})
	compressing := &websocket.Dialer{EnableCompression: true}
	clients := make([]*testClient, 3)
	for i := range clients {
		clients[i] = s.dialBy(t, compressing, "tweet=card", nil)
	}
	before := s.hub.Metrics().MessagesCompressed
	for i, c := range clients {
		if _, seqs := c.join("golang"); !slices.Equal(seqs, []uint64{1, 2, 3, 4, 5}) {
			t.Fatalf("member %d: backlog %v, want 1..5", i, seqs)
		}
	}
	if n := s.hub.Metrics().MessagesCompressed - before; n != 5 {
		t.Errorf("%d compressions for a backlog of 5 tweets read by %d members in one variant, want 5", n, len(clients))
	}
}

// TestACardWhoseRenderPanickedIsStillSentWithAnHTMLField: a render that
// panics is a render that failed. The member whose backlog made the card
// first keeps its connection, and every message of a variant with the
// card carries the html field, as the protocol has it, then and after.
func TestACardWhoseRenderPanickedIsStillSentWithAnHTMLField(t *testing.T) {
	t.Parallel()
	var renders atomic.Int64
	s := newTestServer(t, Config{Render: func(tw stream.Tweet, _ []string) (string, error) {
		if renders.Add(1) == 1 {
			panic("a view model the component did not expect")
		}
		return "<article>" + tw.ID + "</article>", nil
	}})
	// Published while no member reads the card: it is not rendered yet.
	lean := s.dialBy(t, s.dialer, "tweet=seq", nil)
	lean.join("golang")
	s.publish("golang")
	lean.expect("tweet", "golang")

	for i := range 2 {
		c := s.dialBy(t, s.dialer, "tweet=card", nil)
		c.send(`{"type":"join","room":"golang"}`)
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Errorf("card reader %d: the join got %v", i, err)
			continue
		}
		if m.Type != "joined" {
			t.Fatalf("card reader %d: got %v, want joined", i, m)
		}
		m = c.expect("tweet", "golang")
		if keys := keysOf(t, m.raw); !slices.Contains(keys, "html") {
			t.Errorf("card reader %d: the backlog's tweet has keys %v, without html", i, keys)
		}
	}
}

// TestTheSeqVariantCarriesTheIngestedAtOfTheTweetObject: the seq
// variant's ingested_at is the tweet object's, so that a node that made
// it from the tweet and one that made it from the full frame send the
// same message; a tweet without an ingestion time is no exception.
func TestTheSeqVariantCarriesTheIngestedAtOfTheTweetObject(t *testing.T) {
	t.Parallel()
	tw := stream.Tweet{ID: "t1", Source: "test", Text: "golang"}
	render := func(stream.Tweet, []string) (string, error) { return "", nil }
	fromTweet := newTweetMessage(newTweetParts(&tw, []string{"golang"}, render, nil), []byte(`"golang"`), 1, nil)
	fromFrame := newTweetMessage(nil, []byte(`"golang"`), 1, nil)
	fromFrame.plain[variantFull] = fromTweet.form(variantFull, false)
	if a, b := fromTweet.form(variantSeq, false), fromFrame.form(variantSeq, false); string(a) != string(b) {
		t.Errorf("made from the tweet: %s\nmade from the frame: %s", a, b)
	}
}
