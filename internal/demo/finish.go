package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dualchain/dualchain/internal/audit"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/progress"
)

// stopTimeout bounds stopping the cluster at the end, even after ctx
// ended.
const stopTimeout = 30 * time.Second

// finish stops every process the demo started and removes its temporary
// directory, unless Keep. It runs however the steps ended.
func (r *run) finish(ctx context.Context) {
	if r.cfg.Keep && r.c != nil {
		return
	}
	r.say.printf("")
	if r.c != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		start := time.Now()
		r.transport.CloseIdleConnections()
		err := r.c.Down(ctx)
		r.rep.Checks = append(r.rep.Checks, r.checkStopped(err, time.Since(start)))
	}
	switch {
	case !r.tempDir:
		r.say.printf("the cluster's data is kept in %s", r.cfg.Dir)
	case r.rep.failures() > 0 && ctx.Err() == nil:
		r.say.printf("kept %s for its nodes' logs (%s); delete it when done", r.cfg.Dir, filepath.Join(r.cfg.Dir, "n1", localcluster.NodeLogFile))
	default:
		r.rep.DirRemoved = os.RemoveAll(r.cfg.Dir) == nil
	}
}

// checkStopped checks that no process the demo started is left: down is
// what stopping the cluster returned, after took.
func (r *run) checkStopped(down error, took time.Duration) audit.Check {
	var left []string
	for _, p := range r.rep.Processes {
		if alive(p) {
			left = append(left, fmt.Sprintf("%s %s pid %d", p.Node, p.Program, p.PID))
		}
	}
	c := audit.Check{Check: CheckStopped, Node: "all", Pass: down == nil && len(left) == 0}
	switch {
	case len(left) > 0:
		c.Detail = "still running: " + strings.Join(left, ", ")
	case down != nil:
		c.Detail = down.Error()
	default:
		c.Detail = fmt.Sprintf("all %d processes the demo started (nodes and redis-servers, restarts included) are gone", len(r.rep.Processes))
	}
	r.say.printf("stopped the cluster in %s: %s", progress.Seconds(took), c.Detail)
	return c
}

// alive reports whether p's PID is still p's program: /proc shows it, not
// a zombie, running p.Program.
func alive(p Process) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/stat")
	if err != nil {
		return false
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
		return false
	}
	cmd, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
	return err == nil && strings.Contains(string(cmd), p.Program)
}

// verdict decides the report's Pass and prints the verdict table.
func (r *run) verdict() {
	r.rep.Pass = r.rep.failures() == 0 && len(r.rep.Steps) == len(story)
	r.say.printf("\nVerdict")
	if err := r.rep.writeTable(r.say.w); err != nil {
		return
	}
	took := progress.Seconds(time.Duration(r.rep.Seconds * float64(time.Second)))
	switch {
	case r.rep.Pass:
		r.say.printf("\nPASS: %d steps and %d checks in %s on %s", len(r.rep.Steps), len(r.rep.Checks), took, r.rep.Store)
	case r.rep.Interrupted:
		r.say.printf("\nINTERRUPTED after %s: the steps that ran are above", took)
	default:
		r.say.printf("\nFAIL: %d of %d steps and checks did not pass (%s)", r.rep.failures(), len(r.rep.Steps)+len(r.rep.Checks), took)
	}
	if r.cfg.Keep && r.c != nil {
		r.howTo()
	}
}

// howTo prints how to use the cluster left running by hand.
func (r *run) howTo() {
	b, d := r.cfg.Command, r.cfg.Dir
	r.say.printf("\nThe cluster is still running in %s (--keep). Go on by hand:", d)
	for _, line := range []string{
		fmt.Sprintf("%s cluster status --dir %s", b, d),
		fmt.Sprintf("%s --cluster %s status", b, d),
		fmt.Sprintf("%s --cluster %s balance %s", b, d, r.keyFile("alice")),
		fmt.Sprintf("%s --cluster %s transfer --key %s/faucet.key --to %s --amount 10 --wait", b, d, d, r.keyFile("alice")),
		fmt.Sprintf("%s --cluster %s settle --key %s --amount 5 --wait     # prints the transfer id", b, d, r.keyFile("alice")),
		fmt.Sprintf("%s --cluster %s bridge status ID --wait", b, d),
		fmt.Sprintf("%s --cluster %s deposit --key %s --amount 5 --wait", b, d, r.keyFile("alice")),
		fmt.Sprintf("%s cluster kill n1 --dir %s ; %s cluster restart n1 --dir %s", b, d, b, d),
		fmt.Sprintf("%s audit --cluster %s", b, d),
		fmt.Sprintf("%s cluster down --dir %s                # stops every process; then: rm -r %s", b, d, d),
	} {
		r.say.printf("  %s", line)
	}
}
