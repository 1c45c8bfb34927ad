package localcluster

import "errors"

// Errors returned by this package, wrapped with details; test with errors.Is.
var (
	// ErrBadOptions reports Options that cannot make a cluster.
	ErrBadOptions = errors.New("localcluster: bad options")
	// ErrNotEmpty reports an Up into a directory that already holds files.
	ErrNotEmpty = errors.New("localcluster: directory is not empty")
	// ErrNoCluster reports a directory without a cluster.json.
	ErrNoCluster = errors.New("localcluster: no cluster.json")
	// ErrBadManifest reports a cluster.json that cannot be used.
	ErrBadManifest = errors.New("localcluster: malformed cluster.json")
	// ErrUnknownNode reports a node id the cluster does not have.
	ErrUnknownNode = errors.New("localcluster: unknown node")
	// ErrRemoved reports a node RemoveNode took out of the cluster.
	ErrRemoved = errors.New("localcluster: node was removed")
	// ErrNotRunning reports a process that is not running (or whose
	// recorded PID now belongs to another program).
	ErrNotRunning = errors.New("localcluster: not running")
	// ErrNoRedis reports a Redis operation on a node of a cluster that uses
	// the embedded in-memory store.
	ErrNoRedis = errors.New("localcluster: node has no redis-server")
	// ErrNoRedisServer reports that redis-server is not installed.
	ErrNoRedisServer = errors.New("localcluster: redis-server not found on PATH")
	// ErrExited reports a process that exited while it was awaited.
	ErrExited = errors.New("localcluster: process exited")
	// ErrNotConverged reports nodes that did not agree in time.
	ErrNotConverged = errors.New("localcluster: nodes did not converge")
)
