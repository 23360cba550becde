package views

import (
	"net/url"
	"slices"
	"strings"

	"github.com/a-h/templ"
)

// Links builds the page's own URLs, which keep what the reader has open:
// without the script, every trend link, "trending now" tag, follow box,
// close link and the projector toggle is a plain request for the page
// with one change, so a reader can follow several columns with no script
// at all. The script keeps them current as columns come and go (syncURL in
// assets/app.js builds the same URLs).
type Links struct {
	// Open lists the rooms of the open columns, in order.
	Open []string
	// Big is projector mode.
	Big bool
}

// NewLinks returns the links of a page whose columns are open.
func NewLinks(columns []ColumnModel, big bool) Links {
	l := Links{Big: big}
	for _, c := range columns {
		l.Open = append(l.Open, c.Room)
	}
	return l
}

// With is the page with room's column open too.
func (l Links) With(room string) templ.SafeURL {
	if slices.Contains(l.Open, room) {
		return l.url(l.Open, l.Big)
	}
	return l.url(append(slices.Clone(l.Open), room), l.Big)
}

// Without is the page without room's column.
func (l Links) Without(room string) templ.SafeURL {
	return l.url(slices.DeleteFunc(slices.Clone(l.Open), func(r string) bool { return r == room }), l.Big)
}

// Toggled is the page with projector mode switched.
func (l Links) Toggled() templ.SafeURL { return l.url(l.Open, !l.Big) }

// url is the page with these columns, in projector mode when big. Every
// name is query-escaped, so the URL always stays on this site.
func (l Links) url(open []string, big bool) templ.SafeURL {
	q := make([]string, 0, 2)
	if len(open) > 0 {
		q = append(q, "open="+joinRooms(open))
	}
	if big {
		q = append(q, "big=1")
	}
	if len(q) == 0 {
		return "/"
	}
	return templ.SafeURL("/?" + strings.Join(q, "&"))
}

// joinRooms joins room names for ?open, which the server splits on a
// literal "," before it unescapes each name, so a name may hold a comma.
func joinRooms(rooms []string) string {
	escaped := make([]string, len(rooms))
	for i, r := range rooms {
		escaped[i] = url.QueryEscape(r)
	}
	return strings.Join(escaped, ",")
}

// bigValue is the value of ?big for projector mode on or off.
func bigValue(on bool) string {
	if on {
		return "1"
	}
	return "0"
}

// sourceState is the state the header shows for the source; "" for a
// source that reports none.
func sourceState(b *SourceBanner) string {
	if b == nil {
		return ""
	}
	return string(b.State)
}
