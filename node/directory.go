package node

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// directory maps member ids to their API URLs. It is replicated state:
// member entries in the log set it, snapshots carry it.
type directory struct {
	mu sync.RWMutex
	m  map[string]memberInfo
}

func newDirectory() *directory { return &directory{m: make(map[string]memberInfo)} }

func (d *directory) set(m memberInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[m.ID] = m
}

func (d *directory) get(id string) (memberInfo, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	m, ok := d.m[id]
	return m, ok
}

// list returns the members sorted by id.
func (d *directory) list() []memberInfo {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := slices.Collect(maps.Values(d.m))
	slices.SortFunc(out, func(a, b memberInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (d *directory) replace(ms []memberInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m = make(map[string]memberInfo, len(ms))
	for _, m := range ms {
		d.m[m.ID] = m
	}
}
