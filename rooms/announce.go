package rooms

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// announcement is the latest message of one kind that every connection gets.
type announcement struct {
	kind  string
	frame *sharedFrame
}

// Announce sends every connection a server-wide message: v, which must
// encode as a JSON object, with "type" set to kind in front of its fields.
// New connections get the latest announcement of each kind right after the
// trend list, so they start from the current state (the source's status,
// the trending tags). An announcement equal to the last of its kind is not
// sent again.
func (h *Hub) Announce(kind string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("rooms: announcing %q: %w", kind, err)
	}
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("rooms: announcing %q: %T does not encode as a JSON object", kind, v)
	}
	frame := fmt.Appendf(nil, `{"type":%q`, kind)
	if len(body) > 2 {
		frame = append(frame, ',')
	}
	frame = append(frame, body[1:]...)
	h.AnnounceFrame(kind, frame)
	return nil
}

// AnnounceFrame is Announce for a message encoded already, as another node
// announced it: frame must be a JSON object whose "type" is kind.
func (h *Hub) AnnounceFrame(kind string, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := 0
	for i < len(h.announced) && h.announced[i].kind != kind {
		i++
	}
	if i == len(h.announced) {
		h.announced = append(h.announced, announcement{kind: kind})
	} else if bytes.Equal(h.announced[i].frame.plain, frame) {
		return
	}
	shared := newSharedFrame(frame)
	h.announced[i].frame = shared
	for c := range h.clients {
		c.send(shared.entryFor(c, nil))
	}
}

// sendAnnouncements queues the latest announcements for a new connection.
// It is called with h.mu held.
func (h *Hub) sendAnnouncementsLocked(c *client) {
	for _, a := range h.announced {
		c.send(a.frame.entryFor(c, nil))
	}
}
