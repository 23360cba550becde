package twitter

import (
	"strconv"
	"testing"
)

func TestRecentIDsRemembersTheLastN(t *testing.T) {
	r := newRecentIDs(3)
	for _, id := range []string{"1", "2", "3"} {
		if !r.add(id) {
			t.Fatalf("add(%s): not new", id)
		}
	}
	if r.add("2") {
		t.Error("add(2) again: new, want a repeat")
	}
	r.add("4") // forgets 1
	if !r.add("1") {
		t.Error("add(1) after three newer IDs: a repeat, want new")
	}
	if len(r.set) != 3 {
		t.Errorf("remembers %d IDs, want 3", len(r.set))
	}
}

func TestRecentIDsStaysBounded(t *testing.T) {
	r := newRecentIDs(recentTweetIDs)
	for i := range 3 * recentTweetIDs {
		r.add(strconv.Itoa(i))
	}
	if len(r.set) != recentTweetIDs {
		t.Errorf("remembers %d IDs, want %d", len(r.set), recentTweetIDs)
	}
	if !r.add("") || !r.add("") {
		t.Error("the empty ID counts as a repeat")
	}
}
