package views

import (
	"context"
	"strings"

	"github.com/a-h/templ"
)

// HTML renders c to a string: the html field of a live message, rendered
// once by the server and sent to every connection.
func HTML(c templ.Component) (string, error) {
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		return "", err
	}
	return b.String(), nil
}
