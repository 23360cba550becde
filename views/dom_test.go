package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"golang.org/x/net/html"
)

// renderHTML renders c into a string, failing the test on error.
func renderHTML(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	return b.String()
}

// renderDoc renders c and parses it as a browser would.
func renderDoc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(renderHTML(t, c)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// finder is a goquery document or selection.
type finder interface {
	Find(selector string) *goquery.Selection
}

// byTestID selects the elements with data-testid=id under s.
func byTestID(s finder, id string) *goquery.Selection {
	return s.Find(`[data-testid="` + id + `"]`)
}

// eachElement calls f for every element of doc, in document order.
func eachElement(doc *goquery.Document, f func(n *html.Node)) {
	for _, n := range doc.Nodes {
		for d := range n.Descendants() {
			if d.Type == html.ElementNode {
				f(d)
			}
		}
	}
}

func wantText(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func wantCount(t *testing.T, s *goquery.Selection, want int) {
	t.Helper()
	if s.Length() != want {
		t.Errorf("got %d elements, want %d", s.Length(), want)
	}
}
