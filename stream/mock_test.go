package stream

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// trendsOf returns a live set holding names.
func trendsOf(t *testing.T, names ...string) *Trends {
	t.Helper()
	trends, err := NewTrends(names, 0)
	if err != nil {
		t.Fatal(err)
	}
	return trends
}

// sinkRecorder is a Sink that keeps what it receives.
type sinkRecorder struct {
	mu        sync.Mutex
	tweets    []Tweet
	at        []time.Time // when each tweet arrived
	retracted []string
	onTweet   func(n int) // called after each tweet with the count so far
}

func (s *sinkRecorder) Tweet(t Tweet) {
	s.mu.Lock()
	s.tweets = append(s.tweets, t)
	s.at = append(s.at, time.Now())
	n := len(s.tweets)
	s.mu.Unlock()
	if s.onTweet != nil {
		s.onTweet(n)
	}
}

func (s *sinkRecorder) Retract(source, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retracted = append(s.retracted, source+"/"+id)
}

func (s *sinkRecorder) Tweets() []Tweet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tweets)
}

func (s *sinkRecorder) Times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.at)
}

func (s *sinkRecorder) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tweets)
}

// mockTweets makes n tweets with mk, without waiting for its clock.
func mockTweets(t *testing.T, mk *Mock, n int) []Tweet {
	t.Helper()
	tweets := make([]Tweet, n)
	for i := range tweets {
		tw, ok := mk.next(time.Now())
		if !ok {
			t.Fatalf("tweet %d: the mock made nothing", i)
		}
		tweets[i] = tw
	}
	return tweets
}

var defaultTestTrends = []string{"golang", "rust", "ai", "climate", "football", "music", "space", "#webdev"}

func TestMockIsDeterministicForASeed(t *testing.T) {
	for _, seed := range []int64{0, 42, -7} {
		t.Run(fmt.Sprintf("seed %d gives the same tweets twice", seed), func(t *testing.T) {
			a := mockTweets(t, NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Seed: seed}), 300)
			b := mockTweets(t, NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Seed: seed}), 300)
			for i := range a {
				a[i].CreatedAt, b[i].CreatedAt = time.Time{}, time.Time{}
				if !reflect.DeepEqual(a[i], b[i]) {
					t.Fatalf("tweet %d differs:\n%+v\n%+v", i, a[i], b[i])
				}
			}
			if want := fmt.Sprintf("m-%d-0", seed); a[0].ID != want {
				t.Errorf("first ID = %q, want %q", a[0].ID, want)
			}
		})
	}
	t.Run("another seed gives other tweets", func(t *testing.T) {
		a := mockTweets(t, NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Seed: 1}), 50)
		b := mockTweets(t, NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Seed: 2}), 50)
		same := 0
		for i := range a {
			if a[i].Text == b[i].Text && a[i].Author == b[i].Author {
				same++
			}
		}
		if same > 10 {
			t.Errorf("%d of %d tweets are the same for seeds 1 and 2", same, len(a))
		}
	})
}

func TestMockTweetsAreLively(t *testing.T) {
	tweets := mockTweets(t, NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Seed: 3}), 2000)
	ids := make(map[string]bool)
	authors := make(map[string]bool)
	texts := make(map[string]bool)
	langs := make(map[string]bool)
	for _, tw := range tweets {
		if ids[tw.ID] {
			t.Fatalf("ID %q repeats", tw.ID)
		}
		ids[tw.ID] = true
		authors[tw.Author.Handle] = true
		texts[tw.Text] = true
		langs[tw.Lang] = true
		switch {
		case tw.Source != "mock":
			t.Fatalf("Source = %q, want mock", tw.Source)
		case tw.URL != "https://example.com/mock/"+tw.ID:
			t.Fatalf("URL = %q for ID %q", tw.URL, tw.ID)
		case tw.Author.Handle == "" || tw.Author.Name == "":
			t.Fatalf("author %+v lacks a handle or a name", tw.Author)
		case tw.Author.AvatarURL != "":
			t.Fatalf("author %+v has an avatar; the page draws initials", tw.Author)
		case tw.CreatedAt.IsZero():
			t.Fatalf("tweet %s has no CreatedAt", tw.ID)
		case strings.ContainsAny(tw.Text, "{}"):
			t.Fatalf("text %q has a placeholder left in it", tw.Text)
		}
	}
	if len(authors) < 30 {
		t.Errorf("%d distinct authors, want at least 30", len(authors))
	}
	if len(texts) < 1000 {
		t.Errorf("%d distinct texts in %d tweets, want at least 1000", len(texts), len(tweets))
	}
	for _, lang := range []string{"en", "es", "fr", "de", "ja", "pt"} {
		if !langs[lang] {
			t.Errorf("no tweet in %q", lang)
		}
	}
}

func TestMockTweetMatchesOnlyItsTarget(t *testing.T) {
	tests := []struct {
		name   string
		trends []string
	}{
		{"default trends", defaultTestTrends},
		{"trends that are also filler words", []string{"the", "new", "news", "is", "a", "about", "today", "https", "example", "com", "thoughts", "golang", "tech"}},
		{"trends of several words", []string{"climate change", "world cup", "new album", "node.js", "rust"}},
		{"trends in other scripts", []string{"東京", "café", "straße", "москва", "ai"}},
		{"a single trend", []string{"go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+": each tweet matches exactly its target", func(t *testing.T) {
			trends := trendsOf(t, tt.trends...)
			m := trends.Matcher()
			list := m.Trends()
			for i, tw := range mockTweets(t, NewMock(MockConfig{Trends: trends, Seed: 9}), 40*len(list)) {
				target := list[i%len(list)]
				if got := m.Match(tw.Text); !slices.Equal(got, []string{target}) {
					t.Fatalf("tweet %d %q matches %q, want only %q", i, tw.Text, got, target)
				}
			}
		})
	}
}

// When another trend's words are all among the target's own, a tweet for
// the target cannot avoid matching it too: the mock then still targets the
// right trend, and matches nothing beyond such trends.
func TestMockTweetWithOverlappingTrends(t *testing.T) {
	trends := trendsOf(t, "#go", "go", "go fast", "rust")
	m := trends.Matcher()
	list := m.Trends()
	unavoidable := map[string][]string{
		"#go":     {"#go", "go"},
		"go":      {"#go", "go"},
		"go fast": {"#go", "go", "go fast"},
		"rust":    {"rust"},
	}
	for i, tw := range mockTweets(t, NewMock(MockConfig{Trends: trends}), 40*len(list)) {
		target := list[i%len(list)]
		if got := m.Match(tw.Text); !slices.Equal(got, unavoidable[target]) {
			t.Fatalf("tweet %d for %q: %q matches %q, want %q", i, target, tw.Text, got, unavoidable[target])
		}
	}
}

func TestMockTargetsTrendsRoundRobin(t *testing.T) {
	t.Run("over N×k tweets each of N trends gets k", func(t *testing.T) {
		trends := trendsOf(t, defaultTestTrends...)
		m := trends.Matcher()
		const k = 25
		count := make(map[string]int)
		for _, tw := range mockTweets(t, NewMock(MockConfig{Trends: trends}), k*len(defaultTestTrends)) {
			matched := m.Match(tw.Text)
			if len(matched) != 1 {
				t.Fatalf("%q matches %q", tw.Text, matched)
			}
			count[matched[0]]++
		}
		for _, trend := range m.Trends() {
			if count[trend] != k {
				t.Errorf("%q got %d tweets, want %d", trend, count[trend], k)
			}
		}
	})
	t.Run("a trend added meanwhile gets its turn", func(t *testing.T) {
		trends := trendsOf(t, "golang", "rust")
		mk := NewMock(MockConfig{Trends: trends})
		mockTweets(t, mk, 2)
		if _, err := trends.Add("climate"); err != nil {
			t.Fatal(err)
		}
		m := trends.Matcher()
		var got []string
		for _, tw := range mockTweets(t, mk, 3) {
			got = append(got, m.Match(tw.Text)...)
		}
		slices.Sort(got)
		if want := []string{"climate", "golang", "rust"}; !slices.Equal(got, want) {
			t.Errorf("next three tweets match %q, want one each of %q", got, want)
		}
	})
	t.Run("no trend, no tweet", func(t *testing.T) {
		if tw, ok := NewMock(MockConfig{Trends: trendsOf(t)}).next(time.Now()); ok {
			t.Errorf("made %+v with no trend", tw)
		}
	})
}

func TestMockStreamsAtItsRate(t *testing.T) {
	tests := []struct {
		name   string
		rate   float64
		period time.Duration
		want   int
	}{
		{"zero rate means 10 per second", 0, 10 * time.Second, 100},
		{"10 per second", 10, 10 * time.Second, 100},
		{"2.5 per second", 2.5, 8 * time.Second, 20},
		{"one every 4 seconds", 0.25, 20 * time.Second, 5},
		{"100,000 per second", 100_000, time.Second, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mk := NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Rate: tt.rate})
				sink := new(sinkRecorder)
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error)
				go func() { done <- mk.Stream(ctx, sink) }()

				time.Sleep(tt.period + mockMinTick/2)
				got := sink.Len()
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Errorf("Stream returned %v, want context.Canceled", err)
				}
				if got < tt.want-1 || got > tt.want+1 {
					t.Errorf("%v at %v/s: %d tweets, want %d±1", tt.period, tt.rate, got, tt.want)
				}
			})
		})
	}
	t.Run("at a low rate tweets come evenly spaced", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			mk := NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Rate: 4})
			sink := new(sinkRecorder)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- mk.Stream(ctx, sink) }()
			time.Sleep(5 * time.Second)
			cancel()
			<-done
			times := sink.Times()
			if len(times) < 19 {
				t.Fatalf("%d tweets in 5 s at 4/s", len(times))
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i].Sub(times[i-1]); gap != 250*time.Millisecond {
					t.Fatalf("gap %d is %v, want 250ms", i, gap)
				}
			}
		})
	})
}

func TestMockAfterASlowSinkDoesNotBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mk := NewMock(MockConfig{Trends: trendsOf(t, defaultTestTrends...), Rate: 10})
		sink := new(sinkRecorder)
		sink.onTweet = func(n int) {
			if n == 1 {
				time.Sleep(time.Minute) // the sink stalls once
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- mk.Stream(ctx, sink) }()
		time.Sleep(2 * time.Minute)
		cancel()
		<-done

		perInstant := make(map[time.Time]int)
		for _, at := range sink.Times() {
			perInstant[at]++
		}
		maxBurst := mockMaxBurstTicks + 1 // at 10/s a tick is worth one tweet
		for at, n := range perInstant {
			if n > maxBurst {
				t.Errorf("%d tweets at once at %v, want at most %d", n, at, maxBurst)
			}
		}
		// The minute after the stall runs at the rate again.
		if n := sink.Len(); n < 600 || n > 600+maxBurst+1 {
			t.Errorf("%d tweets in two minutes with a minute's stall, want about 600", n)
		}
	})
}

func TestMockWithoutTrendsWaitsForOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		trends := trendsOf(t)
		mk := NewMock(MockConfig{Trends: trends, Rate: 10})
		sink := new(sinkRecorder)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- mk.Stream(ctx, sink) }()

		time.Sleep(time.Minute)
		if n := sink.Len(); n != 0 {
			t.Fatalf("%d tweets with no trend", n)
		}
		if _, err := trends.Add("golang"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second + mockMinTick)
		// The quiet minute is not owed: about one second's worth comes.
		if n := sink.Len(); n < 9 || n > 11 {
			t.Errorf("%d tweets in the second after the first trend, want 10±1", n)
		}
		if !trends.Remove("golang") {
			t.Fatal("could not remove golang")
		}
		synctest.Wait()
		before := sink.Len()
		time.Sleep(time.Minute)
		if n := sink.Len(); n != before {
			t.Errorf("%d tweets after the last trend went, want none", n-before)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Stream returned %v, want context.Canceled", err)
		}
	})
}

func TestNewMockWithoutTrendsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewMock accepted a nil Trends")
		}
	}()
	NewMock(MockConfig{})
}
