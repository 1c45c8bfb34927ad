package audit

import (
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
)

func TestConservationDetail(t *testing.T) {
	tests := []struct {
		au   api.Audit
		want string
	}{
		{api.Audit{Supply: 10, HotBalances: 4, ColdBalances: 3, InFlightSettles: 2, InFlightDeposits: 1},
			"hot 4 + cold 3 + settling 2 + depositing 1 = 10 = supply 10"},
		{api.Audit{Supply: 10, HotBalances: 4},
			"hot 4 + cold 0 + settling 0 + depositing 0 = 4 ≠ supply 10"},
		{api.Audit{Supply: 10, HotBalances: 1 << 63, ColdBalances: 1 << 63, InFlightSettles: 10},
			"hot 9223372036854775808 + cold 9223372036854775808 + settling 10 + depositing 0 = more than 2^64 ≠ supply 10"},
	}
	for _, tt := range tests {
		if got := Conservation(&tt.au); got != tt.want {
			t.Errorf("Conservation(%+v) = %q, want %q", tt.au, got, tt.want)
		}
		if pass := NodeChecks(Node{ID: "n1", Audit: &tt.au})[1].Pass; pass != strings.Contains(tt.want, "= supply") {
			t.Errorf("conservation check of %+v passes: %v, want the opposite", tt.au, pass)
		}
	}
}
