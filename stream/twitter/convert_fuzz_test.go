package twitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// oneBody is an HTTP transport that answers the first request with 200
// and body, and fails every later one, as the conn's transport does once
// a stream has ended.
type oneBody struct {
	body  []byte
	used  bool
	ended chan struct{} // closed once the body is read to its end
}

func (o *oneBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if o.used {
		return nil, errors.New("the stream ended")
	}
	o.used = true
	return &http.Response{
		StatusCode: http.StatusOK, Header: make(http.Header), Request: req,
		Body: io.NopCloser(&endSignal{r: bytes.NewReader(o.body), ended: o.ended}),
	}, nil
}

// endSignal closes ended when r is read to its end: go-twitter reads a
// line and hands its message on before it reads again, so by then every
// message of the body has been handed on.
type endSignal struct {
	r     io.Reader
	ended chan struct{}
	once  sync.Once
}

func (e *endSignal) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.once.Do(func() { close(e.ended) })
	}
	return n, err
}

// inputStrings returns every string value in the JSON messages of a
// stream body, whatever its key or depth: what a tweet's fields may come
// from.
func inputStrings(body []byte) map[string]bool {
	set := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			set[v] = true
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, msg := range bytes.Split(body, []byte("\r\n")) {
		var v any
		if json.Unmarshal(msg, &v) == nil {
			walk(v)
		}
	}
	return set
}

// FuzzTwitterMessage feeds any message to the source as the stream sends
// it, decoded by go-twitter and handled as the run handles it, and checks
// that it does not fail, and that each tweet it passes on is valid UTF-8,
// reads back from its JSON (so its times are RFC 3339), and holds nothing
// that is not from the message: every string is one of the message's (or
// an ID's digits), the URL is built from its handle and ID, the
// thumbnail from a media URL, the time from its created_at or the clock.
// Each retraction names an ID of the message.
func FuzzTwitterMessage(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var line bytes.Buffer
		if err := json.Compact(&line, raw); err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(line.Bytes())
	}
	for _, seed := range []string{
		`{"retweet_count":0,"id_str":"1","user":{"screen_name":"a"},"created_at":"Sat Jan 01 00:00:00 +0100 0000"}`,
		`{"retweet_count":0,"id":12,"text":"&amp;lt; &lt;b&gt;","user":{"screen_name":"a/b?c","profile_image_url_https":"javascript:x"}}`,
		`{"retweet_count":0,"id_str":"2","user":{"screen_name":"b"},"retweeted_status":{"id_str":"1","user":{"screen_name":"a"}}}`,
		`{"retweet_count":0,"id_str":"3","user":{"screen_name":"c"},"truncated":true,"extended_tweet":{"full_text":"long","entities":{"hashtags":[{"text":"go"}],"urls":[{"expanded_url":"https://go.dev/"}]}}}`,
		`{"retweet_count":0,"id_str":"4","user":{"screen_name":"d"},"entities":{"media":[{"type":"photo","media_url_https":"https://x.example/p.jpg?x"}]}}`,
		`{"retweet_count":null}`,
		`{"delete":{"status":{"id":5}}}`,
		`{"delete":null}`,
		`{"limit":{"track":-1}}`,
		`{"disconnect":{"code":4,"stream_name":"x","reason":"y"}}`,
		`{"warning":{"code":"FALLING_BEHIND","percent_full":90}}`,
		`{"event":"favorite"}`,
		`{"something_new":true}`,
		`[1,2]`,
		"{\"retweet_count\":0,\"id_str\":\"\xff\",\"user\":{\"screen_name\":\"\xfe\"},\"text\":\"\xed\xa0\x80\"}",
		"{\"delete\":{\"status\":{\"id_str\":\"6\"}}}\r\n{\"retweet_count\":0,\"id_str\":\"7\",\"user\":{\"screen_name\":\"e\"}}",
	} {
		f.Add([]byte(seed))
	}
	trends, err := stream.NewTrends([]string{"go"}, 0)
	if err != nil {
		f.Fatal(err)
	}
	src, err := New(Config{Credentials: testCredentials, Trends: trends, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	clk := newFakeClock() // the time that stands in for an unreadable created_at
	src.clock = clk
	f.Fuzz(func(t *testing.T, message []byte) {
		body := append(slices.Clone(message), "\r\n"...)
		tr := &oneBody{body: body, ended: make(chan struct{})}
		client := twitter.NewClient(&http.Client{Transport: tr})
		st, err := client.Streams.Filter(&twitter.StreamFilterParams{Track: []string{"go"}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// go-twitter would ask again, after a backoff, once the body has
		// ended; every message is handed on by then, so the stream stops.
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			select {
			case <-tr.ended:
				st.Stop()
			case <-ctx.Done():
			}
		}()
		defer func() { cancel(); <-stopped }()
		sink := newRecordingSink()
		r := newRun(ctx, src, sink)
		c := newConn(ctx, 1, []string{"go"}, clk, time.Hour)
		defer c.stopStallTimer()
		for msg := range st.Messages {
			r.handle(c, msg)
		}

		from := inputStrings(body)
		fromInput := func(s string) bool { return from[s] }
		isID := func(s string) bool { return from[s] || s != "" && bytes.Contains(message, []byte(s)) }
		for _, tw := range sink.tweets {
			check := func(ok bool, what string) {
				t.Helper()
				if !ok {
					t.Fatalf("%s: %s is not from the message; the tweet is %+v", message, what, tw)
				}
			}
			check(isID(tw.ID), "the ID")
			check(tw.Source == sourceName, "the source")
			check(fromInput(tw.Author.Handle), "the handle")
			check(fromInput(tw.Author.Name) || tw.Author.Name == "", "the name")
			check(tw.Author.AvatarURL == "" || fromInput(tw.Author.AvatarURL), "the avatar")
			check(slices.ContainsFunc(append(slices.Collect(mapKeys(from)), ""), func(s string) bool { return unescapeText.Replace(s) == tw.Text }), "the text")
			handle, id, ok := strings.Cut(strings.TrimPrefix(tw.URL, "https://twitter.com/"), "/status/")
			handle, herr := url.PathUnescape(handle)
			id, ierr := url.PathUnescape(id)
			check(ok && herr == nil && ierr == nil && strings.HasPrefix(tw.URL, "https://twitter.com/") && fromInput(handle) && isID(id), "the URL")
			check(tw.Lang == "" || fromInput(tw.Lang), "the language")
			if by := tw.RetweetedBy; by != nil {
				check(fromInput(by.Handle) && (by.Name == "" || fromInput(by.Name)), "the retweeter")
			}
			check(tw.ThumbnailURL == "" || fromInput(strings.TrimSuffix(tw.ThumbnailURL, ":thumb")), "the thumbnail")
			for _, l := range tw.Links {
				check(fromInput(l), "a link")
			}
			for _, tag := range tw.Tags {
				check(fromInput(tag), "a tag")
			}
			check(tw.CreatedAt.Equal(clk.Now()) || slices.ContainsFunc(slices.Collect(mapKeys(from)), func(s string) bool {
				at, err := time.Parse(time.RubyDate, s)
				return err == nil && at.Equal(tw.CreatedAt)
			}), "the time")

			for _, s := range []string{tw.ID, tw.Author.Handle, tw.Author.Name, tw.Author.AvatarURL, tw.Text, tw.URL, tw.Lang, tw.ThumbnailURL} {
				if !utf8.ValidString(s) {
					t.Fatalf("%s: the tweet holds %q, which is not UTF-8", message, s)
				}
			}
			var back stream.Tweet
			if err := json.Unmarshal(tw.AppendJSON(nil), &back); err != nil {
				t.Fatalf("%s: the tweet's JSON %s does not read back: %v", message, tw.AppendJSON(nil), err)
			}
		}
		for _, ret := range sink.retracted {
			id, ok := strings.CutPrefix(ret, sourceName+"/")
			if !ok || !isID(id) {
				t.Fatalf("%s: retracted %q, which is not an ID of the message", message, ret)
			}
		}
	})
}

// mapKeys yields the keys of m.
func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
