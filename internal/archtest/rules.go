package archtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrBadRule reports a "Must not import" line that cannot be parsed.
var ErrBadRule = errors.New("archtest: malformed import rule")

// Package is what the checker needs to know about one package of the
// module. Paths are module-relative ("ledger", "contracts/token"); imports
// are full import paths.
type Package struct {
	Path          string
	HasDoc        bool
	MustNotImport []string // module-relative, from doc.go
	Imports       []string
}

// Rule forbids packages matching From to import packages matching Not.
// Both are module-relative paths; a path matches itself and everything
// under it, and "" matches the whole module. A package may always import
// its own sub-packages.
type Rule struct {
	From string
	Not  []string
	Why  string
}

// ModuleRules are ARCHITECTURE §11's rules: ledger imports none of the
// project's packages, and the four state and replication packages never
// import one another (node wires them).
func ModuleRules() []Rule {
	rules := []Rule{{From: "ledger", Not: []string{""}, Why: "ledger imports none of the project's packages (ARCHITECTURE §11)"}}
	peers := []string{"hotchain", "coldchain", "bridge", "consensus"}
	for _, p := range peers {
		others := slices.DeleteFunc(slices.Clone(peers), func(q string) bool { return q == p })
		rules = append(rules, Rule{From: p, Not: others, Why: "hotchain, coldchain, bridge and consensus never import one another; node wires them (ARCHITECTURE §11)"})
	}
	return rules
}

// Violation is one broken rule.
type Violation struct {
	Package string // module-relative
	Import  string // full import path, or "" for a missing doc.go
	Why     string
}

func (v Violation) String() string {
	if v.Import == "" {
		return fmt.Sprintf("package %s: %s", v.Package, v.Why)
	}
	return fmt.Sprintf("package %s imports %s: %s", v.Package, v.Import, v.Why)
}

// Check returns every violation in pkgs of module's rules, in package order.
func Check(module string, pkgs []Package, rules []Rule) []Violation {
	var out []Violation
	for _, p := range pkgs {
		if !p.HasDoc {
			out = append(out, Violation{Package: p.Path, Why: "no doc.go (STYLE guideline 1)"})
		}
		own := Rule{From: p.Path, Not: p.MustNotImport, Why: "forbidden by its doc.go"}
		for _, r := range append([]Rule{own}, rules...) {
			if !within(p.Path, r.From) {
				continue
			}
			for _, imp := range p.Imports {
				if forbids(module, r, imp) {
					out = append(out, Violation{Package: p.Path, Import: imp, Why: r.Why})
				}
			}
		}
	}
	return out
}

// forbids reports whether r forbids importing the full path imp.
func forbids(module string, r Rule, imp string) bool {
	rel, ok := strings.CutPrefix(imp, module)
	if !ok || (rel != "" && rel[0] != '/') {
		return false // outside the module
	}
	rel = strings.TrimPrefix(rel, "/")
	for _, not := range r.Not {
		if within(rel, not) && !within(rel, r.From) {
			return true
		}
	}
	return false
}

// within reports whether the module-relative path p is dir or under it;
// the empty dir is the whole module.
func within(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}

// ParseMustNotImport returns the packages the "// Must not import:" lines
// of a doc.go forbid.
func ParseMustNotImport(doc []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "//"))
		list, ok := strings.CutPrefix(line, "Must not import:")
		if !ok {
			continue
		}
		for _, e := range strings.Split(list, ",") {
			e = strings.TrimSuffix(strings.TrimSpace(e), ".")
			if !validRel(e) {
				return nil, fmt.Errorf("%w: %q: want module-relative package paths separated by commas", ErrBadRule, line)
			}
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// validRel reports whether e looks like a module-relative package path.
func validRel(e string) bool {
	if e == "" || strings.ContainsAny(e, " \t.\\") || strings.HasPrefix(e, "/") || strings.HasSuffix(e, "/") {
		return false
	}
	return !strings.Contains(e, "//")
}
