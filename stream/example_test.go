package stream_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// printer is a Publisher that prints what it receives; the server's own
// Publisher is the rooms hub.
type printer struct{}

func (printer) Publish(t stream.Tweet, matched []string) {
	fmt.Printf("%s @%s %q -> %v\n", t.ID, t.Author.Handle, t.Text, matched)
}

func (printer) Retract(source, id string) {
	fmt.Printf("retract %s/%s\n", source, id)
}

// A source of your own is one function: hand each tweet to the sink, and
// return nil when the stream ends (or ctx.Err() once ctx is done, or an
// error to be restarted with backoff). The ingester matches every tweet
// against the trends and publishes those that match.
func ExampleSourceFunc() {
	mine := stream.SourceFunc(func(ctx context.Context, sink stream.Sink) error {
		texts := []string{
			"Rewrote the scheduler in #golang this weekend",
			"Lunch was excellent",
			"Rust and Golang, side by side",
		}
		for i, text := range texts {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sink.Tweet(stream.Tweet{
				ID:        fmt.Sprint(i + 1),
				Source:    "mine",
				Author:    stream.Author{Handle: "zoe_codes", Name: "Zoë Martin"},
				Text:      text,
				CreatedAt: time.Now(),
			})
		}
		sink.Retract("mine", "1")
		return nil // a finite stream: the ingester does not restart it
	})

	trends, err := stream.NewTrends([]string{"golang", "rust"}, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	in := &stream.Ingester{
		Source:    mine,
		Trends:    trends,
		Publisher: printer{},
		Logger:    slog.New(slog.DiscardHandler),
	}
	if err := in.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	s := in.Stats()
	fmt.Printf("received %d, matched %d, unmatched %d, state %s\n", s.Received, s.Matched, s.Unmatched, s.State)
	// Output:
	// 1 @zoe_codes "Rewrote the scheduler in #golang this weekend" -> [golang]
	// 3 @zoe_codes "Rust and Golang, side by side" -> [golang rust]
	// retract mine/1
	// received 3, matched 2, unmatched 1, state ended
}
