package jetstream

import (
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

func TestEventsAreCountedByWhatTheyAre(t *testing.T) {
	post := jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "hi"}
	tests := []struct {
		name  string
		event string
		count string
	}{
		{"a new post", string(post.Event()), "posts"},
		{"a deleted post", string(jetstreamtest.DeleteEvent(t0, alice, "3k1")), "deletes"},
		{"a like", string(jetstreamtest.CommitEvent(t0, alice, "create", "app.bsky.feed.like", "3k1", map[string]any{})), "ignored"},
		{"a deleted like", string(jetstreamtest.CommitEvent(t0, alice, "delete", "app.bsky.feed.like", "3k1", nil)), "ignored"},
		{"an edited post", string(jetstreamtest.CommitEvent(t0, alice, "update", "app.bsky.feed.post", "3k1", post.Record())), "ignored"},
		{"an identity event", string(jetstreamtest.IdentityEvent(t0, alice, "alice.test")), "ignored"},
		{"an account event", string(jetstreamtest.AccountEvent(t0, alice, true)), "ignored"},
		{"a kind from the future", `{"did":"` + alice + `","time_us":1,"kind":"sync"}`, "ignored"},
		{"not JSON", `{"did":`, "malformed"},
		{"a JSON array", `[1,2]`, "malformed"},
		{"a commit without its commit", `{"did":"` + alice + `","time_us":1,"kind":"commit"}`, "malformed"},
		{"a post without its record", string(jetstreamtest.CommitEvent(t0, alice, "create", "app.bsky.feed.post", "3k1", nil)), "malformed"},
		{"a post with a bad did", string(jetstreamtest.Post{TimeUS: t0, DID: "alice", RKey: "3k1"}.Event()), "malformed"},
		{"a post with a bad rkey", string(jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "a/b"}.Event()), "malformed"},
		{"a deletion with a bad rkey", string(jetstreamtest.DeleteEvent(t0, alice, "")), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSource(t)
			s.handle([]byte(tt.event), newRecorder())
			for key, n := range s.Status().Counts {
				want := int64(0)
				if key == tt.count {
					want = 1
				}
				if n != want {
					t.Errorf("%s = %d, want %d", key, n, want)
				}
			}
		})
	}
}

func TestEventsMoveTheCursorForward(t *testing.T) {
	s := newTestSource(t)
	for _, ev := range [][]byte{
		jetstreamtest.IdentityEvent(t0+5, alice, "a.test"),
		jetstreamtest.DeleteEvent(t0+2, alice, "3k1"), // earlier: the cursor stays
		[]byte(`{"time_us": 99999999999999999`),       // malformed: no time to trust
	} {
		s.handle(ev, newRecorder())
	}
	if s.lastTimeUS != t0+5 {
		t.Errorf("lastTimeUS = %d, want %d", s.lastTimeUS, t0+5)
	}
}

func TestValidDID(t *testing.T) {
	tests := map[string]bool{
		alice:                                   true,
		"did:web:example.com":                   true,
		"did:web:localhost%3A8080":              true,
		"did:plc:":                              false,
		"did::abc":                              false,
		"did:PLC:abc":                           false,
		"plc:abc":                               false,
		"did:plc:abc:":                          false,
		"did:plc:a/b":                           false,
		"did:plc:a b":                           false,
		"did:plc:abc?x":                         false,
		"did:plc:" + string(make([]byte, 3000)): false,
	}
	for did, want := range tests {
		if got := validDID(did); got != want {
			t.Errorf("validDID(%.40q) = %v, want %v", did, got, want)
		}
	}
}

func TestValidRKey(t *testing.T) {
	tests := map[string]bool{
		"3jui7kd54zh2y":           true,
		"self":                    true,
		"a.b_c:d~e-f":             true,
		"":                        false,
		".":                       false,
		"..":                      false,
		"a/b":                     false,
		"a#b":                     false,
		string(make([]byte, 513)): false,
	}
	for rkey, want := range tests {
		if got := validRKey(rkey); got != want {
			t.Errorf("validRKey(%.40q) = %v, want %v", rkey, got, want)
		}
	}
}

func TestShortDID(t *testing.T) {
	tests := map[string]string{
		alice:                 "ewvi7nxz…",
		"did:plc:abc":         "abc",
		"did:web:example.com": "example.…",
		"did:web:a.io":        "a.io",
		"weird":               "weird",
	}
	for did, want := range tests {
		if got := shortDID(did); got != want {
			t.Errorf("shortDID(%q) = %q, want %q", did, got, want)
		}
	}
}
