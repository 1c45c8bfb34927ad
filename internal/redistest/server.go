package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Binary is the server program Start runs, looked up on PATH.
const Binary = "redis-server"

// startTimeout bounds how long a starting server may take to answer PING.
const startTimeout = 10 * time.Second

// stopTimeout bounds how long a server may take to exit after SIGTERM
// before it is killed.
const stopTimeout = 5 * time.Second

// Server is one redis-server process owned by a test.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// Start starts a redis-server on 127.0.0.1 and a free port, with nothing
// persisted, and stops it when the test ends. It skips the test when
// redis-server is not installed (fails under CI=true).
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := lookPath(tb)
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	var err error
	for range 3 { // a free port may be taken before the server binds it
		if s.port, err = freePort(); err != nil {
			continue
		}
		if err = s.start(); err == nil {
			tb.Cleanup(s.stop)
			return s
		}
	}
	tb.Fatalf("redistest: start %s: %v", bin, err)
	return nil
}

// lookPath finds redis-server, or ends the test.
func lookPath(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath(Binary)
	if err == nil {
		return bin
	}
	msg := fmt.Sprintf("redistest: %s not found on PATH (install Debian's redis-server): %v", Binary, err)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
		return ""
	}
	tb.Skip(msg)
	return ""
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server on s.port and waits until it answers PING.
func (s *Server) start() error {
	logPath := filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", s.port))
	cmd := exec.Command(s.bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port),
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", logPath, "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := waitReady(s.Addr(), done); err != nil {
		s.kill()
		return fmt.Errorf("%w; log:\n%s", err, tail(logPath))
	}
	return nil
}

// waitReady polls addr with PING until it answers PONG, the process exits,
// or startTimeout passes.
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if ping(addr) == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server on %s did not answer PING within %v", addr, startTimeout)
}

// ping sends one inline PING.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's redis:// URL, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Options returns new client options for the server, database 0.
func (s *Server) Options() *redis.Options { return &redis.Options{Addr: s.Addr()} }

// PID is the process id of the running server (0 after Kill).
func (s *Server) PID() int {
	if s.cmd == nil || s.exited() {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	s.tb.Helper()
	s.kill()
}

func (s *Server) kill() {
	if s.cmd == nil || s.exited() {
		return
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// Restart kills the server if it runs and starts a new, empty one on the
// same port: what a node sees when its Redis restarts without persistence.
func (s *Server) Restart() {
	s.tb.Helper()
	s.kill()
	var err error
	for range 50 { // the old socket may take a moment to be released
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restart on port %d: %v", s.port, err)
}

// stop ends the server with SIGTERM, and SIGKILL if it does not exit in
// time. It is registered with t.Cleanup.
func (s *Server) stop() {
	if s.cmd == nil || s.exited() {
		return
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		s.kill()
	}
}
