package views

// maxCards is how many cards a column shows. The script keeps the same
// number in the DOM as live tweets arrive (MAX_CARDS in assets/app.js).
const maxCards = 50

// newestFirst returns the newest maxCards of a backlog stored oldest first,
// newest first, as a column shows them.
func newestFirst(backlog []CardItem) []CardItem {
	n := min(len(backlog), maxCards)
	out := make([]CardItem, n)
	for i := range out {
		out[i] = backlog[len(backlog)-1-i]
	}
	return out
}
