package robustness

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// endpoints holds a client of every node's API, local and strong.
type endpoints struct {
	ids    []string
	local  map[string]*client.Client
	strong map[string]*client.Client // ?consistency=strong on every read
}

func newEndpoints(nodes []localcluster.Node) *endpoints {
	e := &endpoints{local: map[string]*client.Client{}, strong: map[string]*client.Client{}}
	for _, n := range nodes {
		e.ids = append(e.ids, n.ID)
		e.local[n.ID] = client.New(n.URL, client.WithMaxConns(8))
		e.strong[n.ID] = client.New(n.URL, client.WithHTTPClient(&http.Client{Transport: strongTransport{base: newTransport()}}))
	}
	return e
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
	return e.ids[(home+attempt)%len(e.ids)]
}

// leader finds the node that says it leads (of those that do, the one of
// the highest term: a paused old leader may still think it does), asking
// each for at most timeout.
func (e *endpoints) leader(ctx context.Context, timeout time.Duration) (string, error) {
	sts := e.statuses(ctx, timeout)
	best, term := "", uint64(0)
	for i, st := range sts {
		if st != nil && st.Leader && (best == "" || st.Term > term) {
			best, term = e.ids[i], st.Term
		}
	}
	if best == "" {
		return "", errors.New("robustness: no node says it leads")
	}
	return best, nil
}

// statuses asks every node for its status concurrently, each bounded by
// timeout; a node that does not answer is nil.
func (e *endpoints) statuses(ctx context.Context, timeout time.Duration) []*api.Status {
	out := make([]*api.Status, len(e.ids))
	var wg sync.WaitGroup
	for i, id := range e.ids {
		wg.Go(func() {
			actx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if st, err := e.local[id].Status(actx); err == nil {
				out[i] = &st
			}
		})
	}
	wg.Wait()
	return out
}
