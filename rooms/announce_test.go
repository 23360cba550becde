package rooms

import (
	"testing"
)

func TestAnnounce(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	type status struct {
		State  string `json:"state"`
		Reason string `json:"reason,omitempty"`
	}
	early := s.dial(t)
	early.skipNoise = false
	if m := early.next(); m.Type != "trends" {
		t.Fatalf("first message %v, want trends", m)
	}
	early.skipNoise = true

	if err := s.hub.Announce("source", status{State: "backing_off", Reason: "HTTP 420 <b>"}); err != nil {
		t.Fatal(err)
	}
	m := early.next()
	if m.Type != "source" || m.Message != "" {
		t.Fatalf("got %+v, want the source announcement", m)
	}

	t.Run("a new connection gets the latest of each kind after the trend list", func(t *testing.T) {
		if err := s.hub.Announce("trending", map[string]any{"tags": []string{"golang"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.hub.Announce("source", status{State: "connected"}); err != nil {
			t.Fatal(err)
		}
		late := s.dial(t)
		late.skipNoise = false
		var kinds []string
		for range 3 {
			kinds = append(kinds, late.next().Type)
		}
		if kinds[0] != "trends" || kinds[1] != "source" || kinds[2] != "trending" {
			t.Fatalf("got %v, want trends, source, trending", kinds)
		}
		late.expectNothing()
	})
	t.Run("the same announcement twice is sent once", func(t *testing.T) {
		// early has seen backing_off, then trending and connected.
		for _, want := range []string{"trending", "source"} {
			if m := early.next(); m.Type != want {
				t.Fatalf("got %v, want %s", m, want)
			}
		}
		if err := s.hub.Announce("source", status{State: "connected"}); err != nil {
			t.Fatal(err)
		}
		early.expectNothing()
	})
	t.Run("a value that is not an object is refused", func(t *testing.T) {
		if err := s.hub.Announce("source", []int{1}); err == nil {
			t.Fatal("no error")
		}
		if err := s.hub.Announce("source", func() {}); err == nil {
			t.Fatal("no error")
		}
	})
}
