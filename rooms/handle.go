package rooms

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// handle answers one client message. Every refusal is an `error` message;
// the connection stays open.
func (c *client) handle(data []byte) {
	if !c.limiter.Allow() {
		c.sendError(CodeRateLimited, "too many messages: slow down", "")
		return
	}
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.sendError(CodeBadRequest, "a message must be a JSON object with a \"type\"", "")
		return
	}
	switch m.Type {
	case "join", "leave", "pause", "resume":
	case "":
		c.sendError(CodeBadRequest, "a message must be a JSON object with a \"type\"", "")
		return
	default:
		c.sendError(CodeBadRequest, fmt.Sprintf("unknown message type %q", clip(m.Type)), "")
		return
	}
	if m.Room == nil {
		c.sendError(CodeBadRoom, "a room is required", "")
		return
	}
	name, err := stream.NormalizeTrend(*m.Room)
	if err != nil {
		c.sendError(CodeBadRoom, err.Error(), clip(*m.Room))
		return
	}
	i := c.roomIndex(name)
	switch m.Type {
	case "join":
		c.join(name, &m)
		return
	case "resume":
		if m.Mode != "" && m.Mode != "replay" && m.Mode != "live" {
			c.sendError(CodeBadRequest, `mode must be "replay" or "live"`, name)
			return
		}
	}
	if i < 0 {
		c.sendError(CodeNotJoined, "not in this room", name)
		return
	}
	r := c.rooms[i]
	switch m.Type {
	case "leave":
		r.leave(c, time.Now())
		c.rooms = slices.Delete(c.rooms, i, i+1)
	case "pause":
		r.pause(c)
	case "resume":
		c.hub.resumeRoom(r, c, m.Mode == "live")
	}
}

func (c *client) join(name string, m *clientMessage) {
	if i := c.roomIndex(name); i >= 0 {
		if _, err := c.hub.joinRoom(c.rooms[i], c, m.Epoch, m.Since, m.Paused); err != nil {
			c.sendJoinError(name, err)
		}
		return
	}
	if len(c.rooms) >= c.hub.cfg.MaxRoomsPerConn {
		c.sendError(CodeTooManyRooms, fmt.Sprintf("a connection can be in at most %d rooms", c.hub.cfg.MaxRoomsPerConn), name)
		return
	}
	r, err := c.hub.join(c, name, m.Epoch, m.Since, m.Paused)
	if err != nil {
		c.sendJoinError(name, err)
		return
	}
	c.rooms = append(c.rooms, r)
}

// sendJoinError refuses a join. A full trend set is the client's to know;
// what failed inside (a broker, a network) is logged, and the client is
// told only that the room is unavailable for now.
func (c *client) sendJoinError(name string, err error) {
	switch {
	case errors.Is(err, stream.ErrTooManyTrends):
		c.sendError(CodeTooManyTrends, err.Error(), name)
	case errors.Is(err, stream.ErrBadTrend):
		c.sendError(CodeBadRoom, err.Error(), name)
	default:
		c.log().Warn("a join failed", "room", name, "err", err)
		c.sendError(CodeUnavailable, "this room is unavailable right now: join again in a moment", name)
	}
}

// roomIndex finds the room called name among the client's, or returns -1.
func (c *client) roomIndex(name string) int {
	return slices.IndexFunc(c.rooms, func(r *room) bool { return r.name == name })
}

func (c *client) sendError(code, message, room string) {
	c.send(entry{frame: encode(errorMessage{Type: "error", Code: code, Message: message, Room: room})})
}

// clip shortens a client's string for echoing it back.
func clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
