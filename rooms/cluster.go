package rooms

import (
	"slices"
	"time"
)

// What a hub needs to be one node of a cluster, where one node sequences
// the rooms (it publishes, and its broker keeps their history) and the
// others follow it: they serve members and learn the trend list from it.
// The cluster's wiring calls these; a single process needs none of them.

// followGrace is how long a following node keeps a room the sequencing
// node does not list (yet): a custom trend a member just added here takes
// a moment to appear in the list.
const followGrace = 10 * time.Second

// readdEvery paces asking the sequencing node again for a trend that its
// list lacks while members here are in its room: it may refuse (its set is
// full), and asking at every heartbeat would not change that.
const readdEvery = 30 * time.Second

// Follow makes the hub follow a sequencing node's trend list: rooms are
// created for the trends it lists, its per-minute rates are shown, and a
// room it no longer lists is dropped once this node has had no member in it
// for a while, and no longer subscribes it. A following hub never drops a trend itself. Custom rooms
// with members here that the list lacks (the sequencing node restarted) are
// added to the trend set again.
func (h *Hub) Follow(list []Summary) {
	now := time.Now()
	listed := make(map[string]int, len(list))
	for i, s := range list {
		listed[s.Room] = i
	}
	h.mu.Lock()
	h.following.Store(true)
	for _, s := range list {
		if h.room(s.Room) == nil {
			h.addRoomLocked(s.Room, s.Custom, now)
		}
	}
	var dropped, lost []string
	h.order = slices.DeleteFunc(h.order, func(r *room) bool {
		if _, ok := listed[r.name]; ok {
			return false
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.members) > 0 {
			if now.Sub(r.readdedAt) >= readdEvery {
				r.readdedAt = now
				lost = append(lost, r.name)
			}
			return false
		}
		if now.Sub(r.emptyAt) < followGrace || !r.unsubscribed() {
			return false
		}
		r.deleted = true
		dropped = append(dropped, r.name)
		return true
	})
	slices.SortStableFunc(h.order, func(a, b *room) int {
		i, ok := listed[a.name]
		if !ok {
			i = len(list)
		}
		j, ok := listed[b.name]
		if !ok {
			j = len(list)
		}
		return i - j
	})
	if len(dropped) > 0 {
		// Unsubscribed already, they hold nothing of the broker's.
		h.removeRoomsLocked(dropped)
	}
	rooms := *h.rooms.Load()
	h.mu.Unlock()
	for _, s := range list {
		if r := rooms[s.Room]; r != nil {
			r.mu.Lock()
			r.followedRate, r.custom = s.PerMinute, s.Custom
			r.mu.Unlock()
		}
	}
	for _, name := range lost {
		if _, err := h.cfg.Trends.Add(name); err != nil {
			h.log.Warn("adding a followed room's trend again", "trend", name, "err", err)
		}
	}
}

// SetRemoteMembers sets how many members each room has on the cluster's
// other nodes; a room not in counts has none there. Member counts in
// `joined`, `stats` and the trend list are this node's members plus these.
func (h *Hub) SetRemoteMembers(counts map[string]int) {
	for name, r := range *h.rooms.Load() {
		r.mu.Lock()
		r.remote = counts[name]
		r.mu.Unlock()
	}
}

// LocalMembers returns how many members each room has on this node, for
// the rooms that have any.
func (h *Hub) LocalMembers() map[string]int {
	out := make(map[string]int)
	for name, r := range *h.rooms.Load() {
		r.mu.Lock()
		if n := len(r.members); n > 0 {
			out[name] = n
		}
		r.mu.Unlock()
	}
	return out
}

// Want keeps the room for name (normalised), creating it and adding name
// as a custom trend when there is none, as a page that shows it would: a
// following node's member asked for it. It fails as a join does when the
// trend set is full (the error wraps stream.ErrTooManyTrends).
//
// On a following hub, a custom room's page counts as watching it on the
// sequencing node too, which alone drops idle trends: it is told again.
func (h *Hub) Want(name, addr string) error {
	for {
		r, err := h.roomFor(name, addr)
		if err != nil {
			return err
		}
		if !r.watch(time.Now()) {
			continue
		}
		if h.following.Load() && r.summary().Custom {
			if _, err := h.cfg.Trends.Add(name); err != nil {
				return err
			}
		}
		return nil
	}
}

// Announcement is the latest server-wide message of one kind (see
// Announce), encoded.
type Announcement struct {
	Kind  string
	Frame []byte
}

// Announcements returns the latest announcement of each kind, for another
// node to pass on.
func (h *Hub) Announcements() []Announcement {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]Announcement, len(h.announced))
	for i, a := range h.announced {
		out[i] = Announcement{Kind: a.kind, Frame: a.frame.plain}
	}
	return out
}
