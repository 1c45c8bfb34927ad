package demo

import (
	"fmt"
	"io"

	"github.com/dualchain/dualchain/internal/progress"
)

// indent starts every line of a step under its number.
const indent = "   "

// narrator writes the story: a header per step, lines of figures, and
// the step's ✓ or ✗.
type narrator struct {
	w    io.Writer
	prog *progress.Display
}

// printf writes an unindented line.
func (n *narrator) printf(format string, args ...any) {
	fmt.Fprintf(n.w, format+"\n", args...)
}

// header starts step num.
func (n *narrator) header(num int, title string) {
	fmt.Fprintf(n.w, "\n%d. %s\n", num, title)
}

// linef writes a line of a step.
func (n *narrator) linef(format string, args ...any) {
	fmt.Fprintf(n.w, indent+format+"\n", args...)
}

// end writes a step's verdict line.
func (n *narrator) end(status, text string) {
	mark := map[string]string{StatusPass: "✓", StatusFail: "✗", StatusSkipped: "–"}[status]
	if status == StatusSkipped {
		text = "skipped: " + text
	}
	fmt.Fprintf(n.w, "%s%s %s\n", indent, mark, text)
}

// start shows a long operation's progress until its Task is done.
func (n *narrator) start(label string, total int) *progress.Task {
	return n.prog.Start(label, int64(total))
}
