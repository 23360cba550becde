package views

import "testing"

// BenchmarkCardHTML measures the render the server does once per tweet,
// with nothing to mark.
func BenchmarkCardHTML(b *testing.B) {
	tw := sampleTweet()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CardHTML(tw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCardHTMLMatched measures the same render with the words of the
// tweet's matched trends marked, as every published tweet has.
func BenchmarkCardHTMLMatched(b *testing.B) {
	tw := sampleTweet()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CardHTML(tw, sampleMatched); err != nil {
			b.Fatal(err)
		}
	}
}
