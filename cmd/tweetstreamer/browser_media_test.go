package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// emulateMedia makes the tab report these media features (name to value,
// such as prefers-color-scheme to dark), as a reader's system settings do.
func emulateMedia(p *browserPage, features map[string]string) {
	p.t.Helper()
	params := emulation.SetEmulatedMediaParams{}
	for name, value := range features {
		params.Features = append(params.Features, &emulation.MediaFeature{Name: name, Value: value})
	}
	p.do(fmt.Sprintf("emulating %v", features), chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, emulation.SetEmulatedMedia, params)
		return err
	}))
}

// backgroundColour is the page's computed background, as "rgb(r, g, b)".
const backgroundColour = `getComputedStyle(document.body).backgroundColor`

// channelSum adds up the channels of a computed "rgb(r, g, b)" colour: a
// darker colour has a smaller sum.
func channelSum(t *testing.T, colour string) int {
	t.Helper()
	var r, g, b int
	if _, err := fmt.Sscanf(colour, "rgb(%d, %d, %d)", &r, &g, &b); err != nil {
		t.Fatalf("background colour %q is not rgb(r, g, b): %v", colour, err)
	}
	return r + g + b
}

// flashState is the computed animation of a column that the script has
// just revealed (class flash).
type flashState struct {
	Name     string `json:"name"`
	Duration string `json:"duration"`
}

// waitRevealed waits until room's column carries class flash, and returns
// its computed animation at that moment.
func waitRevealed(p *browserPage, room string) flashState {
	p.t.Helper()
	return waitFor[flashState](p, "the "+room+" column revealed (class flash)", fmt.Sprintf(`(() => {
		const col = %s;
		if (!col || !col.classList.contains("flash")) return false;
		const cs = getComputedStyle(col);
		return { name: cs.animationName, duration: cs.animationDuration };
	})()`, columnSelectorJS(room)))
}

func TestBrowserDarkSchemeAndReducedMotionAreHonoured(t *testing.T) {
	s := start(t, nil, "-mock-rate", browserMockRate)
	p := newPage(t, s)
	emulateMedia(p, map[string]string{"prefers-color-scheme": "light", "prefers-reduced-motion": "no-preference"})
	p.navigate("/?open=golang")
	waitColumn(p, "golang")
	light := evaluate[string](p, backgroundColour)

	// With motion allowed, opening a second column flashes it: the check
	// below can tell an animation from none.
	p.click(`[data-testid="trends"] a.trend[data-room="rust"]`)
	if f := waitRevealed(p, "rust"); f.Name != "flash" || f.Duration == "0s" {
		t.Errorf("with motion allowed, a revealed column has animation %q for %s, want flash", f.Name, f.Duration)
	}

	emulateMedia(p, map[string]string{"prefers-color-scheme": "dark", "prefers-reduced-motion": "reduce"})
	if !evaluate[bool](p, `matchMedia("(prefers-color-scheme: dark)").matches && matchMedia("(prefers-reduced-motion: reduce)").matches`) {
		t.Fatal("the page does not see the emulated dark scheme and reduced motion")
	}
	dark := evaluate[string](p, backgroundColour)
	if dark == light {
		t.Errorf("the background is %s in both the light and the dark scheme", dark)
	} else if channelSum(t, dark) >= channelSum(t, light) {
		t.Errorf("the dark scheme's background %s is not darker than the light one's %s", dark, light)
	}
	t.Logf("background: light %s, dark %s", light, dark)

	p.click(`[data-testid="trends"] a.trend[data-room="ai"]`)
	if f := waitRevealed(p, "ai"); f.Name != "none" && f.Duration != "0s" {
		t.Errorf("with reduced motion, a revealed column has animation %q for %s, want none", f.Name, f.Duration)
	}
	waitLiveCards(p, "ai", 2)
	arrival := evaluate[flashState](p, fmt.Sprintf(`(() => {
		const cs = getComputedStyle(%s.querySelector('[data-testid="tweets"] > [data-testid="card"]'));
		return { name: cs.animationName, duration: cs.animationDuration };
	})()`, columnSelectorJS("ai")))
	if arrival.Name != "none" && arrival.Duration != "0s" {
		t.Errorf("with reduced motion, the newest card has animation %q for %s, want none", arrival.Name, arrival.Duration)
	}
}
