package dump

import (
	"testing"

	"github.com/acme/request-dump/internal/proctest"
)

// TestScriptsRefuseBadArguments: the benchmark and fuzz entry points
// refuse bad arguments and settings with exit status 2 and a message that
// says what they take, before they build or run anything.
func TestScriptsRefuseBadArguments(t *testing.T) {
	proctest.RequireUsageErrors(t, []proctest.UsageError{
		{Script: "bench.sh", Args: []string{"-count"}, Want: "usage: scripts/bench.sh [-count N]"},
		{Script: "bench.sh", Args: []string{"-count", "0"}, Want: "bench.sh: -count must be a whole number above 0, not '0'"},
		{Script: "bench.sh", Args: []string{"-count", "five"}, Want: "bench.sh: -count must be a whole number above 0, not 'five'"},
		{Script: "bench.sh", Args: []string{"--fast"}, Want: "bench.sh: unknown argument '--fast'"},
		{Script: "fuzz.sh", Args: []string{"60s"}, Want: "usage: FUZZTIME=60s scripts/fuzz.sh (no arguments)"},
		{Script: "fuzz.sh", Env: []string{"FUZZTIME=0s"}, Want: "FUZZTIME must be a duration above 0 like 60s or 5m, or a count like 10000x, not '0s'"},
		{Script: "fuzz.sh", Env: []string{"FUZZTIME=-5s"}, Want: "not '-5s'"},
		{Script: "fuzz.sh", Env: []string{"FUZZTIME=60"}, Want: "not '60'"},
		{Script: "fuzz.sh", Env: []string{"FUZZTIME=abc5s"}, Want: "not 'abc5s'"},
	})
}
