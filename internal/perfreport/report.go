package perfreport

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/dualchain/dualchain/internal/bench"
)

// Report is everything one `dualchain bench --report` run measured. Any
// slice may be empty; its section then says it was not measured.
type Report struct {
	Machine    Machine
	Study      bench.Study
	Sweep      []bench.Result // one workload, open loop, 3 nodes, offered load rising
	NativeVsVM []bench.Result // native and vm runs on the same cluster shape
	Accounts   []bench.Result // the native workload over states of 10K, 100K, 1M accounts (StateSize)
	Nodes      []bench.Result // 1, 3, 5 nodes
	Profile    ProfileSummary
	Command    string        // the command line that produced the report
	Took       time.Duration // how long the whole run took
}

// File names Write uses, under dir.
const (
	MarkdownFile = "performance.md"
	chartWidth   = 6 * vg.Inch
	chartHeight  = 3.6 * vg.Inch
)

// chartFiles are all the charts a report can have. Write removes those it
// did not draw this time, so a section that was not measured leaves no
// stale picture behind.
var chartFiles = []string{sweepThroughputPNG, sweepLatencyPNG, latencyCDFPNG, nativeVMPNG, accountsPNG, nodesPNG}

// Write writes dir/performance.md and the charts it embeds, dir/perf/*.png.
// The markdown is written last and replaced whole, so a failed chart
// leaves the previous report in place.
func Write(dir string, r Report) error {
	p := render(r)
	if p.err != nil {
		return p.err
	}
	charts := filepath.Join(dir, chartDir)
	if err := os.MkdirAll(charts, 0o755); err != nil {
		return fmt.Errorf("perfreport: %w", err)
	}
	drawn := map[string]bool{}
	for _, c := range p.charts {
		if err := saveChart(filepath.Join(charts, c.file), c); err != nil {
			return err
		}
		drawn[c.file] = true
	}
	for _, f := range chartFiles {
		if drawn[f] {
			continue
		}
		if err := os.Remove(filepath.Join(charts, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("perfreport: %w", err)
		}
	}
	return writeReplace(filepath.Join(dir, MarkdownFile), []byte(p.b.String()))
}

// saveChart draws one chart as a PNG.
func saveChart(path string, c chart) error {
	w, err := c.plot.WriterTo(chartWidth, chartHeight, "png")
	if err != nil {
		return fmt.Errorf("perfreport: chart %s: %w", c.file, err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return fmt.Errorf("perfreport: chart %s: %w", c.file, err)
	}
	return writeReplace(path, buf.Bytes())
}

// writeReplace writes data beside path and renames it into place.
func writeReplace(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("perfreport: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("perfreport: %w", err)
	}
	return nil
}

// render lays the report out, section by section.
func render(r Report) *page {
	p := &page{}
	p.heading(1, "Performance")
	intro(p, r)
	studySection(p, r)
	latencySection(p, r)
	sweepSection(p, r.Sweep)
	nativeVMSection(p, r.NativeVsVM)
	accountsSection(p, r.Accounts)
	nodesSection(p, r.Nodes)
	profileSection(p, r)
	p.heading(2, "Micro-benchmarks")
	p.para("Each component measured alone with `go test -bench` (signature verification, block apply, the VM, " +
		"the cold chain's checkpoints, codecs) is in [docs/benchmarks.md](benchmarks.md); `make bench` reruns them.")
	return p
}
