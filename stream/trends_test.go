package stream

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestNewTrends(t *testing.T) {
	tests := []struct {
		name       string
		configured []string
		max        int
		want       []string
	}{
		{"nothing configured", nil, 0, nil},
		{"normalises names", []string{"GoLang", "  Climate   Change "}, 0, []string{"golang", "climate change"}},
		{"drops duplicates after normalising", []string{"Go", "go", " GO "}, 0, []string{"go"}},
		{"keeps a hashtag apart from its word", []string{"#Go", "go"}, 0, []string{"#go", "go"}},
		{"keeps the configured order", []string{"zig", "go", "rust"}, 0, []string{"zig", "go", "rust"}},
		{"accepts exactly the cap", []string{"go", "rust"}, 2, []string{"go", "rust"}},
		{"counts duplicates once against the cap", []string{"go", "Go", "GO"}, 1, []string{"go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trends, err := NewTrends(tt.configured, tt.max)
			if err != nil {
				t.Fatalf("NewTrends(%q, %d) = error %v", tt.configured, tt.max, err)
			}
			if got := trends.List(); !slices.Equal(got, tt.want) {
				t.Errorf("List() = %q, want %q", got, tt.want)
			}
			for _, trend := range tt.want {
				if !trends.IsConfigured(trend) {
					t.Errorf("IsConfigured(%q) = false, want true", trend)
				}
			}
		})
	}
}

func TestNewTrendsRefuses(t *testing.T) {
	tests := []struct {
		name       string
		configured []string
		max        int
		want       error
	}{
		{"a bad name", []string{"go", "!!!"}, 0, ErrBadTrend},
		{"an empty name", []string{""}, 0, ErrBadTrend},
		{"more than the cap", []string{"go", "rust", "zig"}, 2, ErrTooManyTrends},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trends, err := NewTrends(tt.configured, tt.max)
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewTrends(%q, %d) = %v, %v; want an error wrapping %v", tt.configured, tt.max, trends, err, tt.want)
			}
			if trends != nil {
				t.Errorf("NewTrends returned a set along with error %v", err)
			}
		})
	}
}

func TestTrendsAdd(t *testing.T) {
	tests := []struct {
		name      string
		trend     string
		wantAdded bool
		wantErr   error
		wantList  []string
	}{
		{"adds a new trend after the configured ones", "zig", true, nil, []string{"go", "rust", "zig"}},
		{"ignores a configured trend", "go", false, nil, []string{"go", "rust"}},
		{"refuses a name that is not normalised", "Zig", false, ErrBadTrend, []string{"go", "rust"}},
		{"refuses a name with space to trim", " zig", false, ErrBadTrend, []string{"go", "rust"}},
		{"refuses a name without a word", "!!!", false, ErrBadTrend, []string{"go", "rust"}},
		{"refuses the empty name", "", false, ErrBadTrend, []string{"go", "rust"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trends := mustNewTrends(t, []string{"go", "rust"}, 0)
			changed := trends.Changed()
			added, err := trends.Add(tt.trend)
			if added != tt.wantAdded || !errors.Is(err, tt.wantErr) {
				t.Errorf("Add(%q) = %v, %v; want %v, %v", tt.trend, added, err, tt.wantAdded, tt.wantErr)
			}
			if got := trends.List(); !slices.Equal(got, tt.wantList) {
				t.Errorf("List() = %q, want %q", got, tt.wantList)
			}
			if isClosed(changed) != tt.wantAdded {
				t.Errorf("Changed() closed = %v, want %v", isClosed(changed), tt.wantAdded)
			}
		})
	}
}

func TestTrendsAddIsIdempotent(t *testing.T) {
	trends := mustNewTrends(t, []string{"go"}, 0)
	if added, err := trends.Add("zig"); !added || err != nil {
		t.Fatalf("first Add(zig) = %v, %v; want true, nil", added, err)
	}
	changed := trends.Changed()
	if added, err := trends.Add("zig"); added || err != nil {
		t.Errorf("second Add(zig) = %v, %v; want false, nil", added, err)
	}
	if isClosed(changed) {
		t.Error("Changed() closed by an Add that changed nothing")
	}
	if got, want := trends.List(), []string{"go", "zig"}; !slices.Equal(got, want) {
		t.Errorf("List() = %q, want %q", got, want)
	}
	if trends.IsConfigured("zig") {
		t.Error("IsConfigured(zig) = true for a custom trend")
	}
}

func TestTrendsAddAtTheCap(t *testing.T) {
	trends := mustNewTrends(t, []string{"go"}, 2)
	if added, err := trends.Add("zig"); !added || err != nil {
		t.Fatalf("Add(zig) = %v, %v; want true, nil", added, err)
	}
	changed := trends.Changed()
	added, err := trends.Add("rust")
	if added || !errors.Is(err, ErrTooManyTrends) {
		t.Errorf("Add(rust) at the cap = %v, %v; want false and an error wrapping ErrTooManyTrends", added, err)
	}
	if isClosed(changed) {
		t.Error("Changed() closed by a refused Add")
	}
	for _, trend := range []string{"go", "zig"} {
		if added, err := trends.Add(trend); added || err != nil {
			t.Errorf("Add(%q), already in the full set = %v, %v; want false, nil", trend, added, err)
		}
	}
	if !trends.Remove("zig") {
		t.Fatal("Remove(zig) = false, want true")
	}
	if added, err := trends.Add("rust"); !added || err != nil {
		t.Errorf("Add(rust) after a Remove freed a place = %v, %v; want true, nil", added, err)
	}
	if got, want := trends.List(), []string{"go", "rust"}; !slices.Equal(got, want) {
		t.Errorf("List() = %q, want %q", got, want)
	}
}

func TestTrendsWithoutCap(t *testing.T) {
	trends := mustNewTrends(t, nil, 0)
	for i := range 2000 {
		if _, err := trends.Add(fmt.Sprintf("trend%d", i)); err != nil {
			t.Fatalf("Add #%d with no cap: %v", i, err)
		}
	}
	if got := len(trends.List()); got != 2000 {
		t.Errorf("len(List()) = %d, want 2000", got)
	}
}

func TestTrendsRemove(t *testing.T) {
	tests := []struct {
		name     string
		trend    string
		want     bool
		wantList []string
	}{
		{"removes a custom trend", "zig", true, []string{"go"}},
		{"keeps a configured trend", "go", false, []string{"go", "zig"}},
		{"ignores an unknown trend", "rust", false, []string{"go", "zig"}},
		{"ignores a name that is not normalised", "Zig", false, []string{"go", "zig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trends := mustNewTrends(t, []string{"go"}, 0)
			if _, err := trends.Add("zig"); err != nil {
				t.Fatal(err)
			}
			changed := trends.Changed()
			if got := trends.Remove(tt.trend); got != tt.want {
				t.Errorf("Remove(%q) = %v, want %v", tt.trend, got, tt.want)
			}
			if got := trends.List(); !slices.Equal(got, tt.wantList) {
				t.Errorf("List() = %q, want %q", got, tt.wantList)
			}
			if isClosed(changed) != tt.want {
				t.Errorf("Changed() closed = %v, want %v", isClosed(changed), tt.want)
			}
			if trends.Remove(tt.trend) {
				t.Errorf("second Remove(%q) = true, want false", tt.trend)
			}
		})
	}
}

func TestTrendsChanged(t *testing.T) {
	trends := mustNewTrends(t, []string{"go"}, 0)
	first := trends.Changed()
	if isClosed(first) {
		t.Fatal("Changed() closed before any change")
	}
	if trends.Changed() != first {
		t.Error("Changed() returned another channel with no change in between")
	}
	mustAdd(t, trends, "zig")
	if !isClosed(first) {
		t.Fatal("Changed() not closed by Add")
	}
	second := trends.Changed()
	if isClosed(second) {
		t.Fatal("Changed() after a change returned a closed channel")
	}
	trends.Remove("zig")
	if !isClosed(second) {
		t.Fatal("Changed() not closed by Remove")
	}
	if isClosed(trends.Changed()) {
		t.Fatal("Changed() after a change returned a closed channel")
	}
}

func TestTrendsMatcher(t *testing.T) {
	trends := mustNewTrends(t, []string{"Go"}, 0)
	before := trends.Matcher()
	const text = "go and zig"
	if got, want := before.Match(text), []string{"go"}; !slices.Equal(got, want) {
		t.Fatalf("Match(%q) = %q, want %q", text, got, want)
	}
	mustAdd(t, trends, "zig")
	if got, want := trends.Matcher().Match(text), []string{"go", "zig"}; !slices.Equal(got, want) {
		t.Errorf("after Add(zig), Match(%q) = %q, want %q", text, got, want)
	}
	if got, want := before.Match(text), []string{"go"}; !slices.Equal(got, want) {
		t.Errorf("a matcher taken before Add changed: Match(%q) = %q, want %q", text, got, want)
	}
	trends.Remove("zig")
	if got, want := trends.Matcher().Match(text), []string{"go"}; !slices.Equal(got, want) {
		t.Errorf("after Remove(zig), Match(%q) = %q, want %q", text, got, want)
	}
}

func TestTrendsListIsACopy(t *testing.T) {
	trends := mustNewTrends(t, []string{"go", "zig"}, 0)
	list := trends.List()
	list[0] = "changed"
	if got := trends.List(); got[0] != "go" {
		t.Errorf("changing the result of List changed the set: %q", got)
	}
	if got := trends.Matcher().Trends(); got[0] != "go" {
		t.Errorf("changing the result of List changed the matcher: %q", got)
	}
}

// TestTrendsConcurrentUse adds and removes custom trends while others match
// texts, list the set and wait for changes; run it with -race.
func TestTrendsConcurrentUse(t *testing.T) {
	const writers, rounds = 4, 200
	trends := mustNewTrends(t, []string{"go"}, 1+writers)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		trend := fmt.Sprintf("custom%d", w)
		wg.Go(func() {
			for range rounds {
				if added, err := trends.Add(trend); !added || err != nil {
					t.Errorf("Add(%q) = %v, %v; want true, nil", trend, added, err)
					return
				}
				if !trends.Remove(trend) {
					t.Errorf("Remove(%q) = false, want true", trend)
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got := trends.Matcher().Match("go custom0 custom1 custom2 custom3")
				if len(got) == 0 || got[0] != "go" {
					t.Errorf("Match = %q, want the configured trend first", got)
					return
				}
				if list := trends.List(); list[0] != "go" {
					t.Errorf("List() = %q, want the configured trend first", list)
					return
				}
			}
		})
	}
	readers.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-trends.Changed():
			}
		}
	})
	wg.Wait()
	close(done)
	readers.Wait()
	if got, want := trends.List(), []string{"go"}; !slices.Equal(got, want) {
		t.Errorf("List() after every custom trend was removed = %q, want %q", got, want)
	}
}

func mustNewTrends(t *testing.T, configured []string, max int) *Trends {
	t.Helper()
	trends, err := NewTrends(configured, max)
	if err != nil {
		t.Fatalf("NewTrends(%q, %d): %v", configured, max, err)
	}
	return trends
}

func mustAdd(t *testing.T, trends *Trends, trend string) {
	t.Helper()
	if added, err := trends.Add(trend); !added || err != nil {
		t.Fatalf("Add(%q) = %v, %v; want true, nil", trend, added, err)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
