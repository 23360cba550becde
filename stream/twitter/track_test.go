package twitter

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTrackPhrases(t *testing.T) {
	tests := []struct {
		name   string
		trends []string
		want   []string
	}{
		{"trends are phrases as they are", []string{"golang", "#webdev", "world cup"}, []string{"golang", "#webdev", "world cup"}},
		{"a comma, which separates phrases, becomes a space", []string{"salt,pepper", "a, b ,c"}, []string{"salt pepper", "a b c"}},
		{"repeats and empty phrases are dropped", []string{"go", "go", ",", "a,b", "a b"}, []string{"go", "a b"}},
		{"no trends, no phrases", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trackPhrases(tt.trends); !slices.Equal(got, tt.want) {
				t.Errorf("trackPhrases(%q) = %q, want %q", tt.trends, got, tt.want)
			}
		})
	}
}

func TestCheckTrackKeepsTwittersLimits(t *testing.T) {
	many := func(n int) []string {
		list := make([]string, n)
		for i := range list {
			list[i] = "trend" + strconv.Itoa(i)
		}
		return list
	}
	tests := []struct {
		name    string
		phrases []string
		wantErr string
	}{
		{"400 phrases are fine", many(400), ""},
		{"401 phrases are too many", many(401), "401 trends to track, but Twitter's filter stream tracks at most 400"},
		{"a phrase of 60 bytes is fine", []string{strings.Repeat("a", 60)}, ""},
		{"a phrase of 61 bytes is too long", []string{strings.Repeat("a", 61)}, "61 bytes long, but Twitter tracks phrases of at most 60 bytes"},
		{"bytes count, not characters", []string{strings.Repeat("ş", 31)}, "62 bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTrack(tt.phrases)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("checkTrack: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("checkTrack: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSplitLong(t *testing.T) {
	long := strings.Repeat("日", 21) // 63 bytes
	fit, over := splitLong([]string{"go", long, "rust"})
	if !slices.Equal(fit, []string{"go", "rust"}) || !slices.Equal(over, []string{long}) {
		t.Errorf("splitLong = %q, %q", fit, over)
	}
}
