package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// followInput is the follow box's text field.
const followInput = `form[data-testid="follow-form"] input[name="open"]`

// follow types name into the follow box and presses Enter.
func follow(p *browserPage, name string) {
	p.t.Helper()
	p.do("following "+name,
		chromedp.Focus(chromedp.CSS(followInput), chromedp.NodeVisible),
		chromedp.KeyEvent(name),
		chromedp.KeyEvent(kb.Enter),
	)
}

func TestBrowserFollowBox(t *testing.T) {
	// The mock writes about every trend in the set, custom ones included,
	// so a trend followed from the box gets tweets of its own.
	s := start(t, nil, "-mock-rate", browserMockRate)

	t.Run("a custom trend opens a column that receives its tweets", func(t *testing.T) {
		p := newPage(t, s)
		p.navigate("/")
		follow(p, "Kubernetes")
		waitColumn(p, "kubernetes")
		waitLiveCards(p, "kubernetes", 3)
		for _, c := range columnCards(p, "kubernetes") {
			if !wordIn("kubernetes", c.Text) {
				t.Errorf("a card in the kubernetes column does not mention it: %q", c.Text)
			}
		}
		waitFor[bool](p, "kubernetes listed as a custom trend",
			`!!document.querySelector('[data-testid="trend"][data-room="kubernetes"][data-custom="true"]')`)
		if v := evaluate[string](p, `document.querySelector(`+jsString(followInput)+`).value`); v != "" {
			t.Errorf("the follow box still holds %q after the column opened", v)
		}
	})

	t.Run("a trend with no word shows the server's refusal beside the box", func(t *testing.T) {
		resp, refusal := s.get(t, "/column?room="+"%21%21%21")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("GET /column?room=!!! answered %s, want 400", resp.Status)
		}
		refusal = strings.TrimSpace(refusal)

		p := newPage(t, s)
		p.navigate("/")
		follow(p, "!!!")
		text := waitFor[string](p, "the refusal in [data-testid=follow-error]", `(() => {
			const el = document.querySelector('[data-testid="follow-error"]');
			return el && !el.hidden && el.getClientRects().length > 0 && el.textContent.trim();
		})()`)
		if !strings.Contains(text, refusal) {
			t.Errorf("follow-error says %q, want the server's refusal %q", text, refusal)
		}
		placed := evaluate[string](p, `(() => {
			const el = document.querySelector('[data-testid="follow-error"]');
			const form = document.querySelector('[data-testid="follow-form"]');
			if (el.getAttribute("role") !== "alert") return "its role is " + el.getAttribute("role") + ", not alert";
			if (!form.contains(el) && el.parentElement !== form.parentElement) return "it is not beside the follow box";
			return "";
		})()`)
		if placed != "" {
			t.Errorf("follow-error: %s", placed)
		}
		if n := evaluate[int](p, `document.querySelectorAll('[data-testid="column"]').length`); n != 0 {
			t.Errorf("%d columns opened for a refused trend, want none", n)
		}
		if loc := evaluate[string](p, `location.pathname + location.search`); loc != "/" {
			t.Errorf("the address became %s, want / still", loc)
		}
	})
}
