package archtest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// TestImportRules checks the real module: every package has a doc.go and
// keeps its own import rules and ARCHITECTURE §11's.
func TestImportRules(t *testing.T) {
	module, pkgs, err := List(t.Context(), ".")
	if err != nil {
		t.Fatalf("List(.) = %v", err)
	}
	// The listing must include this package and ledger, or the check
	// below could pass by seeing nothing.
	for _, want := range []string{"ledger", "internal/archtest"} {
		if !slices.ContainsFunc(pkgs, func(p Package) bool { return p.Path == want }) {
			t.Fatalf("List(.) = %d packages of %s, want one of them to be %s", len(pkgs), module, want)
		}
	}
	for _, v := range Check(module, pkgs, ModuleRules()) {
		t.Errorf("%v", v)
	}
}

// TestListFixture runs List and Check on testdata/fixture, a module with
// known violations, one of them only in a file behind a build tag.
func TestListFixture(t *testing.T) {
	module, pkgs, err := List(t.Context(), "testdata/fixture")
	if err != nil {
		t.Fatalf("List(testdata/fixture) = %v", err)
	}
	if module != "example.com/fixture" {
		t.Errorf("List(testdata/fixture) module = %q, want example.com/fixture", module)
	}
	var paths []string
	for _, p := range pkgs {
		paths = append(paths, p.Path)
	}
	// testonly has only test files: it is not a package of the build.
	if want := []string{"coldchain", "hotchain", "ledger", "node", "node/sub"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("List(testdata/fixture) packages = %v, want %v", paths, want)
	}
	got := lines(Check(module, pkgs, ModuleRules()))
	want := []string{
		"package hotchain imports example.com/fixture/node/sub: forbidden by its doc.go",
		"package hotchain imports example.com/fixture/coldchain: " + peersWhy,
		"package ledger imports example.com/fixture/node/sub: " + ledgerWhy,
		"package node/sub: no doc.go (STYLE guideline 1)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Check(fixture) =\n%q\nwant\n%q", got, want)
	}
}

const (
	ledgerWhy = "ledger imports none of the project's packages (ARCHITECTURE §11)"
	peersWhy  = "hotchain, coldchain, bridge and consensus never import one another; node wires them (ARCHITECTURE §11)"
)

// TestCheck feeds the checker synthetic package lists.
func TestCheck(t *testing.T) {
	const m = "example.com/m"
	pkg := func(path string, mustNot []string, imports ...string) Package {
		return Package{Path: path, HasDoc: true, MustNotImport: mustNot, Imports: imports}
	}
	tests := []struct {
		name string
		pkgs []Package
		want []string
	}{
		{"clean", []Package{
			pkg("ledger", nil, "fmt", "github.com/fxamacker/cbor/v2"),
			pkg("hotchain", []string{"node"}, m+"/ledger", "github.com/redis/go-redis/v9"),
			pkg("node", nil, m+"/hotchain", m+"/coldchain", m+"/bridge", m+"/consensus"),
		}, nil},
		{"missing doc.go", []Package{{Path: "api"}}, []string{"package api: no doc.go (STYLE guideline 1)"}},
		{"ledger imports the module", []Package{pkg("ledger", nil, "fmt", m+"/vm")},
			[]string{"package ledger imports " + m + "/vm: " + ledgerWhy}},
		{"ledger sub-package imports the module", []Package{pkg("ledger/internal/x", nil, m+"/api/client")},
			[]string{"package ledger/internal/x imports " + m + "/api/client: " + ledgerWhy}},
		{"ledger imports its own sub-package", []Package{pkg("ledger", nil, m+"/ledger/internal/x")}, nil},
		{"ledger imports a look-alike module", []Package{pkg("ledger", nil, m+"2/vm")}, nil},
		{"peers import one another", []Package{
			pkg("hotchain", nil, m+"/coldchain"),
			pkg("bridge", nil, m+"/consensus/fsm"),
			pkg("consensus/fsm", nil, m+"/hotchain"),
			pkg("coldchain", nil, m+"/bridge", m+"/coldchain/merkle"),
		}, []string{
			"package hotchain imports " + m + "/coldchain: " + peersWhy,
			"package bridge imports " + m + "/consensus/fsm: " + peersWhy,
			"package consensus/fsm imports " + m + "/hotchain: " + peersWhy,
			"package coldchain imports " + m + "/bridge: " + peersWhy,
		}},
		{"look-alike names are not peers", []Package{pkg("hotchainx", nil, m+"/coldchainx"), pkg("hotchain", nil, m+"/coldchainx")}, nil},
		{"doc.go rule, package and sub-package", []Package{
			pkg("node", []string{"cmd"}, m+"/cmd", m+"/cmd/dualchain", m+"/cmdx", "cmd/go"),
		}, []string{
			"package node imports " + m + "/cmd: forbidden by its doc.go",
			"package node imports " + m + "/cmd/dualchain: forbidden by its doc.go",
		}},
		{"doc.go rule holds for the package only", []Package{
			pkg("vm", []string{"hotchain"}, "fmt"),
			pkg("api", nil, m+"/hotchain"),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lines(Check(m, tt.pkgs, ModuleRules()))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check(%v) =\n%q\nwant\n%q", tt.pkgs, got, tt.want)
			}
		})
	}
}

func TestParseMustNotImport(t *testing.T) {
	tests := []struct {
		doc     string
		want    []string
		wantErr bool
	}{
		{"// Package x does x.\npackage x\n", nil, false},
		{"// Must not import: cmd\npackage x\n", []string{"cmd"}, false},
		{"//Must not import: a, b/c ,d.\n", []string{"a", "b/c", "d"}, false},
		{"// Must not import: a\n//\n// Must not import: b\n", []string{"a", "b"}, false},
		{"\t// Must not import: hotchain, coldchain\n", []string{"hotchain", "coldchain"}, false},
		{"// It must not import anything heavy.\n", nil, false},
		{"// Must not import:\n", nil, true},
		{"// Must not import: a,, b\n", nil, true},
		{"// Must not import: github.com/dualchain/dualchain/cmd\n", nil, true},
		{"// Must not import: the node package\n", nil, true},
		{"// Must not import: /cmd\n", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseMustNotImport([]byte(tt.doc))
		if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrBadRule)) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMustNotImport(%q) = %q, %v, want %q, error %v", tt.doc, got, err, tt.want, tt.wantErr)
		}
	}
}

func lines(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprint(v))
	}
	return out
}
