package demo

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// stepDef is one step of the story.
type stepDef struct {
	name    string // for the verdict table
	title   func(r *run) string
	timeout time.Duration
	// run does the step, narrating its figures, and returns its ✓ line.
	run func(r *run, ctx context.Context, s *Step) (string, error)
}

// story is the demo's steps, in order.
var story = []stepDef{
	{"cluster up", (*run).upTitle, 60 * time.Second, (*run).up},
	{"hot transfers", (*run).transfersTitle, 45 * time.Second, (*run).transfers},
	{"contracts", (*run).contractsTitle, 30 * time.Second, (*run).contracts},
	{"settle + proof", (*run).settleTitle, 30 * time.Second, (*run).settle},
	{"deposit", (*run).depositTitle, 30 * time.Second, (*run).deposit},
	{"leader killed", (*run).killTitle, 45 * time.Second, (*run).killLeader},
	{"redis wiped", (*run).wipeTitle, 45 * time.Second, (*run).wipeRedis},
	{"cluster restarted", (*run).restartTitle, 60 * time.Second, (*run).restartAll},
	{"audit", (*run).auditTitle, 45 * time.Second, (*run).audit},
}

// skipError is a step that cannot run here, and why.
type skipError struct{ why string }

func (e skipError) Error() string { return e.why }

// steps runs the story. After a failure the steps that need the story so
// far are skipped, but the audit still runs if the cluster is up.
func (r *run) steps(ctx context.Context) {
	r.intro()
	failed := false
	for i, def := range story {
		last := i == len(story)-1
		if ctx.Err() != nil {
			r.skip(i+1, def, "interrupted")
			continue
		}
		if failed && !(last && r.c != nil) {
			r.skip(i+1, def, "an earlier step failed")
			continue
		}
		failed = r.step(ctx, i+1, def) == StatusFail || failed
	}
}

// step runs one step and records it.
func (r *run) step(ctx context.Context, n int, def stepDef) string {
	s := Step{N: n, Name: def.name, Title: def.title(r), Figures: map[string]any{}}
	r.say.header(n, s.Title)
	ctx, cancel := context.WithTimeout(ctx, def.timeout)
	defer cancel()
	start := time.Now()
	summary, err := def.run(r, ctx, &s)
	s.Seconds = time.Since(start).Seconds()
	var skip skipError
	switch {
	case errors.As(err, &skip):
		s.Status, s.Summary = StatusSkipped, skip.why
	case err != nil:
		s.Status, s.Summary = StatusFail, stepError(ctx, def, err)
	default:
		s.Status, s.Summary = StatusPass, summary
	}
	r.say.end(s.Status, s.Summary)
	r.rep.Steps = append(r.rep.Steps, s)
	r.recordProcesses()
	return s.Status
}

// stepError describes a failed step, naming a timeout or an interruption.
func stepError(ctx context.Context, def stepDef, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("%v (the step's %v ran out)", err, def.timeout)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Sprintf("interrupted: %v", err)
	}
	return err.Error()
}

func (r *run) skip(n int, def stepDef, why string) {
	s := Step{N: n, Name: def.name, Title: def.title(r), Status: StatusSkipped, Summary: why}
	r.say.header(n, s.Title)
	r.say.end(s.Status, why)
	r.rep.Steps = append(r.rep.Steps, s)
}
