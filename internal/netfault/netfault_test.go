package netfault

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newNet makes a Net of nodes namespaces for the test, closed at its end;
// the test is skipped where namespaces cannot be made (not root).
func newNet(t *testing.T, nodes int) *Net {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("needs network namespaces: %v", err)
	}
	n, err := New(t.Context(), nodes)
	if err != nil {
		t.Fatalf("New(%d) = %v", nodes, err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		for _, nn := range n.nodes {
			if _, err := os.Stat(nsDir + "/" + nn.name); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("namespace %s still there after Close (stat: %v)", nn.name, err)
			}
		}
		if _, err := os.Stat(n.pidFile()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pid file %s still there after Close (stat: %v)", n.pidFile(), err)
		}
	})
	return n
}

// inNS runs f on a thread in namespace name: sockets f makes live there.
func inNS(t *testing.T, name string, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked if the thread cannot go back: it then dies with the goroutine
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		ns, err := os.Open(nsDir + "/" + name)
		if err != nil {
			errc <- err
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// echoServer listens on node i's address in its namespace and echoes
// every connection; it stops with the test.
func echoServer(t *testing.T, n *Net, i int) string {
	t.Helper()
	var l net.Listener
	err := inNS(t, n.Name(i), func() (err error) {
		l, err = net.Listen("tcp", net.JoinHostPort(n.IP(i).String(), "0"))
		return err
	})
	if err != nil {
		t.Fatalf("listen in %s: %v", n.Name(i), err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return l.Addr().String()
}

// dialFrom connects to addr from node i's namespace (i < 0: the root
// namespace, on the bridge) and checks the echo.
func dialFrom(t *testing.T, n *Net, i int, addr string) (net.Conn, error) {
	t.Helper()
	var c net.Conn
	dial := func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 2*time.Second)
		return err
	}
	var err error
	if i < 0 {
		err = dial()
	} else {
		err = inNS(t, n.Name(i), dial)
	}
	if err != nil {
		return nil, err
	}
	if _, err := roundTrip(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// roundTrip writes a byte on c and reads it back, and returns the time it
// took.
func roundTrip(c net.Conn) (time.Duration, error) {
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := c.Write([]byte{1}); err != nil {
		return 0, err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func reachable(t *testing.T, n *Net, from int, addr string) error {
	t.Helper()
	c, err := dialFrom(t, n, from, addr)
	if err == nil {
		c.Close()
	}
	return err
}

func TestPartitionBlocksAndHealRestores(t *testing.T) {
	n := newNet(t, 3)
	ctx := t.Context()
	addr := echoServer(t, n, 1)
	for _, from := range []int{0, 2, -1} {
		if err := reachable(t, n, from, addr); err != nil {
			t.Fatalf("before the partition, node %d -> node 1: %v", from, err)
		}
	}
	if err := n.Partition(ctx, []int{0}, []int{1, 2}); err != nil {
		t.Fatalf("Partition() = %v", err)
	}
	if err := reachable(t, n, 0, addr); err == nil {
		t.Errorf("partitioned {0}|{1,2}: node 0 -> node 1 connects, want blocked")
	}
	if err := reachable(t, n, 2, addr); err != nil {
		t.Errorf("partitioned {0}|{1,2}: node 2 -> node 1 = %v, want connected (same side)", err)
	}
	if err := reachable(t, n, -1, addr); err != nil {
		t.Errorf("partitioned: bridge -> node 1 = %v, want connected (clients reach every node)", err)
	}
	s, err := n.Stats(ctx, 0)
	if err != nil || s.Blocked == 0 {
		t.Errorf("Stats(0) = %+v, %v; want Blocked > 0", s, err)
	}
	if err := n.Heal(ctx); err != nil {
		t.Fatalf("Heal() = %v", err)
	}
	if err := reachable(t, n, 0, addr); err != nil {
		t.Errorf("healed: node 0 -> node 1 = %v, want connected", err)
	}
}

func TestIsolateCutsBothWays(t *testing.T) {
	n := newNet(t, 2)
	ctx := t.Context()
	addr0, addr1 := echoServer(t, n, 0), echoServer(t, n, 1)
	if err := n.Isolate(ctx, 1); err != nil {
		t.Fatalf("Isolate(1) = %v", err)
	}
	if err := reachable(t, n, 0, addr1); err == nil {
		t.Errorf("isolated 1: node 0 -> node 1 connects")
	}
	if err := reachable(t, n, 1, addr0); err == nil {
		t.Errorf("isolated 1: node 1 -> node 0 connects")
	}
	if err := reachable(t, n, -1, addr1); err != nil {
		t.Errorf("isolated 1: bridge -> node 1 = %v, want connected", err)
	}
}

// medianRTT is the median of k echo round trips on c.
func medianRTT(t *testing.T, c net.Conn, k int) time.Duration {
	t.Helper()
	var rtts []time.Duration
	for range k {
		d, err := roundTrip(c)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		rtts = append(rtts, d)
	}
	slices.Sort(rtts)
	return rtts[k/2]
}

func TestFlakyDelays(t *testing.T) {
	n := newNet(t, 2)
	ctx := t.Context()
	c, err := dialFrom(t, n, 0, echoServer(t, n, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base := medianRTT(t, c, 21)
	const delay = 40 * time.Millisecond
	if err := n.Flaky(ctx, 0, Link{Delay: delay}); err != nil {
		t.Fatalf("Flaky(0, delay %v) = %v", delay, err)
	}
	slow := medianRTT(t, c, 21)
	t.Logf("median RTT node 0 -> node 1: %v good, %v with %v delay on node 0's way in", base, slow, delay)
	if slow < base+delay*3/4 {
		t.Errorf("median RTT with %v delay = %v, want at least %v (good: %v)", delay, slow, base+delay*3/4, base)
	}
	s, err := n.Stats(ctx, 0)
	if err != nil || s.Delayed < 21 || s.MeanHeld < delay*3/4 {
		t.Errorf("Stats(0) = %+v, %v; want Delayed >= 21, MeanHeld about %v", s, err, delay)
	}
	if err := n.Flaky(ctx, 0, Link{}); err != nil {
		t.Fatalf("Flaky(0, good) = %v", err)
	}
	if again := medianRTT(t, c, 21); again >= base+delay*3/4 {
		t.Logf("median RTT after the link is good again: %v (good was %v); a loaded machine?", again, base)
	}
}

// udpBurst sends count numbered datagrams from node 0 to a receiver on
// node 1 and returns the numbers received, in order of arrival.
func udpBurst(t *testing.T, n *Net, count int) []int {
	t.Helper()
	var rx *net.UDPConn
	if err := inNS(t, n.Name(1), func() (err error) {
		rx, err = net.ListenUDP("udp", &net.UDPAddr{IP: n.IP(1).AsSlice()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	var tx net.Conn
	if err := inNS(t, n.Name(0), func() (err error) {
		tx, err = net.Dial("udp", rx.LocalAddr().String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for i := range count {
		if _, err := tx.Write([]byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond)
	}
	var got []int
	buf := make([]byte, 64)
	for {
		_ = rx.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := rx.Read(buf)
		if err != nil {
			return got
		}
		v, _ := strconv.Atoi(string(buf[:k]))
		got = append(got, v)
	}
}

func TestFlakyReordersAndLoses(t *testing.T) {
	n := newNet(t, 2)
	ctx := t.Context()
	if err := n.Flaky(ctx, 1, Link{Loss: 0.3, Delay: 30 * time.Millisecond, Jitter: 25 * time.Millisecond}); err != nil {
		t.Fatalf("Flaky() = %v", err)
	}
	const count = 400
	got := udpBurst(t, n, count)
	outOfOrder := 0
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			outOfOrder++
		}
	}
	s, err := n.Stats(ctx, 1)
	t.Logf("%d of %d datagrams arrived, %d out of order; stats %+v", len(got), count, outOfOrder, s)
	if err != nil {
		t.Fatalf("Stats(1) = %v", err)
	}
	if len(got) == 0 || len(got) >= count {
		t.Errorf("with 30%% loss %d of %d datagrams arrived, want some but not all", len(got), count)
	}
	if outOfOrder == 0 || s.Reordered == 0 {
		t.Errorf("with 25 ms jitter: %d arrived out of order, Reordered = %d; want both > 0", outOfOrder, s.Reordered)
	}
	if s.Lost == 0 || s.Delayed == 0 {
		t.Errorf("Stats(1) = %+v; want Lost > 0 and Delayed > 0", s)
	}
	if err := n.Heal(ctx); err != nil {
		t.Fatalf("Heal() = %v", err)
	}
	if got := udpBurst(t, n, 50); len(got) != 50 || !slices.IsSorted(got) {
		t.Errorf("healed: received %v, want 0..49 in order", got)
	}
}

func TestPlaceGrowsAndExecRunsInside(t *testing.T) {
	n := newNet(t, 1)
	prefix, host, err := n.Place(t.Context(), 2)
	if err != nil {
		t.Fatalf("Place(2) = %v", err)
	}
	if n.Nodes() != 3 || host != n.IP(2).String() {
		t.Fatalf("Place(2) = %q with %d namespaces, want %s and 3", host, n.Nodes(), n.IP(2))
	}
	out, err := exec.Command(prefix[0], append(prefix[1:], "ip", "-4", "-o", "addr", "show", "dev", "eth0")...).CombinedOutput()
	if err != nil || !slices.Contains(strings.Fields(string(out)), host+"/24") {
		t.Errorf("%v ip addr show eth0 = %q, %v; want %s/24", prefix, out, err, host)
	}
}

func TestSweepDeletesWhatADeadOwnerLeft(t *testing.T) {
	n := newNet(t, 0) // a live run, which Sweep must leave alone
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	const id = "7fff" // outside the ids claim picks (at most 1fff)
	name := namePrefix + id + "-n1"
	if err := os.WriteFile(stateDir+"/"+id+".pid", []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := stateDir + "/" + tmpPrefix + strconv.Itoa(dead.Process.Pid) + "-1" + tmpSuffix // a claim that died half way
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t.Context(), "", "ip", "netns", "add", name); err != nil {
		t.Fatal(err)
	}
	if err := Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep() = %v", err)
	}
	for _, path := range []string{nsDir + "/" + name, stateDir + "/" + id + ".pid", tmp} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Sweep, %s: stat = %v, want gone", path, err)
		}
	}
	if _, err := os.Stat(n.pidFile()); err != nil {
		t.Errorf("Sweep removed the live run's pid file: %v", err)
	}
}

func TestBadArguments(t *testing.T) {
	n := newNet(t, 2)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"partition unknown node", n.Partition(ctx, []int{0}, []int{5}), ErrBadNode},
		{"partition node twice", n.Partition(ctx, []int{0}, []int{0, 1}), ErrBadNode},
		{"loss 1", n.Flaky(ctx, 0, Link{Loss: 1}), ErrBadLink},
		{"jitter > delay", n.Flaky(ctx, 0, Link{Delay: time.Millisecond, Jitter: time.Second}), ErrBadLink},
		{"flaky unknown node", n.Flaky(ctx, 9, Link{Loss: 0.1}), ErrBadNode},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Heal(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Heal() after Close = %v, want %v", err, ErrClosed)
	}
}
