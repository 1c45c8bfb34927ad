package redistest

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestStartKillRestart(t *testing.T) {
	ctx := context.Background()
	s := Start(t)
	c := redis.NewClient(s.Options())
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET k on %s: %v", s.URL(), err)
	}
	pid := s.PID()
	if pid == 0 || syscall.Kill(pid, 0) != nil {
		t.Fatalf("PID() = %d, want a running process", pid)
	}
	s.Kill()
	if got := s.PID(); got != 0 {
		t.Errorf("PID() after Kill = %d, want 0", got)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d still exists after Kill", pid)
	}
	if err := ping(s.Addr()); err == nil {
		t.Errorf("ping(%s) after Kill = nil error, want one", s.Addr())
	}
	s.Restart()
	if s.PID() == 0 || s.PID() == pid {
		t.Errorf("PID() after Restart = %d, want a new process (old %d)", s.PID(), pid)
	}
	n, err := c.Exists(ctx, "k").Result()
	if err != nil || n != 0 {
		t.Errorf("EXISTS k after Restart = %d, %v, want 0 (empty server)", n, err)
	}
}

func TestURLMatchesOptions(t *testing.T) {
	s := Start(t)
	opts, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", s.URL(), err)
	}
	if opts.Addr != s.Options().Addr || opts.DB != 0 {
		t.Errorf("ParseURL(URL()) = %s db %d, want %s db 0", opts.Addr, opts.DB, s.Options().Addr)
	}
}

func TestCleanupStopsServer(t *testing.T) {
	var pid int
	t.Run("owner", func(t *testing.T) { pid = Start(t).PID() })
	if pid == 0 {
		t.Fatal("Start(t).PID() = 0, want a process")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d still exists after its test ended", pid)
	}
}

func TestSharedGivesEachTestItsOwnDB(t *testing.T) {
	ctx := context.Background()
	s := Start(t) // 16 databases: Shared hands out 1 to 15
	t.Setenv(EnvURL, s.URL())
	var dbs []int
	for range 3 {
		t.Run("db", func(t *testing.T) {
			opts := Shared(t)
			dbs = append(dbs, opts.DB)
			tc := redis.NewClient(opts)
			defer tc.Close()
			if n, err := tc.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Errorf("DBSIZE of a new shared db %d = %d, %v, want 0", opts.DB, n, err)
			}
			if err := tc.Set(ctx, "left", "over", 0).Err(); err != nil {
				t.Fatalf("SET in db %d: %v", opts.DB, err)
			}
		})
	}
	if dbs[0] == dbs[1] || dbs[1] == dbs[2] || dbs[0] == 0 {
		t.Errorf("Shared dbs = %v, want distinct non-zero databases", dbs)
	}
	for _, db := range dbs {
		o := s.Options()
		o.DB = db
		dc := redis.NewClient(o)
		if n, err := dc.DBSize(ctx).Result(); err != nil || n != 0 {
			t.Errorf("DBSIZE of db %d after its test = %d, %v, want 0 (flushed)", db, n, err)
		}
		dc.Close()
	}
}

// recordingTB records Fatal and Skip instead of ending the test.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper()                      {}
func (r *recordingTB) Fatal(args ...any)            { r.fatal = fmt.Sprint(args...) }
func (r *recordingTB) Skip(args ...any)             { r.skip = fmt.Sprint(args...) }
func (r *recordingTB) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }

func TestMissingServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no redis-server here
	tests := []struct {
		ci        string
		wantFatal bool
	}{
		{"true", true},
		{"", false},
		{"false", false},
	}
	for _, tt := range tests {
		t.Setenv("CI", tt.ci)
		r := &recordingTB{TB: t}
		if bin := lookPath(r); bin != "" {
			t.Fatalf("lookPath() = %q with an empty PATH, want none", bin)
		}
		gotFatal, gotSkip := r.fatal != "", r.skip != ""
		if gotFatal != tt.wantFatal || gotSkip == tt.wantFatal || !strings.Contains(r.fatal+r.skip, "redis-server") {
			t.Errorf("lookPath() with CI=%q: fatal %q, skip %q; want fatal %v, else skip, naming redis-server", tt.ci, r.fatal, r.skip, tt.wantFatal)
		}
	}
}
