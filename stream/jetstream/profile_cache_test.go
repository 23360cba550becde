package jetstream

import (
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestProfileCacheForgetsTheLeastRecentlyUsed(t *testing.T) {
	c := newProfileCache(2)
	entry := func(h string) profileEntry { return profileEntry{author: stream.Author{Handle: h}, found: true} }
	c.put("a", entry("a"))
	c.put("b", entry("b"))
	c.get("a") // a is now more recent than b
	c.put("c", entry("c"))

	if _, ok := c.get("b"); ok {
		t.Error("b was kept; it was the least recently used")
	}
	for _, did := range []string{"a", "c"} {
		if e, ok := c.get(did); !ok || e.author.Handle != did {
			t.Errorf("get(%q) = %+v, %v", did, e, ok)
		}
	}
	c.put("a", entry("a2"))
	if e, _ := c.get("a"); e.author.Handle != "a2" || c.len() != 2 {
		t.Errorf("after replacing a: %+v, %d entries", e, c.len())
	}
	c.remove("a")
	c.remove("nobody")
	if _, ok := c.get("a"); ok || c.len() != 1 {
		t.Errorf("after removing a: found %v, %d entries", ok, c.len())
	}
}
