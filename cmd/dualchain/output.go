package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
)

// field is one line of human output: a label and its value.
type field struct {
	label string
	value any
}

// print writes v as indented JSON with --json, else the fields aligned.
func (a *app) print(v any, fields ...field) error {
	if a.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%v\n", f.label, f.value)
	}
	return tw.Flush()
}
