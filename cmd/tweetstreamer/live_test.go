package main

import (
	"reflect"
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestRoomNamesFromUpstreamTrends(t *testing.T) {
	got := roomNames([]stream.TagCount{{Tag: "#Golang", Count: 5}, {Tag: "World Cup", Count: 4}, {Tag: "golang", Count: 3}, {Tag: "\x01bad", Count: 2}, {Tag: "#", Count: 1}})
	want := []stream.TagCount{{Tag: "golang", Count: 5}, {Tag: "world cup", Count: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("roomNames = %v, want %v", got, want)
	}
}
