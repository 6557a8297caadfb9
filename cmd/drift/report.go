package main

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Report is the drift report of one root's plan.
type Report struct {
	Root   string // the root's name: an env, or global
	Dir    string // its directory, e.g. envs/prod
	RunURL string // the run that planned it
	Commit string // the commit planned
	Plan   *tfjson.Plan
}

// change is one resource in a section of the report.
type change struct {
	address    string
	action     string
	attributes []string
}

// Drifted returns the resources Terraform found changed outside Terraform
// (the plan's resource_drift) and the resources applying the code would
// change (its resource_changes, data sources and no-ops left out).
func (r Report) Drifted() (outside, apply []change) {
	for _, rc := range r.Plan.ResourceDrift {
		outside = append(outside, describe(rc))
	}
	for _, rc := range r.Plan.ResourceChanges {
		if rc.Mode != tfjson.ManagedResourceMode || rc.Change.Actions.NoOp() || rc.Change.Actions.Read() {
			continue
		}
		apply = append(apply, describe(rc))
	}
	return outside, apply
}

// Markdown is the body of the root's drift issue. A plan with nothing in
// it to report is an error: scripts/drift.sh asks for a report only when
// terraform plan said there were changes.
func (r Report) Markdown() (string, error) {
	outside, apply := r.Drifted()
	var outputs []string
	for name, c := range r.Plan.OutputChanges {
		if !c.Actions.NoOp() {
			outputs = append(outputs, name)
		}
	}
	sort.Strings(outputs)
	if len(outside)+len(apply)+len(outputs) == 0 {
		return "", errors.New("the plan changes nothing: no drift to report")
	}

	var b strings.Builder
	fmt.Fprintf(&b, "`terraform plan` of **%s** (`%s`) found that AWS no longer matches the code.\n\n", r.Root, r.Dir)
	if r.RunURL != "" {
		fmt.Fprintf(&b, "- run: %s\n", r.RunURL)
	}
	if r.Commit != "" {
		fmt.Fprintf(&b, "- commit: `%s`\n", r.Commit)
	}
	if len(outside) > 0 {
		b.WriteString("\n#### Changed outside Terraform\n\n| resource | change | attributes |\n| --- | --- | --- |\n")
		for _, c := range outside {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.address, c.action, codeList(c.attributes))
		}
	}
	if len(apply) > 0 {
		b.WriteString("\n#### What applying the code would do\n\n| resource | action | attributes |\n| --- | --- | --- |\n")
		for _, c := range apply {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.address, c.action, codeList(c.attributes))
		}
	}
	if len(outputs) > 0 {
		fmt.Fprintf(&b, "\nOutputs that would change: %s.\n", codeList(outputs))
	}
	fmt.Fprintf(&b, "\nTo bring AWS back to the code, plan and apply %s through Atlantis in a pull request (`atlantis plan -p %s`); "+
		"if the change in AWS was meant, put it into the code instead. Values are left out here; the run's log has the plan. "+
		"Every drift run updates this issue, and the first run that finds no drift closes it.\n", r.Root, r.Root)
	return b.String(), nil
}

func describe(rc *tfjson.ResourceChange) change {
	return change{address: rc.Address, action: action(rc.Change.Actions), attributes: changedAttributes(rc.Change)}
}

func action(a tfjson.Actions) string {
	switch {
	case a.Replace():
		return "replace"
	case a.Create():
		return "create"
	case a.Delete():
		return "delete"
	case a.Update():
		return "update"
	}
	return strings.Join(actionStrings(a), ", ")
}

func actionStrings(a tfjson.Actions) []string {
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = string(x)
	}
	return out
}

// changedAttributes lists the top-level attributes of an update or a
// replacement whose planned value differs from the current one. Those
// known only after the apply (ids, timestamps, versions) are left out:
// they change with any update.
func changedAttributes(c *tfjson.Change) []string {
	if !c.Actions.Update() && !c.Actions.Replace() {
		return nil
	}
	before, _ := c.Before.(map[string]any)
	after, _ := c.After.(map[string]any)
	unknown, _ := c.AfterUnknown.(map[string]any)
	var out []string
	for k := range keys(before, after) {
		if unknown[k] == true {
			continue
		}
		if !reflect.DeepEqual(before[k], after[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func keys(maps ...map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, m := range maps {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

func codeList(items []string) string {
	if len(items) == 0 {
		return ""
	}
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = "`" + s + "`"
	}
	return strings.Join(quoted, ", ")
}
