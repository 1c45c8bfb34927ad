package perfreport

import (
	"cmp"
	"fmt"
	"strings"

	"gonum.org/v1/plot"
)

// page is the report being written: its markdown and the charts the
// markdown embeds.
type page struct {
	b      strings.Builder
	charts []chart
	err    error // the first chart that could not be drawn
}

// chart is one PNG the page embeds, under perf/.
type chart struct {
	file string // "sweep.png"
	plot *plot.Plot
}

// chartDir is where the charts go, relative to the markdown file.
const chartDir = "perf"

func (p *page) heading(level int, title string) {
	fmt.Fprintf(&p.b, "%s %s\n\n", strings.Repeat("#", level), title)
}

func (p *page) para(format string, args ...any) {
	fmt.Fprintf(&p.b, format, args...)
	p.b.WriteString("\n\n")
}

// notMeasured is the sentence an empty section gets.
func (p *page) notMeasured(what string) {
	p.para("Not measured in this run: %s.", what)
}

func (p *page) table(head []string, rows [][]string) {
	p.row(head)
	p.b.WriteString(strings.Repeat("|---", len(head)) + "|\n")
	for _, r := range rows {
		p.row(r)
	}
	p.b.WriteString("\n")
}

func (p *page) row(cells []string) {
	for _, c := range cells {
		p.b.WriteString("| " + strings.ReplaceAll(c, "|", `\|`) + " ")
	}
	p.b.WriteString("|\n")
}

// image embeds a chart and keeps it to be saved with the page; err is
// the error of building the chart, kept for Write to return.
func (p *page) image(file, alt string, pl *plot.Plot, err error) {
	if err != nil {
		p.err = cmp.Or(p.err, fmt.Errorf("perfreport: chart %s: %w", file, err))
		return
	}
	p.charts = append(p.charts, chart{file: file, plot: pl})
	fmt.Fprintf(&p.b, "![%s](%s/%s)\n\n", alt, chartDir, file)
}
