package robustness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files a failing run keeps in its directory, beside cluster/ (the nodes'
// data and logs) and porcupine.html (if the check wrote it).
const (
	HistoryFile = "history.json" // robust.LoadFile reads it back
	LedgerFile  = "ledger.json"  // the frozen final ledger, a robust.Frozen
	SummaryFile = "summary.txt"
)

// keep saves a passing run's history, ledger and summary, when asked.
func (r *runner) keep() {
	if err := r.saveFiles(); err != nil {
		r.sum.Errors = append(r.sum.Errors, err.Error())
	}
	r.sum.Saved = r.o.Dir
}

// saveFiles writes the history, the frozen ledger and the summary, which
// names the files it could not write (Summary.Unsaved).
func (r *runner) saveFiles() error {
	var errs []error
	unsaved := func(name, why string) { r.sum.Unsaved = append(r.sum.Unsaved, name+": "+why) }
	written := func(name string, err error) {
		if err != nil {
			unsaved(name, err.Error())
			errs = append(errs, err)
		}
	}
	if r.h == nil {
		unsaved(HistoryFile, "the run ended before its workload began")
	} else {
		written(HistoryFile, r.h.SaveFile(filepath.Join(r.o.Dir, HistoryFile)))
	}
	if r.frozen == nil {
		unsaved(LedgerFile, "the run ended before it read the final ledger")
	} else {
		written(LedgerFile, writeJSON(filepath.Join(r.o.Dir, LedgerFile), r.frozen))
	}
	errs = append(errs, os.WriteFile(filepath.Join(r.o.Dir, SummaryFile), []byte(r.sum.String()), 0o644))
	return errors.Join(errs...)
}

// save keeps what a failing run saw and returns its error, naming the
// directory: runErr, or ErrViolation with the invariants broken.
func (r *runner) save(runErr error) error {
	r.sum.Saved = r.o.Dir
	if err := r.saveFiles(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("saving the run: %w", err))
	}
	if failed := r.sum.Report.Failed(); len(failed) > 0 {
		return fmt.Errorf("%w (seed %d): %s; history, ledger, summary and data dirs kept in %s%s",
			ErrViolation, r.o.Seed, strings.Join(failed, ", "), r.o.Dir, also(runErr))
	}
	return fmt.Errorf("robustness run (seed %d) failed: %w; what it saw is kept in %s", r.o.Seed, runErr, r.o.Dir)
}

func also(err error) string {
	if err == nil {
		return ""
	}
	return "; also: " + err.Error()
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
