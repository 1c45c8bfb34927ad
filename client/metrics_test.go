package client_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dualchain/dualchain/client"
)

func TestMetric(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("# HELP dualchain_store_rebuilds_total Rebuilds.\n" +
			"dualchain_store_rebuilds_total_other 9\n" +
			"dualchain_store_rebuilds_total 3\n" +
			"dualchain_height{chain=\"hot\"} 7\n"))
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	if v, err := c.Metric(t.Context(), "dualchain_store_rebuilds_total"); err != nil || v != 3 {
		t.Errorf("Metric(rebuilds) = %v, %v; want 3", v, err)
	}
	if _, err := c.Metric(t.Context(), "dualchain_missing_total"); err == nil {
		t.Error("Metric(missing) = nil error, want one")
	}
	if _, err := client.New(srv.URL+"/nowhere").Metric(t.Context(), "x"); err == nil {
		t.Error("Metric from a 404 = nil error, want one")
	}
}
