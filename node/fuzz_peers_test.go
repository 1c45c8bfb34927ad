package node

import (
	"strings"
	"testing"
)

// FuzzParsePeers checks the --peers flag's parser: it never panics, and
// every peer it returns has an id, a Raft address and a URL, with ids
// unique.
func FuzzParsePeers(f *testing.F) {
	for _, s := range []string{"", "n1=127.0.0.1:9001=http://127.0.0.1:8001/", "n1=a=/", "n1=a=b,n2=c=d", "n1=a=b,n1=c=d", "n1=a", ",,=,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		peers, err := ParsePeers(s)
		if err != nil {
			return
		}
		seen := make(map[string]bool)
		for _, p := range peers {
			if p.ID == "" || p.RaftAddr == "" || p.URL == "" || seen[p.ID] || strings.HasSuffix(p.URL, "/") {
				t.Fatalf("ParsePeers(%q) = %+v: a peer without id, address or URL, a repeated id or a URL ending in /", s, peers)
			}
			seen[p.ID] = true
		}
	})
}
