package stream

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// sameTweet reports whether a and b say the same: times equal as
// instants (a zone is how a time was written, not when it is), and an
// empty list the same as none, as AppendJSON leaves both out.
func sameTweet(a, b Tweet) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) || !a.IngestedAt.Equal(b.IngestedAt) {
		return false
	}
	a.CreatedAt, b.CreatedAt, a.IngestedAt, b.IngestedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	for _, t := range []*Tweet{&a, &b} {
		if len(t.Links) == 0 {
			t.Links = nil
		}
		if len(t.Tags) == 0 {
			t.Tags = nil
		}
	}
	return reflect.DeepEqual(a, b)
}

// FuzzReplayLine checks the replay's reading of any line: it does not
// fail; a line it takes for a tweet, written back with AppendJSON, reads
// as the same tweet; and in a file, every line of the input that is
// malformed is logged with its line number and reason, while the tweets
// of the others, and of the lines after it, are all played, in order.
func FuzzReplayLine(f *testing.F) {
	for _, seed := range []string{
		tweetLine("1900473325092502604", 0),
		`{"id":"1","source":"twitter","author":{"handle":"priya_builds","name":"Priya Raman"},"text":"Just shipped our first service written in #golang 🚀","url":"https://example.com/priya_builds/status/1","lang":"en","created_at":"2025-03-14T15:00:00.000Z"}`,
		`{"id":"2","author":{"handle":"a","name":"","avatar_url":"https://example.com/a.png"},"text":"RT","retweeted_by":{"handle":"b","name":"B"},"thumbnail_url":"https://example.com/t.jpg","links":["https://go.dev/"],"tags":["golang"],"created_at":"2025-03-14T16:00:00+01:00","ingested_at":"2025-03-14T15:00:00.123456789Z"}`,
		`{"id":"3","text":"\u003cb\u003e \u2028 \ud83d\ude80 \ud800","links":[],"tags":[]}`,
		`{"id":"4","text":"x","created_at":"0000-01-01T00:00:00+23:59"}`,
		`{"id":"5","text":"x","created_at":"9999-12-31T23:59:59.999999999-23:59"}`,
		`{"ID":"6","TEXT":"keys in capitals","id":"7"}`,
		`{"id":"8","text":"x","created_at":"yesterday"}`,
		`{"id":"","text":"no id"}`,
		`{"id":"9"}`,
		`{"id":9,"text":"a number"}`,
		`{not json`,
		`null`,
		`[]`,
		"",
		"  \t",
		"{\"id\":\"10\",\"text\":\"\xff\xfe\"}",
		tweetLine("a", 0) + "\r\n" + "{broken\n" + tweetLine("b", time.Second),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		var want []string // the IDs the file should play
		bad := map[int]bool{}
		want = append(want, "before")
		for i, line := range strings.Split(input, "\n") {
			line = strings.TrimSuffix(line, "\r")
			tw, reason := parseReplayLine([]byte(line), false)
			switch {
			case reason != "":
				bad[i+2] = true
				continue
			case tw == nil:
				continue
			}
			want = append(want, tw.ID)
			again, reason := parseReplayLine(tw.AppendJSON(nil), false)
			if reason != "" {
				t.Fatalf("%q reads as %+v, which written back as %s does not read: %s", line, *tw, tw.AppendJSON(nil), reason)
			}
			if !sameTweet(*tw, *again) {
				t.Fatalf("%q reads as\n%+v\nand written back as %s reads as\n%+v", line, *tw, tw.AppendJSON(nil), *again)
			}
		}
		want = append(want, "after")

		file := tweetLine("before", 0) + "\n" + input + "\n" + tweetLine("after", time.Second) + "\n"
		logger, log := newCapturedLog()
		tweets, _, err := playReplay(t, ReplayConfig{Path: writeReplayFile(t, file), Logger: logger})
		if err != nil {
			t.Fatalf("Stream = %v, want nil", err)
		}
		if got := tweetIDs(tweets); !slices.Equal(got, want) {
			t.Fatalf("played %q, want %q", got, want)
		}
		logged := map[int]bool{}
		for _, r := range log.Records(t) {
			line, _ := r["line"].(float64)
			if reason, _ := r["reason"].(string); reason == "" || !bad[int(line)] {
				t.Errorf("logged %v, want a reason for one of the malformed lines %v", r, bad)
			}
			logged[int(line)] = true
		}
		if len(logged) != len(bad) {
			t.Errorf("logged lines %v, want %v", logged, bad)
		}
	})
}
