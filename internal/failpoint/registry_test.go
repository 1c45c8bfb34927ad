package failpoint

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testRegistry is a registry whose crash action records the point
// instead of exiting.
func testRegistry(crashed *[]string) *Registry {
	r := New()
	r.exit = func(name string) { *crashed = append(*crashed, name) }
	r.log = io.Discard
	return r
}

func TestRegistryActions(t *testing.T) {
	var crashed []string
	r := testRegistry(&crashed)
	if err := r.Eval(HotApplied); err != nil {
		t.Fatalf("Eval(%s) unarmed = %v, want nil", HotApplied, err)
	}
	if err := r.ArmList("hot-applied=2*crash;raft-log-store=error;pebble-sync=sleep(1ms);clock-skew=skew(-3s)"); err != nil {
		t.Fatalf("ArmList = %v", err)
	}
	for range 3 {
		if err := r.Eval(HotApplied); err != nil {
			t.Errorf("Eval(%s) = %v, want nil (it crashes)", HotApplied, err)
		}
	}
	if want := []string{HotApplied, HotApplied}; strings.Join(crashed, ",") != strings.Join(want, ",") {
		t.Errorf("2*crash crashed at %v, want %v", crashed, want)
	}
	var said strings.Builder
	r.log = &said
	if err := r.Eval(RaftLogStore); !errors.Is(err, ErrInjected) || !strings.Contains(err.Error(), RaftLogStore) {
		t.Errorf("Eval(%s) = %v, want an error wrapping %v naming the point", RaftLogStore, err, ErrInjected)
	}
	// The injected error is logged before it is returned: its caller may
	// die of it without a word (docs/robustness.md, bug 14).
	if want := "failpoint raft-log-store: error: failpoint: injected error at raft-log-store\n"; said.String() != want {
		t.Errorf("Eval(%s) logged %q, want %q", RaftLogStore, said.String(), want)
	}
	if err := r.Eval(PebbleSync); err != nil {
		t.Errorf("Eval(%s) = %v, want nil after the sleep", PebbleSync, err)
	}
	if d := r.Offset(ClockSkew); d != -3*time.Second {
		t.Errorf("Offset(%s) = %v, want -3s", ClockSkew, d)
	}
	if d := r.Offset(RaftLogStore); d != 0 {
		t.Errorf("Offset(%s) armed with error = %v, want 0", RaftLogStore, d)
	}
	want := map[string]Status{
		HotApplied:   {Hits: 2}, // its count used up: off
		RaftLogStore: {Action: "error", Hits: 2},
		PebbleSync:   {Action: "sleep(1ms)", Hits: 1},
		ClockSkew:    {Action: "skew(-3s)", Hits: 1},
		ColdBefore:   {},
	}
	all := r.All()
	for name, w := range want {
		if all[name] != w {
			t.Errorf("All()[%s] = %+v, want %+v", name, all[name], w)
		}
	}
	if len(all) != len(Points) {
		t.Errorf("All() has %d points, want %d", len(all), len(Points))
	}
	if err := r.Disarm(RaftLogStore); err != nil || r.Eval(RaftLogStore) != nil {
		t.Errorf("Disarm(%s) = %v, then Eval is not nil", RaftLogStore, err)
	}
	if st, _ := r.Status(RaftLogStore); st != (Status{Hits: 2}) {
		t.Errorf("Status(%s) after Disarm = %+v, want hits kept, no action", RaftLogStore, st)
	}
}

func TestRegistryUnknownAndBad(t *testing.T) {
	r := New()
	if err := r.Arm("hot-aplied", Term{Kind: Crash, Percent: 100}); !errors.Is(err, ErrUnknown) {
		t.Errorf("Arm(typo) = %v, want %v", err, ErrUnknown)
	}
	// A list with one unknown name arms nothing.
	if err := r.ArmList("cold-before=crash;nope=crash"); !errors.Is(err, ErrUnknown) {
		t.Errorf("ArmList(with an unknown point) = %v, want %v", err, ErrUnknown)
	}
	if st, _ := r.Status(ColdBefore); st.Action != "" || r.armed.Load() != 0 {
		t.Errorf("after a refused ArmList %s is %+v (%d armed), want nothing armed", ColdBefore, st, r.armed.Load())
	}
	if _, err := r.Status("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Status(nope) = %v, want %v", err, ErrUnknown)
	}
	if err := r.Disarm("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Disarm(nope) = %v, want %v", err, ErrUnknown)
	}
}

func TestRegistryPercent(t *testing.T) {
	r := New()
	if err := r.ArmList("raft-log-store=10%error"); err != nil {
		t.Fatal(err)
	}
	fired := 0
	for range 2000 {
		if r.Eval(RaftLogStore) != nil {
			fired++
		}
	}
	// 10% of 2000 is 200; the bounds are 7 standard deviations off.
	if fired < 100 || fired > 300 {
		t.Errorf("10%%error fired %d times of 2000, want about 200", fired)
	}
}

// TestCrashExits: the crash action ends the process at once, with
// CrashExitCode and its line on stderr, and no deferred function runs.
func TestCrashExits(t *testing.T) {
	if marker := os.Getenv("FAILPOINT_CRASH_MARKER"); marker != "" {
		defer os.WriteFile(marker, []byte("deferred ran"), 0o644)
		r := New()
		if err := r.ArmList("cold-applied=crash"); err != nil {
			os.Exit(3)
		}
		r.Eval(ColdApplied)
		os.Exit(0) // not reached
	}
	marker := filepath.Join(t.TempDir(), "deferred")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashExits$")
	cmd.Env = append(os.Environ(), "FAILPOINT_CRASH_MARKER="+marker)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != CrashExitCode {
		t.Fatalf("a process crashing at a failpoint ended with %v, want exit status %d; output:\n%s", err, CrashExitCode, out)
	}
	if want := "failpoint cold-applied: crash"; !strings.Contains(string(out), want) {
		t.Errorf("crash output = %q, want it to contain %q", out, want)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("a deferred function ran before the crash exit (stat %s: %v)", marker, err)
	}
}
