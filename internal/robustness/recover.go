package robustness

import (
	"fmt"

	"github.com/dualchain/dualchain/api"
)

// agree returns "" if every node answered, has caught up, and all follow
// the one leader there is, within maxLag hot blocks of the highest; else
// why not.
func agree(ids []string, sts []*api.Status) string {
	leaders, top := 0, uint64(0)
	for i, st := range sts {
		switch {
		case st == nil:
			return ids[i] + " does not answer"
		case !st.CaughtUp:
			return fmt.Sprintf("%s has not caught up (applied %d, commit %d)", ids[i], st.AppliedIndex, st.CommitIndex)
		case st.Leader:
			leaders++
		}
		top = max(top, st.Height)
	}
	if leaders != 1 {
		return fmt.Sprintf("%d nodes say they lead", leaders)
	}
	for i, st := range sts {
		if st.LeaderID != sts[0].LeaderID || st.LeaderID == "" {
			return fmt.Sprintf("%s follows %q, %s follows %q", ids[0], sts[0].LeaderID, ids[i], st.LeaderID)
		}
		if st.Height+maxLag < top {
			return fmt.Sprintf("%s at height %d, %d behind", ids[i], st.Height, top-st.Height)
		}
	}
	return ""
}
