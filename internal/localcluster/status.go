package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/dualchain/dualchain/api"
)

// maxStatusBody bounds a /v1/status answer read into memory.
const maxStatusBody = 1 << 20

// Status is a node's answer to GET /v1/status.
type Status = api.Status

// NodeStatus is what Cluster.Status found out about one node.
type NodeStatus struct {
	ID      string `json:"id"`
	Edge    bool   `json:"edge"`
	URL     string `json:"url"`
	PID     int    `json:"pid"`
	Running bool   `json:"running"` // PID is the node's process
	// Redis is its redis-server, nil with the in-memory store.
	Redis *RedisStatus `json:"redis"`
	// Status is its answer, nil if it is not running or did not answer.
	Status *Status `json:"status"`
	// Err says why Status is nil: ErrNotRunning, or why the node did not
	// answer.
	Err error `json:"-"`
}

// RedisStatus is the state of one node's redis-server.
type RedisStatus struct {
	Port    int  `json:"port"`
	PID     int  `json:"pid"`
	Running bool `json:"running"`
}

// MarshalJSON encodes s with Err as a string, "error".
func (s NodeStatus) MarshalJSON() ([]byte, error) {
	type plain NodeStatus // without this method
	v := struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain: plain(s)}
	if s.Err != nil {
		v.Error = s.Err.Error()
	}
	return json.Marshal(v)
}

// Status asks every node for its status, concurrently, and reports
// whether its process and its redis-server run. A node that is not
// running is not asked.
func (c *Cluster) Status(ctx context.Context) []NodeStatus {
	nodes := c.Nodes()
	out := make([]NodeStatus, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { out[i] = c.nodeStatus(ctx, n) })
	}
	wg.Wait()
	return out
}

func (c *Cluster) nodeStatus(ctx context.Context, n Node) NodeStatus {
	s := NodeStatus{ID: n.ID, Edge: n.Edge, URL: n.URL, PID: n.PID, Running: nodeRunning(n)}
	if n.Redis != nil {
		s.Redis = &RedisStatus{Port: n.Redis.Port, PID: n.Redis.PID, Running: redisRunning(n)}
	}
	if !s.Running {
		s.Err = ErrNotRunning
		return s
	}
	st, err := c.fetchStatus(ctx, n.URL)
	if err != nil {
		s.Err = err
		return s
	}
	s.Status = &st
	return s
}

// Leader returns the id of the running node that says it leads, or an
// error saying why there is not exactly one. It does not wait: see
// WaitConverged.
func (c *Cluster) Leader(ctx context.Context) (string, error) {
	var leaders []string
	for _, s := range c.Status(ctx) {
		if s.Status != nil && s.Status.Leader {
			leaders = append(leaders, s.ID)
		}
	}
	switch len(leaders) {
	case 1:
		return leaders[0], nil
	case 0:
		return "", errors.New("localcluster: no running node says it leads")
	}
	return "", fmt.Errorf("localcluster: %s all say they lead", strings.Join(leaders, ", "))
}

// fetchStatus sends GET /v1/status to the node at url.
func (c *Cluster) fetchStatus(ctx context.Context, url string) (Status, error) {
	var st Status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/status", nil)
	if err != nil {
		return st, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	if err != nil {
		return st, fmt.Errorf("GET %s/v1/status: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET %s/v1/status: %s: %s", url, resp.Status, snippet(body))
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("GET %s/v1/status: decode: %w", url, err)
	}
	return st, nil
}

// snippet returns the start of an error body, for a message.
func snippet(body []byte) string {
	const most = 300
	s := strings.TrimSpace(string(body))
	if len(s) > most {
		s = s[:most] + "..."
	}
	return s
}
