package netfault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// cmdTimeout bounds one ip or iptables command.
const cmdTimeout = 30 * time.Second

// run runs argv with stdin and returns its output; a failure is
// ErrCommand with what it printed.
func run(ctx context.Context, stdin string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%w: %s: %v: %s", ErrCommand, strings.Join(argv, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// makeBridge makes the bridge and gives the root namespace its address.
func (n *Net) makeBridge(ctx context.Context) error {
	br := n.bridgeName()
	for _, argv := range [][]string{
		{n.ipPath, "link", "add", br, "type", "bridge"},
		{n.ipPath, "addr", "add", n.BridgeIP().String() + "/24", "dev", br},
		{n.ipPath, "link", "set", br, "up"},
	} {
		if _, err := run(ctx, "", argv...); err != nil {
			return err
		}
	}
	return nil
}

// makeNamespace makes nn's namespace, its veth (eth0 inside, nn.name on
// the bridge), its address, lo, and its two empty fault chains.
func (n *Net) makeNamespace(ctx context.Context, nn *nsNode) error {
	ip, ns := n.ipPath, nn.name
	for _, argv := range [][]string{
		{ip, "netns", "add", ns},
		{ip, "link", "add", nn.name, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{ip, "link", "set", nn.name, "master", n.bridgeName(), "up"},
		{ip, "-n", ns, "addr", "add", nn.ip.String() + "/24", "dev", "eth0"},
		{ip, "-n", ns, "link", "set", "eth0", "up"},
		{ip, "-n", ns, "link", "set", "lo", "up"},
	} {
		if _, err := run(ctx, "", argv...); err != nil {
			return err
		}
	}
	hook := "*filter\n:" + chainIn + " - [0:0]\n:" + chainOut + " - [0:0]\n" +
		"-A INPUT -j " + chainIn + "\n-A OUTPUT -j " + chainOut + "\nCOMMIT\n"
	_, err := run(ctx, hook, ip, "netns", "exec", ns, n.iptRestore, "-w", "--noflush")
	return err
}

// subnetInUse reports whether an interface of the root namespace has an
// address in prefix's /24 (another program's network, or a run whose pid
// file is gone).
func subnetInUse(prefix netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	p := netip.PrefixFrom(prefix, 24)
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && p.Contains(ip.Unmap()) {
				return true
			}
		}
	}
	return false
}

// Sweep deletes the namespaces, links and pid files of runs whose owner
// process is gone: a run killed before its Close. A run without a pid
// file is gone too (the file is written before anything is made).
//
// It lists what is there before it reads which runs are live: a run
// starting meanwhile has its pid file in place, whole, before it makes
// anything, so whatever the listing caught of it is seen live. (Read
// the other way round, a run claimed between the two would look dead.)
func Sweep(ctx context.Context) error {
	names := append(namespaces(), links()...)
	files, _ := filepath.Glob(filepath.Join(stateDir, "*"+pidSuffix))
	live := liveRuns(stateDir)
	ids := map[string]bool{}
	for _, name := range names {
		if id, ok := runID(name); ok && !live[id] {
			ids[id] = true
		}
	}
	for _, f := range files {
		if id := strings.TrimSuffix(filepath.Base(f), pidSuffix); !live[id] {
			ids[id] = true
		}
	}
	var errs []error
	for id := range ids {
		errs = append(errs, removeRun(ctx, id))
	}
	removeDeadTemps(stateDir)
	return errors.Join(errs...)
}

// runID is the id in dcr-<id>-..., if name is one of ours.
func runID(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "-")
	return id, ok && len(id) == 4
}

// namespaces are the names of the namespaces ip netns knows.
func namespaces() []string {
	entries, _ := os.ReadDir(nsDir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// links are the names of the root namespace's interfaces.
func links() []string {
	ifs, _ := net.Interfaces()
	var out []string
	for _, i := range ifs {
		out = append(out, i.Name)
	}
	return out
}

// removeRun deletes run id's namespaces (their veths go with them), its
// links, and its pid file. What is gone already is no error: a run that
// Sweep listed may be closing itself.
func removeRun(ctx context.Context, id string) error {
	var errs []error
	for _, ns := range namespaces() {
		if got, ok := runID(ns); ok && got == id {
			if _, err := run(ctx, "", "ip", "netns", "del", ns); err != nil && nsExists(ns) {
				errs = append(errs, err)
			}
		}
	}
	for _, l := range links() {
		if got, ok := runID(l); ok && got == id {
			if _, err := run(ctx, "", "ip", "link", "del", l); err != nil && linkExists(l) {
				errs = append(errs, err)
			}
		}
	}
	if err := os.Remove(filepath.Join(stateDir, id+pidSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("netfault: %w", err))
	}
	return errors.Join(errs...)
}

// linkExists reports whether the root namespace still has link name (a
// veth goes away with its namespace, sometimes just after).
func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// nsExists reports whether namespace name is still there.
func nsExists(name string) bool {
	_, err := os.Stat(filepath.Join(nsDir, name))
	return err == nil
}
