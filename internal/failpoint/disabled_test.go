//go:build !failpoints

package failpoint

import "testing"

// TestDisabled: without the tag nothing fires, whatever is armed where.
func TestDisabled(t *testing.T) {
	if Enabled || Inject(HotApplied) != nil || Offset(ClockSkew) != 0 || DebugHandler() != nil {
		t.Errorf("without the failpoints tag: Enabled %v, Inject %v, Offset %v, DebugHandler %v; want false, nil, 0, nil",
			Enabled, Inject(HotApplied), Offset(ClockSkew), DebugHandler())
	}
}
