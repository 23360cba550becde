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
		c.sendError(CodeRateLimited, "too many messages: slow down")
		return
	}
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.refuseMalformed(data, err)
		return
	}
	switch m.Type {
	case "join", "leave", "pause", "resume":
	case "":
		c.sendError(CodeBadRequest, "a message must be a JSON object with a \"type\"")
		return
	default:
		c.sendError(CodeBadRequest, fmt.Sprintf("unknown message type %q", clip(m.Type)))
		return
	}
	if m.Room == nil {
		c.sendError(CodeBadRoom, "a room is required")
		return
	}
	name, err := stream.NormalizeTrend(*m.Room)
	if err != nil {
		c.refuse(clip(*m.Room), err)
		return
	}
	i := c.roomIndex(name)
	switch m.Type {
	case "join":
		c.join(name, &m)
		return
	case "resume":
		if m.Mode != "" && m.Mode != "replay" && m.Mode != "live" {
			c.sendRoomError(CodeBadRequest, `mode must be "replay" or "live"`, name)
			return
		}
	}
	if i < 0 {
		c.sendRoomError(CodeNotJoined, "not in this room", name)
		return
	}
	r := c.rooms[i]
	switch m.Type {
	case "leave":
		now := time.Now()
		r.leave(c, now)
		c.rooms = slices.Delete(c.rooms, i, i+1)
		if len(c.rooms) == 0 {
			c.roomlessSince.Store(now.UnixNano())
		}
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
		c.sendRoomError(CodeTooManyRooms, fmt.Sprintf("a connection can be in at most %d rooms", c.hub.cfg.MaxRoomsPerConn), name)
		return
	}
	r, err := c.hub.join(c, name, m.Epoch, m.Since, m.Paused)
	if err != nil {
		c.sendJoinError(name, err)
		return
	}
	c.rooms = append(c.rooms, r)
	c.roomlessSince.Store(0)
}

// sendJoinError refuses a join. A full trend set is the client's to know;
// what failed inside (a broker, a network) is logged, and the client is
// told only that the room is unavailable for now.
func (c *client) sendJoinError(name string, err error) {
	if _, ok := Refusal(err); !ok {
		c.log().Warn("a join failed", "room", name, "err", err)
		err = errUnavailable
	}
	c.refuse(name, err)
}

// refuse sends what the client may know of err (see Refusal) about room.
func (c *client) refuse(room string, err error) {
	e, ok := Refusal(err)
	if !ok {
		c.log().Error("a message failed", "room", room, "err", err)
		e = &Error{Code: CodeInternal, Message: "internal error"}
	}
	c.sendRoomError(e.Code, e.Message, room)
}

// roomIndex finds the room called name among the client's, or returns -1.
func (c *client) roomIndex(name string) int {
	return slices.IndexFunc(c.rooms, func(r *room) bool { return r.name == name })
}

// sendError refuses a message that names no room.
func (c *client) sendError(code, message string) {
	c.hub.counters.countError(code)
	c.send(entry{frame: encode(errorMessage{Type: "error", Code: code, Message: message})})
}

// sendRoomError refuses a message about room, which the refusal carries
// as the client sent it (clipped), even when that is empty.
func (c *client) sendRoomError(code, message, room string) {
	c.hub.counters.countError(code)
	c.send(entry{frame: encode(errorMessage{Type: "error", Code: code, Message: message, Room: &room})})
}

// fieldKinds says, for each field of a client message, what it must be.
var fieldKinds = map[string]string{
	"type":   "a string",
	"room":   "a string",
	"epoch":  "a string",
	"since":  "a whole number, 0 or more",
	"mode":   `"replay" or "live"`,
	"paused": "true or false",
}

// refuseMalformed answers a message that does not decode: it names the
// field that is wrong when it can, and carries the room when the message
// has one that reads as a string.
func (c *client) refuseMalformed(data []byte, err error) {
	msg := "a message must be a JSON object with a \"type\""
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if kind, ok := fieldKinds[typeErr.Field]; ok {
			msg = fmt.Sprintf("%q must be %s", typeErr.Field, kind)
		}
	}
	var loose struct {
		Room any `json:"room"`
	}
	if json.Unmarshal(data, &loose) == nil {
		if room, ok := loose.Room.(string); ok {
			c.sendRoomError(CodeBadRequest, msg, clip(room))
			return
		}
	}
	c.sendError(CodeBadRequest, msg)
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
