package smoke

import (
	"fmt"
	"io"
	"strings"
)

// Write prints the report: one line per check with what it saw, the
// failures of the failed ones, and the verdict; or why no check ran.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "smoke: env %s: %s\n", r.Env, r.Target)
	if r.Access != "" {
		fmt.Fprintf(w, "smoke: access mode %s\n", r.Access)
	}
	fmt.Fprintf(w, "smoke: run %s, visibility deadline %s\n", r.RunID, r.Timeout)
	if r.Err != nil {
		fmt.Fprintf(w, "smoke: FAIL: no check ran: %v\n", r.Err)
		return
	}
	passed := 0
	for _, c := range r.Checks {
		status := "FAIL"
		if c.Passed {
			status, passed = "PASS", passed+1
		}
		fmt.Fprintf(w, "  %s  %d  %s\n", status, c.ID, c.Name)
		if c.Detail != "" {
			fmt.Fprintf(w, "           %s\n", strings.ReplaceAll(c.Detail, "\n", "\n           "))
		}
		for _, f := range c.Failures {
			fmt.Fprintf(w, "         ✗ %s\n", strings.ReplaceAll(f, "\n", "\n           "))
		}
	}
	verdict := "FAIL"
	if r.Passed() {
		verdict = "PASS"
	}
	visibility := fmt.Sprintf("the dump was not visible within %s", r.Timeout)
	if r.Visibility > 0 {
		visibility = "the dump was visible ≤ " + ms(r.Visibility) + " after the 2xx"
	}
	fmt.Fprintf(w, "smoke: %s (%d/%d checks passed) in %s; %s\n", verdict, passed, len(r.Checks), ms(r.Elapsed), visibility)
}
