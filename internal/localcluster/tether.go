package localcluster

import (
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// TetherChildren makes every process this package starts from now on die
// with this program: a node or redis-server started by Up, Restart,
// StartAll, AddNode or WipeRedis gets SIGKILL from the kernel when this
// program ends, however it ends (a `go test -timeout` panic, a SIGKILL, a
// normal exit). Without it they run detached and outlive the program,
// which is what `dualchain cluster up` needs: the CLI exits and the cluster
// keeps running. It is meant for test binaries, called once from TestMain
// before m.Run, and never from cmd/dualchain. It applies to the whole
// program, cannot be undone, and may be called more than once. Processes
// started before the call stay untethered, as do those of another
// program: an e2e test that runs `dualchain cluster up` as a subprocess
// does not tether that CLI's nodes, nor does a node or redis-server that
// a test starts with os/exec itself.
//
// It is Linux's parent-death signal (prctl PR_SET_PDEATHSIG, which Go sets
// through SysProcAttr.Pdeathsig). The processes still run in their own
// session, and are still stopped by PID: the signal is a backstop for a
// program that dies before it can stop them. What it covers, and not:
//
//   - The signal fires when the thread that started the child exits, not
//     the process (https://go.dev/issue/27505), and the Go runtime ends
//     threads while a program runs (a goroutine that exits locked to its
//     thread ends that thread). So tethered children are all started from
//     one goroutine locked to its OS thread for the rest of the program's
//     life, never unlocked, which takes start requests over a channel:
//     that thread ends only when the program does.
//   - The setting survives execve unless the new program is set-user-ID,
//     set-group-ID or has file capabilities, so a node or redis-server
//     started under an exec prefix (Node.Exec: `ip netns exec NS`, which
//     execs its command without forking) stays tethered; a prefix such as
//     sudo would drop it.
//   - If this program dies after the fork but before the child sets the
//     signal, no signal comes. Go's syscall package closes that window in
//     the child itself, between fork and exec (so for redis-server too,
//     whose code we do not control): after prctl it compares getppid with
//     the parent's PID and kills itself if they differ.
//   - The setting is not inherited over fork: a child's own children
//     (redis-server's background-save child, say) are not tethered.
func TetherChildren() {
	tether.once.Do(func() {
		s := &starter{reqs: make(chan startRequest)}
		go s.run()
		tether.starter.Store(s)
	})
}

// tether holds the thread that starts tethered children: nil until
// TetherChildren is first called.
var tether struct {
	once    sync.Once
	starter atomic.Pointer[starter]
}

// starter starts processes from one OS thread that lives as long as this
// program, so that their parent-death signal fires only when the program
// ends.
type starter struct {
	reqs chan startRequest
}

// startRequest asks the starter to start cmd and send cmd.Start's error
// on done.
type startRequest struct {
	cmd  *exec.Cmd
	done chan<- error
}

// run locks its goroutine to its OS thread and starts the commands it is
// sent. It never returns, by design: its thread must outlive every child
// it started, and ending the goroutine would end the thread and kill
// them. It is the one goroutine of this package without an end.
func (s *starter) run() {
	runtime.LockOSThread() // never unlocked
	for r := range s.reqs {
		r.done <- r.cmd.Start()
	}
}

// start starts cmd, tethered to this program, from the starter's thread.
func (s *starter) start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	done := make(chan error, 1)
	s.reqs <- startRequest{cmd: cmd, done: done}
	return <-done
}

// startCmd starts cmd: from the starter's thread, tethered, after
// TetherChildren; from the calling goroutine, detached, before.
func startCmd(cmd *exec.Cmd) error {
	if s := tether.starter.Load(); s != nil {
		return s.start(cmd)
	}
	return cmd.Start()
}
