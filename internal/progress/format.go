package progress

import (
	"fmt"
	"strconv"
	"time"
)

// Line is a task's progress in words: "label: 1,200/5,000, 6,000/s, 0.2s",
// or, with no total, "label... 1.5s" (with a count if one was added).
func Line(label string, n, total int64, elapsed time.Duration) string {
	secs := Seconds(elapsed)
	switch {
	case total > 0:
		return fmt.Sprintf("%s: %s/%s, %s, %s", label, Count(n), Count(total), Rate(n, elapsed), secs)
	case n > 0:
		return fmt.Sprintf("%s... %s, %s", label, Count(n), secs)
	}
	return fmt.Sprintf("%s... %s", label, secs)
}

// Count writes n with a comma between each group of three digits.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Rate is n per second over elapsed, as "12,345/s".
func Rate(n int64, elapsed time.Duration) string {
	return Count(PerSecond(n, elapsed)) + "/s"
}

// PerSecond is n per second over elapsed, rounded; 0 when no time passed.
func PerSecond(n int64, elapsed time.Duration) int64 {
	if elapsed <= 0 {
		return 0
	}
	return int64(float64(n)/elapsed.Seconds() + 0.5)
}

// Seconds writes d as seconds with one decimal ("1.5s"), or as
// milliseconds under a second ("340ms").
func Seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
