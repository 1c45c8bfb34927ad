package localcluster

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	bin := testBinary(t)
	tests := []struct {
		name string
		o    Options
	}{
		{"no binary", Options{Dir: "d", Nodes: 1}},
		{"missing binary", Options{Binary: "/nonexistent/dualchain", Dir: "d", Nodes: 1}},
		{"no dir", Options{Binary: bin, Nodes: 1}},
		{"no nodes", Options{Binary: bin, Dir: "d"}},
		{"negative edges", Options{Binary: bin, Dir: "d", Nodes: 1, Edges: -1}},
	}
	for _, tt := range tests {
		if _, err := tt.o.validate(); !errors.Is(err, ErrBadOptions) {
			t.Errorf("%s: validate(%+v) = %v, want ErrBadOptions", tt.name, tt.o, err)
		}
	}
	o, err := Options{Binary: bin, Dir: "rel", Nodes: 1}.validate()
	if err != nil || !strings.HasPrefix(o.Dir, "/") || o.Log == nil {
		t.Errorf("validate() = %+v, %v; want an absolute dir and a log", o, err)
	}
}

func TestPickStore(t *testing.T) {
	t.Run("without redis-server", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		tests := []struct {
			in, want, why string
			err           error
		}{
			{"", StoreMemory, "redis-server not installed: using the embedded in-memory store", nil},
			{"memory", StoreMemory, "", nil},
			{"pebble", StorePebble, "", nil},
			{"redis", "", "", ErrNoRedisServer},
			{"disk", "", "", ErrBadOptions},
		}
		for _, tt := range tests {
			got, path, why, err := PickStore(tt.in)
			if got != tt.want || path != "" || !errors.Is(err, tt.err) || (tt.why != "" && why != tt.why) {
				t.Errorf("PickStore(%q) = %q, %q, %q, %v; want %q, %q, %v", tt.in, got, path, why, err, tt.want, tt.why, tt.err)
			}
		}
	})
	t.Run("with redis-server", func(t *testing.T) {
		needRedis(t)
		bin, _ := exec.LookPath(RedisServer)
		for _, in := range []string{"", "redis"} {
			got, path, why, err := PickStore(in)
			if got != StoreRedis || path != bin || why != "redis-server found at "+bin || err != nil {
				t.Errorf("PickStore(%q) = %q, %q, %q, %v; want redis at %s", in, got, path, why, err, bin)
			}
		}
	})
}
