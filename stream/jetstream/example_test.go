package jetstream_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

// printer is a Sink that prints what it receives, and closes done at the
// first retraction. The server's own Sink is the ingester, which matches
// each tweet against the trends.
type printer struct{ done chan struct{} }

func (p printer) Tweet(t stream.Tweet) {
	fmt.Printf("%s @%s %q %v\n%s\n", t.ID, t.Author.Handle, t.Text, t.Tags, t.URL)
}

func (p printer) Retract(source, id string) {
	fmt.Printf("retract %s %s\n", source, id)
	close(p.done)
}

// The source reads posts from Jetstream; here a fake one on 127.0.0.1
// stands in for wss://jetstream2.us-east.bsky.network. The first post of
// an author carries a short form of their DID until their profile is known.
func ExampleNew() {
	js := jetstreamtest.NewServer()
	defer js.Close()
	profiles := jetstreamtest.NewProfileServer()
	defer profiles.Close()

	src, err := jetstream.New(jetstream.Config{
		URL:        js.URL(),
		ProfileURL: profiles.URL(),
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := printer{done: make(chan struct{})}
	streamed := make(chan error)
	go func() { streamed <- src.Stream(ctx, sink) }()

	if _, err := js.WaitSubscriptions(ctx, 1); err != nil {
		fmt.Println(err)
		return
	}
	did := "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
	js.Publish(
		jetstreamtest.Post{TimeUS: 1_700_000_000_000_000, DID: did, RKey: "3kabc", Text: "Hello from #bluesky", HashTags: []string{"bluesky"}}.Event(),
		jetstreamtest.DeleteEvent(1_700_000_001_000_000, did, "3kabc"),
	)
	<-sink.done
	cancel()
	fmt.Println(<-streamed)
	fmt.Println("posts:", src.Status().Counts["posts"])
	// Output:
	// did:plc:ewvi7nxzyoun6zhxrhs64oiz/3kabc @ewvi7nxz… "Hello from #bluesky" [bluesky]
	// https://bsky.app/profile/did:plc:ewvi7nxzyoun6zhxrhs64oiz/post/3kabc
	// retract jetstream did:plc:ewvi7nxzyoun6zhxrhs64oiz/3kabc
	// context canceled
	// posts: 1
}
