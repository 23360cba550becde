package stream

import (
	"strconv"
	"testing"
)

func TestRecentIDsRemembersTheLastN(t *testing.T) {
	r := NewRecentIDs(3)
	for _, id := range []string{"1", "2", "3"} {
		if !r.Add(id) {
			t.Fatalf("Add(%s): not new", id)
		}
	}
	if r.Add("2") {
		t.Error("Add(2) again: new, want a repeat")
	}
	r.Add("4") // forgets 1
	if !r.Add("1") {
		t.Error("Add(1) after three newer IDs: a repeat, want new")
	}
	if r.Len() != 3 {
		t.Errorf("remembers %d IDs, want 3", r.Len())
	}
}

func TestRecentIDsStaysBounded(t *testing.T) {
	const n = 100
	r := NewRecentIDs(n)
	for i := range 3 * n {
		r.Add(strconv.Itoa(i))
	}
	if r.Len() != n {
		t.Errorf("remembers %d IDs, want %d", r.Len(), n)
	}
	if !r.Add("") || !r.Add("") {
		t.Error("the empty ID counts as a repeat")
	}
	if NewRecentIDs(0).Add("a") != true {
		t.Error("a set of size 0 remembers nothing, not even one")
	}
}
