package robustness

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// TestFailpointsProbe: a node without /debug/failpoints (404) gets the
// failpoint faults left out of the run; one with it keeps them.
func TestFailpointsProbe(t *testing.T) {
	with := httptest.NewServer(failpoint.Handler(failpoint.New()))
	defer with.Close()
	without := httptest.NewServer(http.NotFoundHandler())
	defer without.Close()
	fps := []string{"crash-point", "disk-slow", "disk-error", "clock-skew"}
	for _, tt := range []struct {
		url     string
		dropped []string
	}{{with.URL, nil}, {without.URL, fps}} {
		all, err := fpList(t.Context(), localcluster.Node{ID: "n1", URL: tt.url})
		if (tt.dropped == nil) != (err == nil) || err != nil && !errors.Is(err, errNoFailpoints) {
			t.Errorf("fpList(%s) = %d points, %v; want an error wrapping %v: %v", tt.url, len(all), err, errNoFailpoints, tt.dropped != nil)
		}
		kept, dropped := withoutFailpoints(Faults(), err)
		if !slices.Equal(dropped, tt.dropped) || len(kept)+len(dropped) != len(Faults()) {
			t.Errorf("withoutFailpoints(probe %v) dropped %v (kept %d of %d), want %v", err, dropped, len(kept), len(Faults()), tt.dropped)
		}
	}
}
