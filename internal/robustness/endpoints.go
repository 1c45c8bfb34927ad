package robustness

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// endpoints holds a client of every node's API, local and strong, and
// the members: the nodes the run talks to now. A membership change (see
// faults_member.go) adds a node once it caught up and drops one it
// removed; the clients of a dropped node are kept, so that an op that
// picked it before it was dropped fails as an op on a stopped node does.
type endpoints struct {
	mu      sync.RWMutex
	ids     []string                  // the members; replaced, never changed in place
	locals  map[string]*client.Client // of every node ever a member
	strongs map[string]*client.Client // ?consistency=strong on every read
}

func newEndpoints(nodes []localcluster.Node) *endpoints {
	e := &endpoints{locals: map[string]*client.Client{}, strongs: map[string]*client.Client{}}
	for _, n := range nodes {
		e.add(n)
	}
	return e
}

// add makes node n a member.
func (e *endpoints) add(n localcluster.Node) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.locals[n.ID]; !ok {
		e.locals[n.ID] = client.New(n.URL, client.WithMaxConns(8))
		e.strongs[n.ID] = client.New(n.URL, client.WithHTTPClient(&http.Client{Transport: strongTransport{base: newTransport()}}))
	}
	if !slices.Contains(e.ids, n.ID) {
		e.ids = append(slices.Clip(e.ids), n.ID)
	}
}

// remove drops node id from the members.
func (e *endpoints) remove(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ids = slices.DeleteFunc(slices.Clone(e.ids), func(m string) bool { return m == id })
}

// members returns the ids of the members, in the order they were added.
// The slice is the caller's to keep, not to change.
func (e *endpoints) members() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.ids
}

// pick returns a member at random.
func (e *endpoints) pick(rng *rand.Rand) string {
	ids := e.members()
	return ids[rng.IntN(len(ids))]
}

// local returns the client of node id, which is or was a member.
func (e *endpoints) local(id string) *client.Client {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.locals[id]
}

// strong returns the client of node id whose reads are strong.
func (e *endpoints) strong(id string) *client.Client {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.strongs[id]
}

// newTransport is a keep-alive transport that gives up on a node that
// does not answer, so that a paused node looks like a dead one.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	t.ResponseHeaderTimeout = 0 // the request's context bounds it
	return t
}

// strongTransport adds consistency=strong to every GET: the node serves
// the read as the leader sees it after confirming it still leads.
type strongTransport struct{ base http.RoundTripper }

func (s strongTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		return s.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set("consistency", "strong")
	r.URL.RawQuery = q.Encode()
	return s.base.RoundTrip(r)
}

// node returns the id of the node a client with home h uses on its
// attempt a: its home first, then the others in turn.
func (e *endpoints) node(home, attempt int) string {
	ids := e.members()
	return ids[(home+attempt)%len(ids)]
}

// leader finds the node that says it leads (of those that do, the one of
// the highest term: a paused old leader may still think it does), asking
// each for at most timeout.
func (e *endpoints) leader(ctx context.Context, timeout time.Duration) (string, error) {
	ids := e.members()
	best := leaderOf(ids, e.statusesOf(ctx, ids, timeout))
	if best == "" {
		return "", errors.New("robustness: no node says it leads")
	}
	return best, nil
}

// statusesOf asks nodes ids for their status concurrently, each bounded
// by timeout; a node that does not answer is nil.
func (e *endpoints) statusesOf(ctx context.Context, ids []string, timeout time.Duration) []*api.Status {
	out := make([]*api.Status, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			actx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if st, err := e.local(id).Status(actx); err == nil {
				out[i] = &st
			}
		})
	}
	wg.Wait()
	return out
}
