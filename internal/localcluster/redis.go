package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStartTimeout bounds how long a starting redis-server may take to
// answer.
const redisStartTimeout = 10 * time.Second

// redisArgv is the command line of a node's redis-server: loopback only
// (and its namespace's address, where this program reaches it, with
// Placement), nothing persisted, logging into its dir.
func redisArgv(bin string, r *Redis) []string {
	bind := []string{"--bind", "127.0.0.1"}
	if r.Host != "" {
		// In a namespace of its own: this program checks it on Host.
		bind = append(bind, r.Host, "--protected-mode", "no")
	}
	argv := append([]string{bin}, bind...)
	return append(argv, "--port", strconv.Itoa(r.Port),
		"--dir", r.Dir, "--save", "", "--appendonly", "no", "--daemonize", "no",
		"--logfile", filepath.Join(r.Dir, redisLog))
}

// startRedis starts node id's redis-server, records its PID and waits
// until it answers. The caller holds c.op.
func (c *Cluster) startRedis(ctx context.Context, id string) error {
	n, err := c.Node(id)
	if err != nil {
		return err
	}
	if n.Redis == nil {
		return fmt.Errorf("%w: %s (store %s)", ErrNoRedis, id, c.Store())
	}
	if err := os.MkdirAll(n.Redis.Dir, 0o755); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	logPath := filepath.Join(n.Redis.Dir, redisLog)
	pid, err := startDetached(slices.Concat(n.Exec, redisArgv(c.redisServer(), n.Redis)), n.Redis.Dir, logPath)
	if err != nil {
		return err
	}
	if err := c.update(id, func(n *Node) { n.Redis.PID = pid }); err != nil {
		return err
	}
	if err := waitRedis(ctx, pid, n.Redis.checkAddr()); err != nil {
		_ = stopProcess(ctx, pid, func() bool { return isRedis(pid, n.Redis.Port, n.Redis.Dir, n.Exec...) }, 0)
		if uerr := c.update(id, func(n *Node) { n.Redis.PID = 0 }); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return fmt.Errorf("redis-server of %s on port %d: %w; %s", id, n.Redis.Port, err, logExcerpt(logPath))
	}
	c.logf("%s: redis-server on %s (pid %d)", id, n.Redis.checkAddr(), pid)
	return nil
}

func (c *Cluster) redisServer() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.RedisServer
}

// checkAddr is where this program reaches r: its Host, or 127.0.0.1.
func (r *Redis) checkAddr() string {
	if r.Host != "" {
		return hostPort(r.Host, r.Port)
	}
	return loopback(r.Port)
}

// waitRedis polls the redis-server pid at addr until it answers, exits or
// redisStartTimeout passes. It asks for INFO, not PING, to check that the
// server answering is pid and not another that holds the port.
func waitRedis(ctx context.Context, pid int, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
	defer cancel()
	rc := redis.NewClient(&redis.Options{
		Addr: addr, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})
	defer rc.Close()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		info, err := rc.Info(ctx, "server").Result()
		if err == nil {
			return checkInfoPID(info, pid)
		}
		if !exists(pid) {
			return fmt.Errorf("%w before it answered", ErrExited)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer to INFO: %w (last: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// checkInfoPID checks the process_id line of an INFO server answer.
func checkInfoPID(info string, pid int) error {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			if v == strconv.Itoa(pid) {
				return nil
			}
			return fmt.Errorf("the port is held by another redis-server (pid %s)", v)
		}
	}
	return errors.New("INFO server has no process_id")
}

// WipeRedis does to node id's Redis what losing its memory would: it
// kills its redis-server with SIGKILL, deletes everything in its
// directory, and starts it again on the same port, empty. The node is
// left running.
func (c *Cluster) WipeRedis(ctx context.Context, id string) error {
	c.op.Lock()
	defer c.op.Unlock()
	n, err := c.Node(id)
	if err != nil {
		return err
	}
	if n.Redis == nil {
		return fmt.Errorf("%w: %s (the cluster uses the %s store)", ErrNoRedis, id, c.Store())
	}
	if err := c.stopRedis(ctx, n, 0); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	if err := emptyDir(n.Redis.Dir); err != nil {
		return fmt.Errorf("localcluster: wipe %s: %w", n.Redis.Dir, err)
	}
	c.logf("%s: redis-server killed and its directory emptied", id)
	return c.startRedis(ctx, id)
}

// stopRedis stops n's redis-server (see stopProcess) and records that it
// is stopped.
func (c *Cluster) stopRedis(ctx context.Context, n Node, grace time.Duration) error {
	r := n.Redis
	err := stopProcess(ctx, r.PID, func() bool { return isRedis(r.PID, r.Port, r.Dir, n.Exec...) }, grace)
	if err != nil && !errors.Is(err, ErrNotRunning) {
		return fmt.Errorf("stop redis-server of %s: %w", n.ID, err)
	}
	if uerr := c.update(n.ID, func(n *Node) { n.Redis.PID = 0 }); uerr != nil {
		return uerr
	}
	return err
}

// emptyDir deletes everything in dir, keeping dir.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
