package perfreport

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/dualchain/dualchain/internal/bench"
	"github.com/dualchain/dualchain/internal/progress"
)

// The charts' file names, under perf/.
const (
	sweepThroughputPNG = "sweep-throughput.png"
	sweepLatencyPNG    = "sweep-latency.png"
	latencyCDFPNG      = "latency-cdf.png"
	nativeVMPNG        = "native-vs-vm.png"
	accountsPNG        = "accounts.png"
	nodesPNG           = "nodes.png"
)

// newPlot is an empty chart with a grid and thousands separators on both
// axes.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Tick.Marker = countTicks{plot.DefaultTicks{}}
	p.Y.Tick.Marker = countTicks{plot.DefaultTicks{}}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	return p
}

// series is one line of a chart.
type series struct {
	name   string
	xys    plotter.XYs
	dashed bool // a reference line, not a measurement
	marks  bool // points at the measurements
}

// addSeries draws each series in its own colour, with a legend entry when
// there is more than one.
func addSeries(p *plot.Plot, ss ...series) error {
	for i, s := range ss {
		line, err := plotter.NewLine(s.xys)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		if s.dashed {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(line)
		if s.marks {
			dots, err := plotter.NewScatter(s.xys)
			if err != nil {
				return err
			}
			dots.Color = plotutil.Color(i)
			p.Add(dots)
		}
		if len(ss) > 1 {
			p.Legend.Add(s.name, line)
		}
	}
	return nil
}

// points are the finite (x, y) pairs of rs, in order.
func points(rs []bench.Result, x, y func(bench.Result) float64) plotter.XYs {
	var out plotter.XYs
	for _, r := range rs {
		if pt := (plotter.XY{X: x(r), Y: y(r)}); finite(pt.X) && finite(pt.Y) {
			out = append(out, pt)
		}
	}
	return out
}

// positive keeps the points a log scale can show.
func positive(xys plotter.XYs, onX bool) plotter.XYs {
	var out plotter.XYs
	for _, pt := range xys {
		if (onX && pt.X > 0) || (!onX && pt.Y > 0) {
			out = append(out, pt)
		}
	}
	return out
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// logAxis makes a an axis of whole decades on a log scale. It leaves an
// axis with no positive data linear, as a log scale cannot show it.
func logAxis(a *plot.Axis) {
	if !(a.Min > 0) || !finite(a.Max) {
		return
	}
	a.Min = math.Pow(10, math.Floor(math.Log10(a.Min)))
	a.Max = math.Max(math.Pow(10, math.Ceil(math.Log10(a.Max))), 10*a.Min)
	a.Scale = plot.LogScale{}
	a.Tick.Marker = countTicks{plot.LogTicks{Prec: -1}}
}

// fromZero starts a linear axis at zero, so bars and rates compare, and
// leaves room above the highest value.
func fromZero(a *plot.Axis) {
	a.Min = math.Min(a.Min, 0)
	if finite(a.Max) && a.Max > 0 {
		a.Max *= 1 + headroom
	}
}

// headroom is the space left above a chart's highest value, as a share
// of it.
const headroom = 0.1

// countTicks relabels another ticker's labelled ticks with thousands
// separators: 12,000 rather than 12000.
type countTicks struct{ plot.Ticker }

func (t countTicks) Ticks(min, max float64) []plot.Tick {
	ts := t.Ticker.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = tickLabel(ts[i].Value)
		}
	}
	return ts
}

func tickLabel(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return progress.Count(int64(v))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
