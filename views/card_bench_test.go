package views

import "testing"

// BenchmarkCardHTML measures the render the server does once per tweet.
func BenchmarkCardHTML(b *testing.B) {
	tw := sampleTweet()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CardHTML(tw); err != nil {
			b.Fatal(err)
		}
	}
}
